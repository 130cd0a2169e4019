using System.Buffers.Binary;
using System.Text;
using KeypointService.Models.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KeypointService.Models.Tests.Onnx;

/// <summary>
/// Writes small ONNX models by hand-encoding the ModelProto protobuf (onnx/onnx.proto), so the C# tests
/// need neither Python nor committed model files. Covers what the tests use: float/int64 value infos with
/// fixed or symbolic dimensions, float initializers, attribute-free nodes, metadata_props.
/// </summary>
internal sealed class OnnxModelBuilder
{
    /// <summary>A dimension: a fixed size or a symbolic name (dynamic).</summary>
    public readonly record struct Dim(long? Value, string? Param)
    {
        public static implicit operator Dim(int value) => new(value, null);
        public static implicit operator Dim(long value) => new(value, null);
        public static implicit operator Dim(string param) => new(null, param);
    }

    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _initializers = [];
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];
    private readonly List<(string Key, string Value)> _metadata = [];

    public long IrVersion { get; init; } = 7;
    public long Opset { get; init; } = 13;
    public string ProducerName { get; init; } = "keypointservice-tests";
    public string GraphName { get; init; } = "test_graph";
    public string Domain { get; init; } = "";
    public string DocString { get; init; } = "";
    public long ModelVersion { get; init; }

    public OnnxModelBuilder Input(string name, Dim[] shape, TensorElementType type = TensorElementType.Float)
    {
        _inputs.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxModelBuilder Output(string name, Dim[] shape, TensorElementType type = TensorElementType.Float)
    {
        _outputs.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxModelBuilder Initializer(string name, long[] dims, float[] values)
    {
        // TensorProto: dims = 1, data_type = 2, float_data = 4 (packed), name = 8
        var w = new ProtoWriter();
        foreach (var d in dims) w.Int64(1, d);
        w.Int64(2, (long)TensorElementType.Float);
        w.PackedFloats(4, values);
        w.String(8, name);
        _initializers.Add(w.ToArray());
        return this;
    }

    public OnnxModelBuilder Node(string opType, string[] inputs, string[] outputs)
    {
        // NodeProto: input = 1, output = 2, name = 3, op_type = 4
        var w = new ProtoWriter();
        foreach (var i in inputs) w.String(1, i);
        foreach (var o in outputs) w.String(2, o);
        w.String(3, $"{opType}_{_nodes.Count}");
        w.String(4, opType);
        _nodes.Add(w.ToArray());
        return this;
    }

    public OnnxModelBuilder Metadata(string key, string value)
    {
        _metadata.Add((key, value));
        return this;
    }

    public byte[] Build()
    {
        // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12
        var graph = new ProtoWriter();
        foreach (var n in _nodes) graph.Bytes(1, n);
        graph.String(2, GraphName);
        foreach (var i in _initializers) graph.Bytes(5, i);
        foreach (var i in _inputs) graph.Bytes(11, i);
        foreach (var o in _outputs) graph.Bytes(12, o);

        // ModelProto: ir_version = 1, producer_name = 2, domain = 4, model_version = 5, doc_string = 6,
        // graph = 7, opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2), metadata_props = 14
        var model = new ProtoWriter();
        model.Int64(1, IrVersion);
        model.String(2, ProducerName);
        if (Domain.Length > 0) model.String(4, Domain);
        if (ModelVersion != 0) model.Int64(5, ModelVersion);
        if (DocString.Length > 0) model.String(6, DocString);
        model.Bytes(7, graph.ToArray());
        model.Message(8, w => w.String(1, "").Int64(2, Opset));
        foreach (var (key, value) in _metadata) model.Message(14, w => w.String(1, key).String(2, value));
        return model.ToArray();
    }

    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, Build());
        return path;
    }

    private static byte[] ValueInfo(string name, TensorElementType type, Dim[] shape)
    {
        // ValueInfoProto: name = 1, type = 2. TypeProto: tensor_type = 1. TypeProto.Tensor: elem_type = 1,
        // shape = 2. TensorShapeProto: dim = 1. Dimension: dim_value = 1, dim_param = 2.
        var w = new ProtoWriter();
        w.String(1, name);
        w.Message(2, t => t.Message(1, tensor =>
        {
            tensor.Int64(1, (long)type);
            tensor.Message(2, s =>
            {
                foreach (var d in shape)
                    s.Message(1, dim =>
                    {
                        if (d.Value is { } v) dim.Int64(1, v);
                        else if (d.Param is { } param) dim.String(2, param); // neither: an unknown, unnamed dimension
                    });
            });
        }));
        return w.ToArray();
    }

    /// <summary>The protobuf wire format, just the parts ModelProto needs.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _stream = new();

        public byte[] ToArray() => _stream.ToArray();

        public ProtoWriter Int64(int field, long value)
        {
            Tag(field, 0);
            Varint((ulong)value);
            return this;
        }

        public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
        {
            Tag(field, 2);
            Varint((ulong)value.Length);
            _stream.Write(value);
            return this;
        }

        public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter Message(int field, Action<ProtoWriter> write)
        {
            var inner = new ProtoWriter();
            write(inner);
            return Bytes(field, inner.ToArray());
        }

        public ProtoWriter PackedFloats(int field, float[] values)
        {
            var bytes = new byte[values.Length * sizeof(float)];
            for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            return Bytes(field, bytes);
        }

        private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _stream.WriteByte((byte)value);
        }
    }
}
