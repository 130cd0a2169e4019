using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KeypointService.Models.Inputs.Native;

namespace KeypointService.Models.Inputs;

/// <summary>
/// Turns request bodies into <see cref="InputMap"/>s, one entry per accepted format. Every entry is
/// self-contained and thread-safe, and reports bad data only as <see cref="InputFormatException"/>
/// (with a user-facing message). Sizes are limited to 1..<see cref="InputMap.MaxSide"/> per side and
/// values must be finite. PNG/JPEG go through the system's libpng16 (libpng16.so.16) and
/// libjpeg-turbo (libturbojpeg.so.0); when one of those is missing the image entries throw
/// <see cref="InvalidOperationException"/> naming the package (see <see cref="VerifyNativeLibraries"/>).
/// </summary>
public static class InputDecoders
{
    /// <summary>
    /// A PNG or JPEG, recognised by its magic bytes, as grayscale 0..255 (<see cref="InputValueDomain.Image"/>):
    /// 8- or 16-bit (16-bit samples × 255/65535), colour → luma 0.299 R + 0.587 G + 0.114 B, alpha ignored.
    /// </summary>
    public static InputMap DecodeImage(ReadOnlySpan<byte> bytes)
    {
        if (PngChunks.HasSignature(bytes))
            return DecodePng(bytes);
        if (JpegDecoder.HasMarker(bytes))
            return DecodeJpeg(bytes);
        throw new InputFormatException(DescribeUnknownImage(bytes));
    }

    /// <summary>A PNG (any colour type, bit depth 1..16, interlaced or not); see <see cref="DecodeImage"/>.</summary>
    public static InputMap DecodePng(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return PngDecoder.Decode(bytes);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw MissingLibrary("PNG", LibPng.Library, LibPng.Package, e);
        }
    }

    /// <summary>A baseline or progressive JPEG, grayscale or colour (CMYK is refused); see <see cref="DecodeImage"/>.</summary>
    public static InputMap DecodeJpeg(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JpegDecoder.Decode(bytes);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw MissingLibrary("JPEG", TurboJpeg.Library, TurboJpeg.Package, e);
        }
    }

    /// <summary>
    /// A pressure-mat export (UTF-8 text): rows of numbers separated by commas, semicolons, tabs or
    /// spaces; an optional first header line of non-numbers is skipped; blank lines and <c>#</c> comments
    /// are ignored; with semicolons a decimal comma is accepted. Ragged rows, empty fields, text and
    /// NaN/Infinity are errors naming the row and column.
    /// </summary>
    public static InputMap ParseCsv(ReadOnlySpan<byte> utf8) => CsvParser.Parse(utf8);

    /// <summary>
    /// A NumPy .npy file (format 1.0/2.0/3.0), 2-D (also (1, H, W), (H, W, 1), (1, 1, H, W)), C or
    /// Fortran order, dtype float16/32/64, (u)int8/16/32/64 or bool in either byte order. Values are
    /// taken as they are.
    /// </summary>
    public static InputMap ParseNpy(ReadOnlySpan<byte> bytes) => NpyParser.Parse(bytes);

    /// <summary>Row-major little-endian float32 values; the length must be exactly 4 · width · height bytes.</summary>
    public static InputMap ParseRawFloat32(ReadOnlySpan<byte> bytes, int width, int height)
    {
        InputMap.CheckSize(width, height, "the raw float32 map");
        long expected = 4L * width * height;
        if (bytes.Length != expected)
        {
            string got = bytes.Length % 4 == 0
                ? $"{bytes.Length} bytes ({bytes.Length / 4} values)"
                : $"{bytes.Length} bytes (not a multiple of 4)";
            throw new InputFormatException(
                $"width × height = {width} × {height} needs {expected} bytes of little-endian float32, got {got}");
        }
        var data = GC.AllocateUninitializedArray<float>(width * height);
        bytes.CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
        if (!BitConverter.IsLittleEndian)
        {
            Span<uint> raw = MemoryMarshal.Cast<float, uint>(data.AsSpan());
            BinaryPrimitives.ReverseEndianness(raw, raw);
        }
        return new InputMap(width, height, data); // checks finiteness
    }

    /// <summary>
    /// JSON <c>{"data": [[...], ...]}</c>: rows × columns, the one place their shape and values are
    /// checked. Empty data, empty rows, ragged rows and values that are not finite in float32 are errors
    /// naming the element by its JSON index under <paramref name="name"/> ("body.data[3] has 83 values,
    /// expected 84 like body.data[0]").
    /// </summary>
    public static InputMap FromRows(IReadOnlyList<IReadOnlyList<double>> rows, string name = "data")
    {
        if (rows.Count == 0)
            throw new InputFormatException($"{name} is empty; expected rows × columns of numbers");
        int height = rows.Count, width = rows[0].Count;
        if (width == 0)
            throw new InputFormatException($"{name}[0] is empty; expected rows × columns of numbers");
        InputMap.CheckSize(width, height, name);

        var data = GC.AllocateUninitializedArray<float>(width * height);
        for (int r = 0; r < height; r++)
        {
            IReadOnlyList<double> row = rows[r];
            if (row.Count != width)
                throw new InputFormatException($"{name}[{r}] has {row.Count} values, expected {width} like {name}[0]");
            Span<float> target = data.AsSpan(r * width, width);
            for (int c = 0; c < width; c++)
            {
                double v = row[c];
                target[c] = (float)v;
                if (!float.IsFinite(target[c]))
                    throw new InputFormatException(double.IsFinite(v)
                        ? $"{name}[{r}][{c}]: {v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is outside the float32 range"
                        : $"{name}[{r}][{c}] is {InputMap.Describe((float)v)}; all values must be finite numbers");
            }
        }
        return new InputMap(width, height, data, InputValueDomain.Raw, trusted: true);
    }

    /// <summary>
    /// Loads libpng16 and TurboJPEG and checks their versions, for a start-up check; returns a summary
    /// such as "libpng 1.6.39 (libpng16.so.16), TurboJPEG (libturbojpeg.so.0)". Throws
    /// <see cref="InvalidOperationException"/> naming the Debian packages to install when one is missing.
    /// </summary>
    public static string VerifyNativeLibraries()
    {
        var problems = new List<string>();
        string png = "", jpeg = "";
        try
        {
            uint v = LibPng.png_access_version_number();
            if (v / 100 != 106)
                problems.Add($"{LibPng.Library} is libpng {v / 10000}.{v / 100 % 100}.{v % 100}; 1.6.x is required (package {LibPng.Package})");
            png = $"libpng {v / 10000}.{v / 100 % 100}.{v % 100} ({LibPng.Library})";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            problems.Add($"{LibPng.Library} could not be loaded (install the Debian package {LibPng.Package}): {e.Message}");
        }
        if (!NativeLibrary.TryLoad(TurboJpeg.Library, typeof(InputDecoders).Assembly, null, out nint tj))
        {
            problems.Add($"{TurboJpeg.Library} could not be loaded (install the Debian package {TurboJpeg.Package})");
        }
        else
        {
            foreach (string name in new[] { "tjInitDecompress", "tjDecompressHeader3", "tjDecompress2", "tjDestroy", "tjGetErrorStr2" })
            {
                if (!NativeLibrary.TryGetExport(tj, name, out _))
                    problems.Add($"{TurboJpeg.Library} lacks {name}; libjpeg-turbo 2.x is required (package {TurboJpeg.Package})");
            }
            jpeg = $"TurboJPEG ({TurboJpeg.Library})";
        }
        if (problems.Count > 0)
            throw new InvalidOperationException("image decoding is unavailable: " + string.Join("; ", problems));
        return $"{png}, {jpeg}";
    }

    private static InvalidOperationException MissingLibrary(string format, string library, string package, Exception e) =>
        new($"{format} decoding needs the native library {library}; install the Debian package {package}", e);

    private static string DescribeUnknownImage(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return "the image is empty";
        string? known =
            bytes.StartsWith("GIF8"u8) ? "a GIF" :
            bytes.StartsWith("BM"u8) ? "a BMP" :
            bytes.StartsWith("II*\0"u8) || bytes.StartsWith("MM\0*"u8) ? "a TIFF" :
            bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8) ? "a WebP" :
            bytes.Length >= 12 && bytes[4..12].SequenceEqual("ftypavif"u8) ? "an AVIF" :
            bytes.StartsWith((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']) ? "a NumPy .npy" :
            null;
        if (known is not null)
            return $"the image is {known} file; only PNG and JPEG images are accepted";
        int n = Math.Min(bytes.Length, 8);
        return $"not a PNG or JPEG image (it starts with bytes {Convert.ToHexString(bytes[..n])})";
    }
}
