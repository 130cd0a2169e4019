namespace KeypointService.Models.Onnx;

/// <summary>Tensor element types (enum ONNXTensorElementDataType in onnxruntime_c_api.h).</summary>
public enum OrtElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
}

/// <summary>
/// A model input or output as the session reports it. <see cref="Shape"/> has -1 for dynamic (symbolic
/// or unknown) dimensions. For a non-tensor value (sequence, map, ...) the element type is
/// <see cref="OrtElementType.Undefined"/> and the shape is empty.
/// </summary>
public sealed record OrtNodeInfo(string Name, OrtElementType ElementType, long[] Shape)
{
    public override string ToString() => $"{Name}: {ElementType}[{string.Join(",", Shape)}]";
}

/// <summary>
/// A named float32 tensor in row-major order. The constructor checks that every dimension is
/// non-negative and that <see cref="Data"/> holds exactly the product of <see cref="Shape"/>
/// elements. <see cref="Shape"/> is copied; <see cref="Data"/> is not (inputs are handed to ONNX Runtime
/// without copying, so do not change the array while a Run that uses it is in progress).
/// </summary>
public sealed record OrtTensor(string Name, long[] Shape, float[] Data)
{
    public string Name { get; } = !string.IsNullOrEmpty(Name) ? Name : throw new ArgumentException("Tensor name must not be empty.", nameof(Name));

    public long[] Shape { get; } = CheckShape(Name, Shape);

    public float[] Data { get; } = CheckData(Name, Shape, Data);

    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => Data.LongLength;

    private static long[] CheckShape(string name, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape, nameof(Shape));
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"Tensor '{name}' has a negative dimension in shape [{string.Join(",", shape)}].", nameof(Shape));
        return (long[])shape.Clone();
    }

    private static float[] CheckData(string name, long[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data, nameof(Data));
        long count;
        try
        {
            count = ElementCountOf(shape);
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"Tensor '{name}' shape [{string.Join(",", shape)}] is too large.", nameof(Shape));
        }
        if (data.LongLength != count)
            throw new ArgumentException($"Tensor '{name}' has {data.LongLength} values but shape [{string.Join(",", shape)}] needs {count}.", nameof(Data));
        return data;
    }

    /// <summary>The product of the dimensions, checked for overflow.</summary>
    public static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape) count = checked(count * d);
        return count;
    }

    public override string ToString() => $"{Name}: float[{string.Join(",", Shape)}]";
}
