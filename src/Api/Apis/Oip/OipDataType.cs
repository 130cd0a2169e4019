namespace KeypointService.Api.Apis.Oip;

/// <summary>The protocol's tensor data types ("Tensor Data Types" in the REST specification).</summary>
public enum OipDataType { Bool, UInt8, UInt16, UInt32, UInt64, Int8, Int16, Int32, Int64, Fp16, Fp32, Fp64, Bytes }

public static class OipDataTypes
{
    private static readonly Dictionary<string, OipDataType> ByName = Enum.GetValues<OipDataType>().ToDictionary(Name, StringComparer.Ordinal);

    /// <summary>The wire name: "FP32", "UINT8", ...</summary>
    public static string Name(OipDataType type) => type.ToString().ToUpperInvariant();

    public static bool TryParse(string? name, out OipDataType type) => ByName.TryGetValue(name ?? "", out type);

    /// <summary>Bytes per element in binary form; 0 for BYTES (variable length).</summary>
    public static int Size(OipDataType type) => type switch
    {
        OipDataType.Bool or OipDataType.UInt8 or OipDataType.Int8 => 1,
        OipDataType.UInt16 or OipDataType.Int16 or OipDataType.Fp16 => 2,
        OipDataType.UInt32 or OipDataType.Int32 or OipDataType.Fp32 => 4,
        OipDataType.UInt64 or OipDataType.Int64 or OipDataType.Fp64 => 8,
        _ => 0,
    };

    /// <summary>What an input image or map may be sent as: every numeric type (BOOL and BYTES are not numbers).</summary>
    public static readonly IReadOnlyList<OipDataType> NumericInputs =
        [OipDataType.Fp32, OipDataType.Fp64, OipDataType.Fp16, OipDataType.UInt8, OipDataType.UInt16, OipDataType.UInt32, OipDataType.UInt64,
         OipDataType.Int8, OipDataType.Int16, OipDataType.Int32, OipDataType.Int64];

    public static bool IsInteger(OipDataType type) => type is OipDataType.UInt8 or OipDataType.UInt16 or OipDataType.UInt32 or OipDataType.UInt64
        or OipDataType.Int8 or OipDataType.Int16 or OipDataType.Int32 or OipDataType.Int64;

    /// <summary>The range of an integer type, for checking values given as JSON numbers or gRPC int/uint contents.</summary>
    public static (double Min, double Max) Range(OipDataType type) => type switch
    {
        OipDataType.UInt8 => (byte.MinValue, byte.MaxValue),
        OipDataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        OipDataType.UInt32 => (uint.MinValue, uint.MaxValue),
        OipDataType.UInt64 => (ulong.MinValue, ulong.MaxValue),
        OipDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        OipDataType.Int16 => (short.MinValue, short.MaxValue),
        OipDataType.Int32 => (int.MinValue, int.MaxValue),
        OipDataType.Int64 => (long.MinValue, long.MaxValue),
        _ => (double.NegativeInfinity, double.PositiveInfinity),
    };
}
