using KeypointService.Models.Inputs;
using KeypointService.Models.Outputs;
using KeypointService.Models.Inputs.Native;
using static KeypointService.Models.Tests.Inputs.TestFiles;

namespace KeypointService.Models.Tests.Inputs;

public class PngDecoderTests
{
    private const float Scale16 = (float)(255.0 / 65535.0);

    private static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static ushort[] Random16(int count, int seed)
    {
        var random = new Random(seed);
        var values = new ushort[count];
        for (int i = 0; i < count; i++)
            values[i] = (ushort)random.Next(65536);
        values[0] = 0;
        values[1] = 65535;
        values[2] = 1;
        values[3] = 65534;
        return values;
    }

    [Fact]
    public unsafe void PngImageStructMatchesTheCLayoutOfLibpng16()
    {
        // png.h 1.6.39 on x86-64 (checked with offsetof): sizeof 104, width at 12, message at 36.
        Assert.Equal(104, sizeof(PngImage));
        PngImage image = default;
        byte* start = (byte*)&image;
        Assert.Equal(8, (byte*)&image.Version - start);
        Assert.Equal(12, (byte*)&image.Width - start);
        Assert.Equal(32, (byte*)&image.WarningOrError - start);
        Assert.Equal(36, image.Message - start);
        Assert.Equal(106u, LibPng.png_access_version_number() / 100);
    }

    [Fact]
    public void NativeLibrariesAreFound()
    {
        string summary = InputDecoders.VerifyNativeLibraries();
        Assert.Contains("libpng 1.6.", summary);
        Assert.Contains("libturbojpeg.so.0", summary);
    }

    [Fact]
    public void Gray8RoundTripsExactlyThroughPngEncoder()
    {
        const int w = 37, h = 23;
        byte[] pixels = RandomBytes(w * h, 1);
        byte[] png = PngEncoder.EncodeGray8(w, h, pixels);
        InputMap map = InputDecoders.DecodePng(png);
        Assert.Equal((w, h, InputValueDomain.Image), (map.Width, map.Height, map.Domain));
        for (int i = 0; i < pixels.Length; i++)
            Assert.Equal(pixels[i], map.Data[i]);
        Assert.Equal(map.Data, InputDecoders.DecodeImage(png).Data);
    }

    [Fact]
    public void Gray16RoundTripsExactlyThroughPngEncoder()
    {
        const int w = 64, h = 17;
        ushort[] values = Random16(w * h, 2);
        byte[] png = PngEncoder.EncodeGray16(w, h, values);
        Assert.Equal(["IHDR", "IDAT", "IEND"], ChunkTypes(png).Distinct()); // the encoder drops libpng's "linear" tags
        InputMap map = InputDecoders.DecodePng(png);
        for (int i = 0; i < values.Length; i++)
            Assert.Equal(values[i] * Scale16, map.Data[i]); // exactly the manifest's float32 scaling
        Assert.Equal(0f, map.Data[0]);
        Assert.Equal(255f, map.Data[1]);
    }

    [Theory]
    [InlineData("gAMA 1/2.2")]
    [InlineData("gAMA 1.0")]
    [InlineData("gAMA 1/1.8")]
    [InlineData("sRGB")]
    public void Gray16IgnoresColourSpaceChunks(string chunk)
    {
        const int w = 40, h = 9;
        ushort[] values = Random16(w * h, 3);
        (string, byte[]) extra = chunk switch
        {
            "gAMA 1/2.2" => Gama(45455),
            "gAMA 1.0" => Gama(100000),
            "gAMA 1/1.8" => Gama(55556),
            _ => ("sRGB", [0]),
        };
        byte[] png = Png(w, h, 16, Gray, Samples16(values), extra);
        InputMap map = InputDecoders.DecodePng(png);
        for (int i = 0; i < values.Length; i++)
            Assert.Equal(values[i] * Scale16, map.Data[i]);
    }

    [Fact]
    public void WithoutStrippingLibpngWouldRescale16BitSamplesThatDeclareAGamma()
    {
        // Why PngDecoder removes gAMA/sRGB: the simplified API reads 16-bit files as "linear" and
        // converts a file declared as gamma 1/2.2 to linear light, changing almost every sample.
        const int w = 32, h = 4;
        ushort[] values = Random16(w * h, 4);
        byte[] png = PngEncoder.EncodeGray16(w, h, values);
        byte[] tagged = InsertAfterIhdr(png, "gAMA", Gama(45455).Item2);

        InputMap raw = PngDecoder.Decode(tagged, stripColorSpaceChunks: false);
        int changed = values.Select((v, i) => raw.Data[i] != v * Scale16 ? 1 : 0).Sum();
        Assert.True(changed > values.Length / 2, $"expected libpng to convert the samples; {changed} changed");

        InputMap map = InputDecoders.DecodePng(tagged);
        Assert.Equal(values.Select(v => v * Scale16), map.Data);
    }

    [Fact]
    public void Gray8WithAnUnusualGammaIsReadRaw()
    {
        const int w = 16, h = 16;
        byte[] pixels = RandomBytes(w * h, 5);
        byte[] png = Png(w, h, 8, Gray, pixels, Gama(100000), ("cHRM", new byte[32]));
        Assert.Equal(pixels.Select(p => (float)p), InputDecoders.DecodePng(png).Data);
    }

    [Fact]
    public void Rgb8BecomesLumaExactly()
    {
        const int w = 19, h = 11;
        byte[] rgb = RandomBytes(w * h * 3, 6);
        InputMap map = InputDecoders.DecodeImage(Png(w, h, 8, Rgb, rgb));
        Assert.Equal(InputValueDomain.Image, map.Domain);
        for (int i = 0; i < w * h; i++)
            Assert.Equal(Luma(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]), map.Data[i]);
        Assert.Equal(255f, Luma(255, 255, 255), 4);
    }

    [Fact]
    public void Rgba8IgnoresAlpha()
    {
        const int w = 13, h = 7;
        byte[] rgba = RandomBytes(w * h * 4, 7);
        rgba[3] = 0; // a fully transparent pixel keeps its colour
        InputMap map = InputDecoders.DecodePng(Png(w, h, 8, Rgba, rgba));
        for (int i = 0; i < w * h; i++)
            Assert.Equal(Luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]), map.Data[i]);
    }

    [Fact]
    public void GrayAlpha8IgnoresAlpha()
    {
        const int w = 10, h = 10;
        byte[] ga = RandomBytes(w * h * 2, 8);
        InputMap map = InputDecoders.DecodePng(Png(w, h, 8, GrayAlpha, ga));
        for (int i = 0; i < w * h; i++)
            Assert.Equal(ga[2 * i], map.Data[i]);
    }

    [Fact]
    public void Rgb16BecomesScaledLumaExactly()
    {
        const int w = 12, h = 5;
        ushort[] rgb = Random16(w * h * 3, 9);
        InputMap map = InputDecoders.DecodePng(Png(w, h, 16, Rgb, Samples16(rgb), Gama(45455)));
        for (int i = 0; i < w * h; i++)
            Assert.Equal(Luma(rgb[3 * i] * Scale16, rgb[3 * i + 1] * Scale16, rgb[3 * i + 2] * Scale16), map.Data[i]);
    }

    [Fact]
    public void Rgba16IsExactWhereOpaqueAndCloseWhereTranslucent()
    {
        const int w = 64, h = 8;
        var random = new Random(10);
        ushort[] rgba = Random16(w * h * 4, 10);
        for (int i = 0; i < w * h; i++)
            rgba[4 * i + 3] = i % 4 == 0 ? (ushort)65535 : i % 4 == 1 ? (ushort)0 : (ushort)random.Next(1024, 65535);
        InputMap map = InputDecoders.DecodePng(Png(w, h, 16, Rgba, Samples16(rgba)));
        for (int i = 0; i < w * h; i++)
        {
            float expected = Luma(rgba[4 * i] * Scale16, rgba[4 * i + 1] * Scale16, rgba[4 * i + 2] * Scale16);
            ushort alpha = rgba[4 * i + 3];
            if (alpha == 65535)
                Assert.Equal(expected, map.Data[i]);
            else if (alpha == 0)
                Assert.Equal(0f, map.Data[i]); // premultiplied by libpng: the colour is gone
            else
                Assert.InRange(map.Data[i] - expected, -255f * (1f / alpha + 1f / 65535), 255f * (1f / alpha + 1f / 65535));
        }
    }

    [Fact]
    public void GrayAlpha16IsExactWhereOpaque()
    {
        const int w = 8, h = 8;
        ushort[] ga = Random16(w * h * 2, 11);
        for (int i = 0; i < w * h; i++)
            ga[2 * i + 1] = 65535;
        InputMap map = InputDecoders.DecodePng(Png(w, h, 16, GrayAlpha, Samples16(ga)));
        for (int i = 0; i < w * h; i++)
            Assert.Equal(ga[2 * i] * Scale16, map.Data[i]);
    }

    [Fact]
    public void PaletteWithTransparencyBecomesLumaOfTheColours()
    {
        const int w = 9, h = 6;
        byte[] plte = RandomBytes(16 * 3, 12);
        byte[] indices = RandomBytes(w * h, 13).Select(b => (byte)(b % 16)).ToArray();
        byte[] trns = [0, 128, 255, 7]; // alpha for the first four entries: ignored
        InputMap map = InputDecoders.DecodePng(Png(w, h, 8, Palette, indices, ("PLTE", plte), ("tRNS", trns)));
        for (int i = 0; i < w * h; i++)
        {
            int k = indices[i] * 3;
            Assert.Equal(Luma(plte[k], plte[k + 1], plte[k + 2]), map.Data[i]);
        }
    }

    [Fact]
    public void FourBitPaletteAndOneBitGrayAreExpanded()
    {
        byte[] plte = [0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30];
        // 4 pixels per row, two rows: indices 0 1 2 3 / 3 2 1 0 packed two per byte
        InputMap palette = InputDecoders.DecodePng(Png(4, 2, 4, Palette, [0x01, 0x23, 0x32, 0x10], ("PLTE", plte)));
        float[] expected = [0, Luma(255, 0, 0), Luma(0, 255, 0), Luma(10, 20, 30)];
        Assert.Equal(expected.Concat(expected.Reverse()), palette.Data);

        InputMap bits = InputDecoders.DecodePng(Png(10, 1, 1, Gray, [0b1010_0000, 0b0100_0000]));
        Assert.Equal(new float[] { 255, 0, 255, 0, 0, 0, 0, 0, 0, 255 }, bits.Data);
    }

    [Fact]
    public void Gray16WithTransparencyKeyKeepsTheKeyedSample()
    {
        ushort[] values = [100, 200, 300, 400];
        InputMap map = InputDecoders.DecodePng(Png(2, 2, 16, Gray, Samples16(values), ("tRNS", [0, 200])));
        Assert.Equal(values.Select(v => v * Scale16), map.Data);
    }

    [Fact]
    public void TruncatedPngsAreRejectedWithLibpngsMessage()
    {
        byte[] png = PngEncoder.EncodeGray8(64, 64, RandomBytes(64 * 64, 14)); // incompressible: a long IDAT
        foreach (int length in new[] { 0, 1, 7, 8, 12, 20, 33, 40, png.Length / 2, png.Length - 20 })
        {
            var e = Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(png.AsSpan(0, length)));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            if (length >= 40)
                Assert.Matches("PNG .*: .+", e.Message); // "the PNG image data could not be decoded: <libpng's message>"
        }
        // The final 12 bytes are IEND: libpng accepts a stream without it, like most decoders.
        Assert.Equal(64, InputDecoders.DecodePng(png.AsSpan(0, png.Length - 12)).Width);
    }

    [Fact]
    public void BytesAfterIendAreIgnored()
    {
        byte[] png = Png(3, 2, 8, Gray, [1, 2, 3, 4, 5, 6], Gama(45455));
        byte[] padded = png.Concat("trailing junk"u8.ToArray()).ToArray();
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, InputDecoders.DecodePng(padded).Data);
    }

    [Fact]
    public void CorruptPngsAreRejected()
    {
        byte[] png = PngEncoder.EncodeGray8(32, 32, RandomBytes(32 * 32, 15));
        byte[] badCrc = (byte[])png.Clone();
        badCrc[29] ^= 0xFF; // inside IHDR's CRC
        Assert.Contains("PNG", Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(badCrc)).Message);

        byte[] badIdat = (byte[])png.Clone();
        int idat = FindChunk(png, "IDAT");
        for (int i = idat + 10; i < idat + 40; i++)
            badIdat[i] ^= 0x5A;
        Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(badIdat));

        Assert.Contains("signature", Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng("GIF89a and more"u8)).Message);
    }

    [Fact]
    public void OversizedAndEmptyPngsAreRejectedBeforeDecoding()
    {
        // The IHDR declares 5000 x 2 but the data is tiny: the size check comes before any allocation.
        var e = Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(Png(5000, 2, 8, Gray, new byte[10000])));
        Assert.Contains("4096", e.Message);
        Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(Png(4097, 1, 1, Gray, new byte[513])));
        Assert.Equal(4096, InputDecoders.DecodePng(Png(4096, 1, 8, Gray, new byte[4096])).Width);

        byte[] zeroWidth = Png(1, 1, 8, Gray, [7]);
        zeroWidth[16 + 3] = 0; // width 1 -> 0 (the CRC no longer matches either)
        Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(zeroWidth));
    }

    [Fact]
    public void CompressedDataPastWhatTheImageNeedsIsRefusedUninflated()
    {
        // A 1 x 1 image whose zlib stream goes on with 64 MiB of zeros (a ~64 KiB "decompression bomb"):
        // libpng would inflate all of it (about 0.1 s a request, seconds for a 16 MiB body), so the decoder
        // refuses compressed data longer than any encoding of the image needs, before libpng inflates.
        var raw = new byte[64 << 20];
        raw[1] = 99;
        var compressed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            z.Write(raw);
        byte[] png = Png(1, 1, 8, Gray, [99]);
        int idat = FindChunk(png, "IDAT");
        int oldLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(idat));
        byte[] bomb = InsertAfterIhdr(png.AsSpan(0, idat).ToArray().Concat(png.AsSpan(idat + 12 + oldLength).ToArray()).ToArray(),
            "IDAT", compressed.ToArray());
        Assert.Equal(["IHDR", "IDAT", "IEND"], ChunkTypes(bomb));
        var refused = Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(bomb));
        Assert.Matches(@"compressed image data \(\d+ bytes\) is more than a 1 × 1 image can need \(1\d{3} bytes\)", refused.Message);
        // The bound leaves room for every honest encoding: stored (uncompressed) blocks of a large image.
        var pixels = Enumerable.Range(0, 300 * 200).Select(i => (byte)(i * 7919 % 251)).ToArray();
        var stored = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(stored, System.IO.Compression.CompressionLevel.NoCompression, leaveOpen: true))
            for (int y = 0; y < 200; y++) { z.WriteByte(0); z.Write(pixels, y * 300, 300); }
        byte[] plain = Png(300, 200, 8, Gray, pixels);
        int plainIdat = FindChunk(plain, "IDAT");
        int plainLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(plain.AsSpan(plainIdat));
        byte[] uncompressed = InsertAfterIhdr(plain.AsSpan(0, plainIdat).ToArray().Concat(plain.AsSpan(plainIdat + 12 + plainLength).ToArray()).ToArray(),
            "IDAT", stored.ToArray());
        Assert.Equal(pixels.Select(p => (float)p), InputDecoders.DecodePng(uncompressed).Data);
    }

    [Fact]
    public void EncoderValidatesItsArguments()
    {
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeGray8(4, 4, new byte[15]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.EncodeGray8(0, 4, []));
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeGray16(2, 2, new ushort[5]));
        byte[] png = PngEncoder.EncodeGray8(1, 1, [42]);
        Assert.Equal(PngSignature, png.Take(8));
        Assert.Equal(42f, InputDecoders.DecodePng(png).Data[0]);
    }

    [Fact]
    public void LargeImagesRoundTrip()
    {
        const int w = 4096, h = 300;
        var values = new ushort[w * h];
        for (int i = 0; i < values.Length; i++)
            values[i] = (ushort)(i * 7);
        InputMap map = InputDecoders.DecodePng(PngEncoder.EncodeGray16(w, h, values));
        Assert.Equal((w, h), (map.Width, map.Height));
        Assert.Equal(values[^1] * Scale16, map.Data[^1]);
    }

    [Fact]
    public void MatchesPilAndTheTrainersPreprocessing()
    {
        // Cross-check against PIL + NumPy with the trainer's to_raw formulas (./test.sh installs python3 with NumPy and PIL).
        string dir = TempDirectory();
        try
        {
            const string script = """
                import numpy as np
                from PIL import Image
                rng = np.random.default_rng(0)
                Image.fromarray(rng.integers(0, 256, (21, 34, 3), dtype=np.uint8), "RGB").save("rgb.png")
                Image.fromarray(rng.integers(0, 256, (21, 34, 4), dtype=np.uint8), "RGBA").save("rgba.png")
                Image.fromarray(rng.integers(0, 256, (21, 34), dtype=np.uint8), "L").save("gray.png")
                Image.fromarray(rng.integers(0, 256, (21, 34), dtype=np.uint8), "L").convert("P").save("pal.png")
                for name in ["rgb", "rgba", "gray"]:
                    a = np.asarray(Image.open(name + ".png").convert("RGB" if name != "gray" else "L")).astype(np.float32)
                    if a.ndim == 3:
                        a = np.float32(0.299) * a[:, :, 0] + np.float32(0.587) * a[:, :, 1] + np.float32(0.114) * a[:, :, 2]
                    a.astype("<f4").tofile(name + ".f32")
                p = np.asarray(Image.open("pal.png").convert("RGB")).astype(np.float32)
                (np.float32(0.299) * p[:, :, 0] + np.float32(0.587) * p[:, :, 1] + np.float32(0.114) * p[:, :, 2]).astype("<f4").tofile("pal.f32")
                """;
            RunPython(script, dir);
            foreach (string name in new[] { "rgb", "rgba", "gray", "pal" })
            {
                InputMap ours = InputDecoders.DecodeImage(File.ReadAllBytes(Path.Combine(dir, name + ".png")));
                InputMap theirs = InputDecoders.ParseRawFloat32(File.ReadAllBytes(Path.Combine(dir, name + ".f32")), 34, 21);
                Assert.Equal(theirs.Data, ours.Data); // bit-identical
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int FindChunk(byte[] png, string type) =>
        png.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(type)) - 4;
}
