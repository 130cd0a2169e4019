using System.Numerics;
using System.Runtime.InteropServices;
using KeypointService.Models.Inputs.Native;

namespace KeypointService.Models.Inputs;

/// <summary>
/// PNG → grayscale 0..255 through libpng's simplified API.
/// <list type="bullet">
/// <item>The file is read in its own bit depth and colour type (8-bit or 16-bit, gray or RGB, palette
/// expanded to RGB); luma and 16-bit scaling are computed here, not by libpng, with the manifest's
/// float32 formulas.</item>
/// <item>gAMA/sRGB/iCCP/cHRM/tRNS chunks are removed first (<see cref="PngChunks"/>): the simplified
/// API would otherwise convert samples between gamma encodings (for 16-bit files it assumes linear
/// and converts any other declared gamma), and the service wants the stored samples.</item>
/// <item>Alpha is ignored. For 8-bit files the colour samples come back unchanged. libpng always
/// premultiplies 16-bit ("linear") colour by alpha, so 16-bit files with an alpha channel are
/// un-premultiplied here: exact where alpha is 65535, approximate where it is lower, 0 where it is 0.</item>
/// </list>
/// </summary>
internal static unsafe class PngDecoder
{
    private const float Scale16 = (float)(255.0 / 65535.0);

    public static InputMap Decode(ReadOnlySpan<byte> bytes) => Decode(bytes, stripColorSpaceChunks: true);

    /// <summary>With <paramref name="stripColorSpaceChunks"/> false only in tests that show why the chunks are removed.</summary>
    internal static InputMap Decode(ReadOnlySpan<byte> bytes, bool stripColorSpaceChunks)
    {
        if (bytes.IsEmpty)
            throw new InputFormatException("the PNG image is empty");
        if (!PngChunks.HasSignature(bytes))
            throw new InputFormatException(bytes.Length < 8 && PngChunks.Signature.StartsWith(bytes)
                ? $"the PNG image is truncated ({bytes.Length} bytes)"
                : JpegDecoder.HasMarker(bytes)
                    ? "not a PNG image (it is a JPEG image)"
                    : "not a PNG image (the PNG signature is missing)");

        byte[]? edited = stripColorSpaceChunks ? PngChunks.WithoutColorSpaceChunks(bytes) : null;
        ReadOnlySpan<byte> source = edited is null ? bytes : edited;

        PngImage image = default; // a local: stays at one address while libpng holds on to it
        image.Version = PngImage.ImageVersion;
        void* buffer = null;
        fixed (byte* src = source) // libpng reads from this memory until finish_read returns
        {
            try
            {
                if (LibPng.png_image_begin_read_from_memory(&image, src, (nuint)source.Length) == 0)
                    throw Failure(in image, "the PNG header could not be read");

                InputMap.CheckSize(image.Width, image.Height, "the image");
                int width = (int)image.Width, height = (int)image.Height;
                long compressed = PngChunks.CompressedDataLength(source), limit = PngChunks.MaxCompressedDataLength(width, height);
                if (compressed > limit)
                    throw new InputFormatException(
                        $"the PNG's compressed image data ({compressed} bytes) is more than a {width} × {height} image can need ({limit} bytes): refusing to inflate it");
                uint format = image.Format & (PngImage.FormatFlagLinear | PngImage.FormatFlagColor | PngImage.FormatFlagAlpha);
                image.Format = format; // the file's own layout; colour-mapped files are expanded
                bool wide = (format & PngImage.FormatFlagLinear) != 0;
                int channels = ((format & PngImage.FormatFlagColor) != 0 ? 3 : 1) + ((format & PngImage.FormatFlagAlpha) != 0 ? 1 : 0);
                nuint pixels = (nuint)width * (nuint)height;
                buffer = NativeMemory.Alloc(pixels * (nuint)channels * (wide ? 2u : 1u));

                if (LibPng.png_image_finish_read(&image, null, buffer, 0, null) == 0)
                    throw Failure(in image, "the PNG image data could not be decoded");

                var data = GC.AllocateUninitializedArray<float>(width * height);
                if (wide)
                    Convert16((ushort*)buffer, channels, (format & PngImage.FormatFlagAlpha) != 0, data);
                else
                    Convert8((byte*)buffer, channels, data);
                return new InputMap(width, height, data, InputValueDomain.Image, trusted: true);
            }
            finally
            {
                LibPng.png_image_free(&image); // no-op when libpng already freed it
                NativeMemory.Free(buffer);
            }
        }
    }

    private static InputFormatException Failure(in PngImage image, string what)
    {
        string message = image.MessageText;
        return new InputFormatException(message.Length == 0 ? what : $"{what}: {message}");
    }

    // channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; alpha ignored.
    private static void Convert8(byte* p, int channels, Span<float> data)
    {
        switch (channels)
        {
            case 1:
                Widen(new ReadOnlySpan<byte>(p, data.Length), data);
                break;
            case 2:
                for (int i = 0; i < data.Length; i++)
                    data[i] = p[2 * i];
                break;
            default:
                for (int i = 0, j = 0; i < data.Length; i++, j += channels)
                    data[i] = Luma(p[j], p[j + 1], p[j + 2]);
                break;
        }
    }

    private static void Convert16(ushort* p, int channels, bool alpha, Span<float> data)
    {
        switch (channels)
        {
            case 1:
                WidenScaled(new ReadOnlySpan<ushort>(p, data.Length), Scale16, data);
                break;
            case 2:
                for (int i = 0; i < data.Length; i++)
                    data[i] = Unpremultiply(p[2 * i], p[2 * i + 1]) * Scale16;
                break;
            default:
                for (int i = 0, j = 0; i < data.Length; i++, j += channels)
                {
                    float r, g, b;
                    if (alpha)
                    {
                        ushort a = p[j + 3];
                        r = Unpremultiply(p[j], a) * Scale16;
                        g = Unpremultiply(p[j + 1], a) * Scale16;
                        b = Unpremultiply(p[j + 2], a) * Scale16;
                    }
                    else
                    {
                        r = p[j] * Scale16;
                        g = p[j + 1] * Scale16;
                        b = p[j + 2] * Scale16;
                    }
                    data[i] = Luma(r, g, b);
                }
                break;
        }
    }

    /// <summary>dst[i] = src[i], vectorised.</summary>
    internal static void Widen(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= src.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(src[i..]), out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(high, out Vector<uint> c, out Vector<uint> d);
                int n = Vector<uint>.Count;
                Vector.ConvertToSingle(a).CopyTo(dst[i..]);
                Vector.ConvertToSingle(b).CopyTo(dst[(i + n)..]);
                Vector.ConvertToSingle(c).CopyTo(dst[(i + 2 * n)..]);
                Vector.ConvertToSingle(d).CopyTo(dst[(i + 3 * n)..]);
            }
        }
        for (; i < src.Length; i++)
            dst[i] = src[i];
    }

    /// <summary>dst[i] = src[i] * scale in float32, vectorised (same results as the scalar product).</summary>
    private static void WidenScaled(ReadOnlySpan<ushort> src, float scale, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var factor = new Vector<float>(scale);
            for (; i <= src.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(src[i..]), out Vector<uint> a, out Vector<uint> b);
                (Vector.ConvertToSingle(a) * factor).CopyTo(dst[i..]);
                (Vector.ConvertToSingle(b) * factor).CopyTo(dst[(i + Vector<uint>.Count)..]);
            }
        }
        for (; i < src.Length; i++)
            dst[i] = src[i] * scale;
    }

    /// <summary>The manifest's luma in float32, in the same operation order as the Python twin.</summary>
    internal static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    private static float Unpremultiply(ushort value, ushort alpha)
    {
        if (alpha == 65535)
            return value;
        if (alpha == 0)
            return 0;
        uint v = ((uint)value * 65535u + alpha / 2u) / alpha;
        return v > 65535u ? 65535u : v;
    }
}
