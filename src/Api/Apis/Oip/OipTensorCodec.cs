using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace KeypointService.Api.Apis.Oip;

/// <summary>
/// The one home of tensor value conversion for REST and gRPC: input values in any numeric datatype
/// and any of the three forms (JSON, raw little-endian bytes, gRPC typed contents) become float32;
/// outputs become little-endian bytes or JSON numbers. Every mismatch is an <see cref="OipException"/>
/// naming the tensor, so a bad tensor is a 400 / INVALID_ARGUMENT, never a 500.
/// </summary>
public static class OipTensorCodec
{
    /// <summary>Decodes <paramref name="count"/> values of <paramref name="type"/> (already checked to be numeric).</summary>
    public static float[] Decode(TensorData data, OipDataType type, long count, string what) => data switch
    {
        JsonTensorData json => FromJson(json.Data, type, count, what),
        RawTensorData raw => FromBytes(raw.Bytes.Span, type, count, what),
        GrpcTensorData grpc => FromContents(grpc.Contents, type, count, what),
        _ => throw new ArgumentOutOfRangeException(nameof(data)),
    };

    private static float[] FromBytes(ReadOnlySpan<byte> bytes, OipDataType type, long count, string what)
    {
        var size = OipDataTypes.Size(type);
        if (bytes.Length != count * size)
            throw OipException.BadRequest($"{what}: {bytes.Length} bytes of {OipDataTypes.Name(type)} data, but the shape needs {count} × {size} = {count * size}");
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            var b = bytes.Slice(i * size, size);
            values[i] = type switch
            {
                OipDataType.Fp32 => BinaryPrimitives.ReadSingleLittleEndian(b),
                OipDataType.Fp64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                OipDataType.Fp16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                OipDataType.UInt8 => b[0],
                OipDataType.Int8 => (sbyte)b[0],
                OipDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
                OipDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
                OipDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
                OipDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                OipDataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
                OipDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                _ => throw new ArgumentOutOfRangeException(nameof(type)),
            };
        }
        return values;
    }

    private static float[] FromJson(JsonElement data, OipDataType type, long count, string what)
    {
        if (data.ValueKind != JsonValueKind.Array)
            throw OipException.BadRequest($"{what}.data must be an array of numbers (flat or nested), got {data.ValueKind.ToString().ToLowerInvariant()}");
        var values = new List<float>((int)Math.Min(count, 1 << 16)); // grows with the data actually sent, not with what the shape claims
        Flatten(data, type, values, count, what);
        if (values.Count != count)
            throw OipException.BadRequest($"{what}: data has {values.Count} values, but the shape needs {count}");
        return values.ToArray();
    }

    private static void Flatten(JsonElement array, OipDataType type, List<float> values, long count, string what)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array) { Flatten(item, type, values, count, what); continue; }
            if (values.Count >= count)
                throw OipException.BadRequest($"{what}: data has more values than the shape's {count}");
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var v))
                throw OipException.BadRequest($"{what}.data[{values.Count}]: expected a number for {OipDataTypes.Name(type)}, got {item.GetRawText()}");
            values.Add(Checked(v, type, values.Count, what));
        }
    }

    private static float[] FromContents(Inference.InferTensorContents c, OipDataType type, long count, string what)
    {
        // The proto's field per datatype ("InferTensorContents"); FP16 has none and must come as raw bytes.
        IReadOnlyList<double>? values = type switch
        {
            OipDataType.Fp32 => c.Fp32Contents.Select(v => (double)v).ToList(),
            OipDataType.Fp64 => c.Fp64Contents,
            OipDataType.Int8 or OipDataType.Int16 or OipDataType.Int32 => c.IntContents.Select(v => (double)v).ToList(),
            OipDataType.Int64 => c.Int64Contents.Select(v => (double)v).ToList(),
            OipDataType.UInt8 or OipDataType.UInt16 or OipDataType.UInt32 => c.UintContents.Select(v => (double)v).ToList(),
            OipDataType.UInt64 => c.Uint64Contents.Select(v => (double)v).ToList(),
            _ => null,
        };
        if (values is null)
            throw OipException.BadRequest($"{what}: {OipDataTypes.Name(type)} has no typed contents field; send it in raw_input_contents");
        if (values.Count != count)
            throw OipException.BadRequest($"{what}: contents hold {values.Count} {OipDataTypes.Name(type)} values, but the shape needs {count}");
        var result = new float[count];
        for (var i = 0; i < result.Length; i++) result[i] = Checked(values[i], type, i, what);
        return result;
    }

    private static float Checked(double v, OipDataType type, int index, string what)
    {
        if (!OipDataTypes.IsInteger(type)) return (float)v;
        var (min, max) = OipDataTypes.Range(type);
        if (v != Math.Floor(v) || v < min || v > max)
            throw OipException.BadRequest($"{what}.data[{index}]: {v.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a {OipDataTypes.Name(type)} value");
        return (float)v;
    }

    /// <summary>Little-endian, row-major bytes of an output (binary extension and gRPC raw_output_contents).</summary>
    public static byte[] ToBytes(OipOutput output)
    {
        ReadOnlySpan<byte> bytes = output.Fp32 is { } f ? MemoryMarshal.AsBytes(f.AsSpan()) : MemoryMarshal.AsBytes(output.Int32!.AsSpan());
        if (BitConverter.IsLittleEndian) return bytes.ToArray();
        var copy = new byte[bytes.Length];
        for (var i = 0; i < copy.Length; i += 4)
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(i), BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]));
        return copy;
    }

    /// <summary>Writes an output's values as a flat JSON array (the specification allows flat or nested).</summary>
    public static void WriteJsonData(Utf8JsonWriter writer, OipOutput output)
    {
        writer.WriteStartArray();
        if (output.Fp32 is { } f)
            foreach (var v in f) writer.WriteNumberValue(v);
        else
            foreach (var v in output.Int32!) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }

    public static int ByteSize(OipOutput output) => 4 * (output.Fp32?.Length ?? output.Int32!.Length);
}
