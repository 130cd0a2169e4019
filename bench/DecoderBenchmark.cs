using System.Text;
using KeypointService.Models.Inputs;
using KeypointService.Models.Outputs;

namespace KeypointService.Bench;

/// <summary>
/// Median and p90 time of decoding one 256 × 256 input per body format, and of encoding the PNG maps
/// returned with map_format=png (in the test suite until it moved here: timing is a benchmark's job).
/// JPEG files come from outside (bench/run.sh writes them with PIL), as nothing here encodes JPEG.
/// </summary>
internal static class DecoderBenchmark
{
    private const int Side = 256;

    public static int Run(Arguments args)
    {
        var count = args.Get("iterations", 200);
        var (gray, wide) = Pattern();
        var raw = new byte[Side * Side * 4];
        Buffer.BlockCopy(gray.Select(b => (float)b).ToArray(), 0, raw, 0, raw.Length);
        var cases = new List<(string Name, Action Run)>
        {
            ("PNG gray 8-bit", Decode(PngEncoder.EncodeGray8(Side, Side, gray), Image)),
            ("PNG gray 16-bit", Decode(PngEncoder.EncodeGray16(Side, Side, wide), Image)),
            ("raw float32", Decode(raw, b => InputDecoders.ParseRawFloat32(b, Side, Side))),
            (".npy <f4", Decode(Npy(raw), b => InputDecoders.ParseNpy(b))),
            ("CSV (integers)", Decode(Csv(gray), b => InputDecoders.ParseCsv(b))),
            ("PNG 1x1 + 64 MiB zlib tail (refused)", Refused(PngBomb())),
            ("PNG encode gray 8-bit", () => PngEncoder.EncodeGray8(Side, Side, gray)),
            ("PNG encode gray 16-bit", () => PngEncoder.EncodeGray16(Side, Side, wide)),
        };
        foreach (var file in args.Get("jpeg", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            cases.Add(($"JPEG {Path.GetFileNameWithoutExtension(file)}", Decode(File.ReadAllBytes(file), Image)));

        Console.WriteLine("format\tmedian_us\tp90_us");
        foreach (var (name, run) in cases)
        {
            var samples = Timing.Measure(run, count, warmup: 5);
            Console.WriteLine(FormattableString.Invariant(
                $"{name}\t{1000 * Timing.Percentile(samples, 0.5):F1}\t{1000 * Timing.Percentile(samples, 0.9):F1}"));
        }
        return 0;
    }

    private static Action Decode(byte[] bytes, Func<byte[], InputMap> decode) => () => decode(bytes);

    private static Action Refused(byte[] bytes) => () =>
    {
        try { InputDecoders.DecodeImage(bytes); }
        catch (InputFormatException) { return; }
        throw new InvalidOperationException("the decompression bomb was decoded instead of refused");
    };

    private static InputMap Image(byte[] b) => InputDecoders.DecodeImage(b);

    // An XOR texture with noise: not trivially compressible.
    private static (byte[] Gray, ushort[] Wide) Pattern()
    {
        var random = new Random(3);
        var gray = new byte[Side * Side];
        for (var y = 0; y < Side; y++)
            for (var x = 0; x < Side; x++)
                gray[y * Side + x] = (byte)((x ^ y) + random.Next(8));
        return (gray, gray.Select(b => (ushort)(b * 257)).ToArray());
    }

    // A 1 x 1 PNG whose IDAT stream goes on with 64 MiB of zeros: libpng must stop at the image's end.
    private static byte[] PngBomb()
    {
        var compressed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write([0, 99]); // filter byte, the pixel
            z.Write(new byte[64 << 20]);
        }
        var idat = compressed.ToArray();
        var png = PngEncoder.EncodeGray8(1, 1, [99]);
        var ihdrEnd = 8 + 12 + 13; // signature, IHDR chunk
        var chunk = new byte[12 + idat.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(chunk, idat.Length);
        "IDAT"u8.CopyTo(chunk.AsSpan(4));
        idat.CopyTo(chunk, 8);
        var crc = System.IO.Hashing.Crc32.HashToUInt32(chunk.AsSpan(4, 4 + idat.Length));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + idat.Length), crc);
        return [.. png.AsSpan(0, ihdrEnd), .. chunk, .. "\0\0\0\0IEND\xAE\x42\x60\x82"u8];
    }

    // .npy format 1.0: magic, version, header length, a dict padded with spaces to a 64-byte boundary.
    private static byte[] Npy(byte[] data)
    {
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({Side}, {Side}), }}";
        var headerLength = (10 + dict.Length + 1 + 63) / 64 * 64 - 10;
        var header = Encoding.ASCII.GetBytes(dict.PadRight(headerLength - 1) + "\n");
        byte[] prefix = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(headerLength & 0xFF), (byte)(headerLength >> 8)];
        return [.. prefix, .. header, .. data];
    }

    private static byte[] Csv(byte[] gray) => Encoding.ASCII.GetBytes(string.Join("\n",
        Enumerable.Range(0, Side).Select(r => string.Join(",", gray.Skip(r * Side).Take(Side)))));
}
