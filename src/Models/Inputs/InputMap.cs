using System.Numerics;
using System.Runtime.InteropServices;

namespace KeypointService.Models.Inputs;

/// <summary>What the values of an <see cref="InputMap"/> mean.</summary>
public enum InputValueDomain
{
    /// <summary>Numbers sent as data (JSON rows, CSV, .npy, raw float32), taken as they are.</summary>
    Raw,

    /// <summary>A decoded image: grayscale 0..255 (16-bit samples scaled by 255/65535, colour as luma).</summary>
    Image,
}

/// <summary>
/// A single-channel 2-D map of raw values, row-major (<c>Data[y * Width + x]</c>). Both sides are
/// 1..<see cref="MaxSide"/> and every value is finite; the constructor enforces this and throws
/// <see cref="InputFormatException"/> otherwise.
/// </summary>
public sealed class InputMap
{
    /// <summary>The largest accepted width and height.</summary>
    public const int MaxSide = 4096;

    public InputMap(int width, int height, float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckSize(width, height);
        if (data.Length != (long)width * height)
            throw new InputFormatException(
                $"the data has {data.Length} values, expected width × height = {width} × {height} = {(long)width * height}");
        int bad = IndexOfNonFinite(data);
        if (bad >= 0)
            throw new InputFormatException(
                $"the value at row {bad / width + 1}, column {bad % width + 1} is {Describe(data[bad])}; all values must be finite numbers");
        Width = width;
        Height = height;
        Data = data;
    }

    /// <summary>For decoders that produced the data themselves: sizes already checked, values finite by construction.</summary>
    internal InputMap(int width, int height, float[] data, InputValueDomain domain, bool trusted)
    {
        System.Diagnostics.Debug.Assert(trusted && data.Length == width * height);
        Width = width;
        Height = height;
        Data = data;
        Domain = domain;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Row-major values, <c>Width × Height</c> of them.</summary>
    public float[] Data { get; }

    /// <summary><see cref="InputValueDomain.Image"/> for decoded PNG/JPEG, <see cref="InputValueDomain.Raw"/> otherwise.</summary>
    public InputValueDomain Domain { get; init; }

    public override string ToString() => $"{Width}×{Height} {Domain}";

    /// <summary>Throws <see cref="InputFormatException"/> unless both sides are 1..<see cref="MaxSide"/>.</summary>
    internal static void CheckSize(long width, long height, string what = "the map")
    {
        if (width <= 0 || height <= 0)
            throw new InputFormatException($"{what} is empty (width {width}, height {height})");
        if (width > MaxSide || height > MaxSide)
            throw new InputFormatException(
                $"{what} is {width} × {height}; the largest accepted size is {MaxSide} × {MaxSide}");
    }

    internal static string Describe(float value) =>
        float.IsNaN(value) ? "NaN" : float.IsPositiveInfinity(value) ? "Infinity" : float.IsNegativeInfinity(value) ? "-Infinity" : value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Index of the first NaN or ±Infinity, or -1.</summary>
    internal static int IndexOfNonFinite(ReadOnlySpan<float> data)
    {
        const uint ExponentMask = 0x7F80_0000u; // all exponent bits set <=> NaN or infinity
        ReadOnlySpan<uint> bits = MemoryMarshal.Cast<float, uint>(data);
        int i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<uint>.Count)
        {
            var mask = new Vector<uint>(ExponentMask);
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & mask, mask))
                    break;
            }
        }
        for (; i < bits.Length; i++)
        {
            if ((bits[i] & ExponentMask) == ExponentMask)
                return i;
        }
        return -1;
    }
}
