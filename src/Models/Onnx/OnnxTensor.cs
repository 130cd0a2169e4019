namespace KeypointService.Models.Onnx;

/// <summary>
/// A named float32 tensor in row-major order, as <see cref="OnnxSession.Run(IReadOnlyList{OnnxInput}, IReadOnlyList{string})"/> returns it. The constructor
/// checks that every dimension is non-negative and that <see cref="Data"/> holds exactly the product of
/// <see cref="Shape"/> elements. <see cref="Shape"/> is copied; <see cref="Data"/> is not (an output's
/// array is a fresh copy that belongs to the caller).
/// </summary>
public sealed record OnnxTensor(string Name, long[] Shape, float[] Data)
{
    public string Name { get; } = !string.IsNullOrEmpty(Name) ? Name : throw new ArgumentException("Tensor name must not be empty.", nameof(Name));

    public long[] Shape { get; } = OnnxShape.Check(Name, Shape);

    public float[] Data { get; } = OnnxShape.CheckData(Name, Shape, Data);

    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => Data.LongLength;

    /// <summary>This tensor as a Run input; its array is handed to ONNX Runtime without a copy.</summary>
    public static implicit operator OnnxInput(OnnxTensor tensor) => new(tensor.Name, tensor.Shape, tensor.Data);

    public override string ToString() => $"{Name}: float[{string.Join(",", Shape)}]";
}

/// <summary>
/// A float32 input for <see cref="OnnxSession.Run(IReadOnlyList{OnnxInput}, IReadOnlyList{string})"/> over caller-owned memory, typically a slice of a
/// pooled array: ONNX Runtime reads it in place (pinned for the call, no copy), so do not change or return
/// the buffer while the Run is in progress. <see cref="Data"/> must hold exactly the product of
/// <see cref="Shape"/> elements.
/// </summary>
public readonly record struct OnnxInput
{
    public OnnxInput(string name, long[] shape, Memory<float> data)
    {
        Name = !string.IsNullOrEmpty(name) ? name : throw new ArgumentException("Input name must not be empty.", nameof(name));
        Shape = OnnxShape.Check(name, shape);
        OnnxShape.CheckLength(name, Shape, data.Length);
        Data = data;
    }

    public string Name { get; }
    public long[] Shape { get; }
    public Memory<float> Data { get; }
}

/// <summary>
/// A model input or output as the session reports it. <see cref="Shape"/> has -1 for dynamic dimensions,
/// <see cref="SymbolicShape"/> their names ("" for fixed or unnamed ones). <see cref="ElementType"/> is
/// ONNX Runtime's name of the element type ("Float", "Int64", ...); "" for a non-tensor value.
/// </summary>
public sealed record OnnxNodeInfo(string Name, string ElementType, long[] Shape, string[] SymbolicShape)
{
    /// <summary>A float32 tensor: the only kind of output the wrapper returns.</summary>
    public bool IsFloat => ElementType == nameof(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float);

    public override string ToString() => $"{Name}: {ElementType}[{string.Join(",", Shape)}]";
}

internal static class OnnxShape
{
    /// <summary>A copy of <paramref name="shape"/>; throws when a dimension is negative.</summary>
    public static long[] Check(string name, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"Tensor '{name}' has a negative dimension in shape [{string.Join(",", shape)}].", nameof(shape));
        return (long[])shape.Clone();
    }

    /// <summary><paramref name="data"/>, after checking that it holds exactly the product of <paramref name="shape"/> values.</summary>
    public static float[] CheckData(string name, long[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckLength(name, shape, data.LongLength);
        return data;
    }

    /// <summary>Throws unless <paramref name="length"/> is the product of <paramref name="shape"/>.</summary>
    public static long CheckLength(string name, long[] shape, long length)
    {
        long count;
        try
        {
            count = ElementCountOf(shape);
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"Tensor '{name}' shape [{string.Join(",", shape)}] is too large.", nameof(shape));
        }
        if (length != count)
            throw new ArgumentException($"Tensor '{name}' has {length} values but shape [{string.Join(",", shape)}] needs {count}.", nameof(shape));
        return count;
    }

    /// <summary>The product of the dimensions, checked for overflow.</summary>
    public static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape) count = checked(count * d);
        return count;
    }
}
