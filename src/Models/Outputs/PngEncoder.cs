using System.Buffers;
using KeypointService.Models.Inputs;
using KeypointService.Models.Inputs.Native;

namespace KeypointService.Models.Outputs;

/// <summary>
/// Grayscale PNG encoding through libpng's simplified API (png_image_write_to_memory), for returning
/// heatmaps and reconstructions. Written for speed (PNG_IMAGE_FLAG_FAST). 16-bit files carry no
/// gAMA/cHRM chunks, so every reader (browsers, PIL, this service) sees the stored samples as they are.
/// </summary>
public static unsafe class PngEncoder
{
    /// <summary>Encodes row-major 8-bit gray pixels (<c>width × height</c> bytes).</summary>
    public static byte[] EncodeGray8(int width, int height, ReadOnlySpan<byte> pixels)
    {
        CheckArguments(width, height, pixels.Length);
        fixed (byte* p = pixels)
            return Encode(width, height, PngImage.FormatGray, p, bytesPerPixel: 1);
    }

    /// <summary>Encodes row-major 16-bit gray samples (<c>width × height</c> values, 0..65535).</summary>
    public static byte[] EncodeGray16(int width, int height, ReadOnlySpan<ushort> pixels)
    {
        CheckArguments(width, height, pixels.Length);
        fixed (ushort* p = pixels)
        {
            byte[] png = Encode(width, height, PngImage.FormatLinearY, p, bytesPerPixel: 2);
            // libpng tags 16-bit output as linear (gAMA 1.0 plus cHRM); without the tags readers take the samples as they are.
            return PngChunks.Without(png, static type => type is 0x67414D41u /* gAMA */ or 0x6348524Du /* cHRM */) ?? png;
        }
    }

    private static void CheckArguments(int width, int height, int length)
    {
        // PNG allows 2^31-1 per side; the simplified API addresses rows with 32-bit strides.
        if (width <= 0 || height <= 0 || width > 1 << 20 || height > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(width), $"width and height must be 1..{1 << 20}; got {width} × {height}");
        if (length != (long)width * height)
            throw new ArgumentException($"expected {(long)width * height} pixels for {width} × {height}, got {length}", "pixels");
    }

    private static byte[] Encode(int width, int height, uint format, void* pixels, int bytesPerPixel)
    {
        PngImage image = default;
        image.Version = PngImage.ImageVersion;
        image.Width = (uint)width;
        image.Height = (uint)height;
        image.Format = format;
        image.Flags = PngImage.FlagFast;

        // PNG_IMAGE_PNG_SIZE_MAX(image) from png.h: the output never exceeds it, so one pass suffices.
        ulong data = (ulong)width * (ulong)height * (ulong)bytesPerPixel + (ulong)height; // + filter byte per row
        ulong compressed = data + ((data + 7) >> 3) + ((data + 63) >> 6) + 11;
        ulong bound = 8 + 25 + 16 + 44 + 12 + 12 + 12 * (compressed / 8192) + compressed;
        if (bound > (ulong)Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(width), $"{width} × {height} is too large to encode in one PNG buffer");

        byte[] rented = ArrayPool<byte>.Shared.Rent((int)bound);
        try
        {
            nuint size = (nuint)rented.Length;
            int ok;
            fixed (byte* output = rented)
                ok = LibPng.png_image_write_to_memory(&image, output, &size, 0, pixels, 0, null);
            string message = image.MessageText;
            LibPng.png_image_free(&image); // no-op when libpng already freed it
            if (ok == 0)
            {
                throw new InvalidOperationException("libpng could not encode the PNG" + (message.Length > 0 ? ": " + message : ""));
            }
            return rented.AsSpan(0, (int)size).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
