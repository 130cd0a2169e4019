using System.Buffers.Binary;

namespace KeypointService.Models.Inputs;

/// <summary>
/// Chunk-level editing of a PNG data stream (no decompression). Used to drop the colour-space
/// chunks that would make libpng's simplified API transform sample values.
/// </summary>
internal static class PngChunks
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Chunks removed before decoding so that libpng returns the stored samples unchanged:
    /// gAMA/sRGB/iCCP/cHRM would make the simplified API convert between gamma encodings
    /// (16-bit files are read as linear, and a non-linear gAMA rescales every sample), and tRNS
    /// only adds an alpha channel, which the service ignores.
    /// </summary>
    private static bool IsStripped(uint type) => type is
        0x67414D41u    // gAMA
        or 0x73524742u // sRGB
        or 0x69434350u // iCCP
        or 0x6348524Du // cHRM
        or 0x74524E53u; // tRNS

    public static bool HasSignature(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Signature);

    /// <summary>
    /// A copy of <paramref name="png"/> without the chunks that <paramref name="strip"/> selects, or
    /// null when there is none (the common case: no copy). Walks the chunk list only as far as it is
    /// well-formed; anything after a malformed length (or after IEND) is kept verbatim so that libpng
    /// reports the problem itself.
    /// </summary>
    public static byte[]? Without(ReadOnlySpan<byte> png, Func<uint, bool> strip)
    {
        if (!HasSignature(png))
            return null;
        int removed = 0;
        Walk(png, strip, null, ref removed);
        if (removed == 0)
            return null;
        var output = new byte[png.Length - removed];
        int written = 0;
        Walk(png, strip, output, ref written);
        return output;
    }

    /// <summary>Without(png) for the colour-space chunks listed in <see cref="IsStripped"/>.</summary>
    public static byte[]? WithoutColorSpaceChunks(ReadOnlySpan<byte> png) => Without(png, IsStripped);

    // With output == null counts the removed bytes into 'counter'; otherwise copies the kept bytes and
    // leaves the number written in 'counter'.
    private static void Walk(ReadOnlySpan<byte> png, Func<uint, bool> strip, byte[]? output, ref int counter)
    {
        int pos = 8;
        if (output is not null)
        {
            png[..8].CopyTo(output);
            counter = 8;
        }
        while (pos <= png.Length - 12)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            uint type = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 4)..]);
            if (length > (uint)(png.Length - pos - 12))
                break; // truncated or corrupt length: leave the rest to libpng
            int chunkSize = (int)length + 12;
            if (strip(type))
            {
                if (output is null)
                    counter += chunkSize;
            }
            else if (output is not null)
            {
                png.Slice(pos, chunkSize).CopyTo(output.AsSpan(counter));
                counter += chunkSize;
            }
            pos += chunkSize;
            if (type == 0x49454E44u) // IEND
                break;
        }
        if (output is not null && pos < png.Length)
        {
            png[pos..].CopyTo(output.AsSpan(counter));
            counter += png.Length - pos;
        }
    }

    /// <summary>Total length of the IDAT chunks (compressed image data), over the well-formed part of the chunk list.</summary>
    public static long CompressedDataLength(ReadOnlySpan<byte> png)
    {
        long total = 0;
        for (int pos = 8; pos <= png.Length - 12;)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            uint type = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 4)..]);
            if (length > (uint)(png.Length - pos - 12) || type == 0x49454E44u) // corrupt length or IEND
                break;
            if (type == 0x49444154u) // IDAT
                total += length;
            pos += (int)length + 12;
        }
        return total;
    }

    /// <summary>
    /// The most compressed data a width × height PNG can need: its filtered rows at 16-bit RGBA (8 bytes a
    /// pixel, one filter byte a row, Adam7's extra rows included) stored uncompressed, plus deflate's
    /// per-block and zlib's framing overhead and slack. A stream longer than this carries data past the
    /// image (a decompression bomb): libpng would inflate all of it before noticing.
    /// </summary>
    public static long MaxCompressedDataLength(long width, long height)
    {
        long raw = height * (1 + 8 * width) + 7 * height;
        return raw + 5 * (raw / 16_384 + 1) + 1024;
    }
}
