using System.Runtime.InteropServices;
using KeypointService.Models.Inputs.Native;

namespace KeypointService.Models.Inputs;

/// <summary>
/// JPEG → grayscale 0..255 through TurboJPEG (libjpeg-turbo). Grayscale JPEGs are decoded to gray
/// directly; colour JPEGs (YCbCr or RGB) are decoded to RGB with libjpeg's default (accurate) IDCT
/// and fancy upsampling, then converted with the manifest's float32 luma — what PIL's RGB decode
/// followed by the Python pre-processing gives. CMYK/YCCK JPEGs are refused.
/// Strict: libjpeg warnings (e.g. "Premature end of JPEG file" for a truncated image, corrupt
/// entropy data) are errors, and progressive files with an unreasonable number of scans are refused.
/// Bytes after the end-of-image marker are ignored. EXIF orientation is not applied (nor does PIL's
/// <c>Image.open</c>, which the trainer uses): pixels are returned in stored order.
/// </summary>
internal static unsafe class JpegDecoder
{
    public static InputMap Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            throw new InputFormatException("the JPEG image is empty");
        if (!HasMarker(bytes))
        {
            throw new InputFormatException(bytes.Length < 3 && bytes[0] == 0xFF && (bytes.Length == 1 || bytes[1] == 0xD8)
                ? $"the JPEG image is truncated ({bytes.Length} bytes)"
                : PngChunks.HasSignature(bytes)
                    ? "not a JPEG image (it is a PNG image)"
                    : "not a JPEG image (the JPEG start-of-image marker is missing)");
        }

        nint handle = TurboJpegDecompressorPool.Rent();
        bool healthy = false;
        byte* buffer = null;
        try
        {
            fixed (byte* src = bytes)
            {
                var size = new CULong((nuint)bytes.Length);
                int width = 0, height = 0, subsampling = 0, colorspace = 0; // stay 0 for a tables-only stream
                if (TurboJpeg.tjDecompressHeader3(handle, src, size, &width, &height, &subsampling, &colorspace) != 0)
                    throw Failure(handle, "the JPEG header could not be read");
                healthy = true; // the header call leaves the decompressor reusable

                InputMap.CheckSize(width, height, "the image");
                int pixelFormat, channels;
                switch (colorspace)
                {
                    case TurboJpeg.ColorspaceGray:
                        (pixelFormat, channels) = (TurboJpeg.PixelFormatGray, 1);
                        break;
                    case TurboJpeg.ColorspaceYCbCr:
                    case TurboJpeg.ColorspaceRgb:
                        (pixelFormat, channels) = (TurboJpeg.PixelFormatRgb, 3);
                        break;
                    default:
                        throw new InputFormatException(
                            $"CMYK/YCCK JPEG images are not supported (colour space {colorspace}); send a grayscale or RGB JPEG or a PNG");
                }

                buffer = (byte*)NativeMemory.Alloc((nuint)width * (nuint)height * (nuint)channels);
                healthy = false;
                if (TurboJpeg.tjDecompress2(handle, src, size, buffer, width, width * channels, height, pixelFormat,
                        TurboJpeg.FlagStopOnWarning | TurboJpeg.FlagLimitScans) != 0)
                    throw Failure(handle, "the JPEG image data could not be decoded");
                healthy = true;

                var data = GC.AllocateUninitializedArray<float>(width * height);
                if (channels == 1)
                {
                    PngDecoder.Widen(new ReadOnlySpan<byte>(buffer, data.Length), data);
                }
                else
                {
                    for (int i = 0, j = 0; i < data.Length; i++, j += 3)
                        data[i] = PngDecoder.Luma(buffer[j], buffer[j + 1], buffer[j + 2]);
                }
                return new InputMap(width, height, data, InputValueDomain.Image, trusted: true);
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
            if (healthy)
                TurboJpegDecompressorPool.Return(handle);
            else
                TurboJpegDecompressorPool.Discard(handle);
        }
    }

    /// <summary>Starts with SOI followed by another marker (FF D8 FF).</summary>
    internal static bool HasMarker(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;

    private static InputFormatException Failure(nint handle, string what)
    {
        string message = TurboJpeg.ErrorText(handle);
        return new InputFormatException(message.Length == 0 ? what : $"{what}: {message}");
    }
}
