using KeypointService.Models.Inputs;
using KeypointService.Models.Outputs;
using static KeypointService.Models.Tests.Inputs.TestFiles;

namespace KeypointService.Models.Tests.Inputs;

public class JpegDecoderTests
{
    private static byte[] SmoothGray(int w, int h)
    {
        var pixels = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                pixels[y * w + x] = (byte)(40 + 150.0 * (x + y) / (w + h));
        return pixels;
    }

    private static byte[] SmoothRgb(int w, int h)
    {
        var pixels = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int i = 3 * (y * w + x);
                pixels[i] = (byte)(255.0 * x / w);
                pixels[i + 1] = (byte)(255.0 * y / h);
                pixels[i + 2] = (byte)(128 + 100 * Math.Sin(x / 9.0));
            }
        }
        return pixels;
    }

    [Fact]
    public void GrayJpegDecodesCloseToTheSource()
    {
        const int w = 48, h = 40;
        byte[] pixels = SmoothGray(w, h);
        byte[] jpeg = Jpeg(w, h, pixels, rgb: false, quality: 95);
        InputMap map = InputDecoders.DecodeJpeg(jpeg);
        Assert.Equal((w, h, InputValueDomain.Image), (map.Width, map.Height, map.Domain));
        for (int i = 0; i < pixels.Length; i++)
            Assert.InRange(map.Data[i] - pixels[i], -3f, 3f);
        Assert.Equal(map.Data, InputDecoders.DecodeImage(jpeg).Data);
    }

    [Theory]
    [InlineData(0)] // 4:4:4
    [InlineData(2)] // 4:2:0
    public void ColourJpegBecomesLuma(int subsampling)
    {
        const int w = 64, h = 33; // not a multiple of the MCU size
        byte[] rgb = SmoothRgb(w, h);
        InputMap map = InputDecoders.DecodeImage(Jpeg(w, h, rgb, rgb: true, quality: 95, subsampling: subsampling));
        double worst = 0;
        for (int i = 0; i < w * h; i++)
        {
            float luma = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
            worst = Math.Max(worst, Math.Abs(map.Data[i] - luma));
        }
        Assert.True(worst < 4, $"largest difference {worst}");
    }

    [Fact]
    public void TruncatedJpegsAreRejected()
    {
        byte[] jpeg = Jpeg(64, 64, SmoothRgb(64, 64), rgb: true);
        foreach (int length in new[] { 0, 1, 2, 3, 10, 100, jpeg.Length / 2, jpeg.Length - 2 })
        {
            var e = Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg(jpeg.AsSpan(0, length)));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
        var half = Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg(jpeg.AsSpan(0, jpeg.Length / 2)));
        Assert.Contains("JPEG", half.Message);
        Assert.Contains(":", half.Message); // TurboJPEG's own explanation follows
    }

    [Fact]
    public void CorruptJpegsAreRejected()
    {
        byte[] jpeg = Jpeg(64, 64, SmoothGray(64, 64), rgb: false);
        byte[] corrupt = (byte[])jpeg.Clone();
        for (int i = corrupt.Length - 300; i < corrupt.Length - 200; i++)
            corrupt[i] = 0xFF; // markers in the middle of the entropy-coded data
        Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg(corrupt));

        Assert.Equal("not a JPEG image (it is a PNG image)", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg(PngEncoder.EncodeGray8(1, 1, [0]))).Message);
        Assert.Equal("not a PNG image (it is a JPEG image)", Assert.Throws<InputFormatException>(() => InputDecoders.DecodePng(jpeg)).Message);
        Assert.Contains("start-of-image", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg("GIF89a"u8)).Message);
    }

    [Fact]
    public void BytesAfterTheEndOfImageAreIgnored()
    {
        // Some cameras and upload paths append data after EOI; libjpeg stops at EOI without a warning.
        byte[] jpeg = Jpeg(24, 16, SmoothGray(24, 16), rgb: false);
        byte[] padded = jpeg.Concat(new byte[100]).Concat("trailer"u8.ToArray()).ToArray();
        Assert.Equal(InputDecoders.DecodeJpeg(jpeg).Data, InputDecoders.DecodeJpeg(padded).Data);
    }

    [Fact]
    public void OversizedJpegsAreRejected()
    {
        byte[] jpeg = Jpeg(4100, 8, new byte[4100 * 8], rgb: false);
        Assert.Contains("4096", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg(jpeg)).Message);
    }

    [Fact]
    public void CmykJpegsAreRefusedClearly()
    {
        const int TJPF_CMYK = 11; // TurboJPEG writes CMYK pixels as a YCCK JPEG
        byte[] jpeg = Jpeg(16, 16, new byte[16 * 16 * 4], rgb: true, pixelFormat: TJPF_CMYK);
        Assert.Contains("CMYK", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeImage(jpeg)).Message);
    }

    [Fact]
    public void FailedCallsDoNotPoisonPooledDecoders()
    {
        byte[] good = Jpeg(32, 32, SmoothGray(32, 32), rgb: false);
        float[] expected = InputDecoders.DecodeJpeg(good).Data;
        for (int i = 0; i < 50; i++)
        {
            Assert.Throws<InputFormatException>(() => InputDecoders.DecodeJpeg(good.AsSpan(0, good.Length / 2)));
            Assert.Equal(expected, InputDecoders.DecodeJpeg(good).Data);
        }
    }

    [Fact]
    public void ConcurrentDecodesAgree()
    {
        byte[] jpeg = Jpeg(96, 80, SmoothRgb(96, 80), rgb: true);
        byte[] png = PngEncoder.EncodeGray16(96, 80, Enumerable.Range(0, 96 * 80).Select(i => (ushort)(i * 8)).ToArray());
        float[] jpegExpected = InputDecoders.DecodeImage(jpeg).Data;
        float[] pngExpected = InputDecoders.DecodeImage(png).Data;
        int failures = 0;
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            bool ok = (i % 3) switch
            {
                0 => InputDecoders.DecodeImage(jpeg).Data.AsSpan().SequenceEqual(jpegExpected),
                1 => InputDecoders.DecodeImage(png).Data.AsSpan().SequenceEqual(pngExpected),
                _ => Record.Exception(() => InputDecoders.DecodeImage(jpeg.AsSpan(0, 300))) is InputFormatException,
            };
            if (!ok)
                Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void DecodeImageNamesUnsupportedFormats()
    {
        Assert.Contains("GIF", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeImage("GIF89a\x01\x00"u8)).Message);
        Assert.Contains("BMP", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeImage("BM\x36\x00\x00\x00"u8)).Message);
        Assert.Contains("empty", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeImage([])).Message);
        Assert.Contains("3C68746D", Assert.Throws<InputFormatException>(() => InputDecoders.DecodeImage("<html>"u8)).Message);
    }

    [Fact]
    public void MatchesPilDecodeAndTheTrainersLuma()
    {
        // PIL (same libjpeg-turbo) decodes to RGB; the trainer's to_raw takes float32 luma (./test.sh installs python3 with NumPy and PIL).
        string dir = TempDirectory();
        try
        {
            const string script = """
                import numpy as np
                from PIL import Image
                y, x = np.mgrid[0:45, 0:70]
                rgb = np.stack([x * 3, y * 5, 128 + 100 * np.sin(x / 7.0)], axis=2).clip(0, 255).astype(np.uint8)
                Image.fromarray(rgb, "RGB").save("c.jpg", quality=90)
                Image.fromarray(rgb[:, :, 1], "L").save("g.jpg", quality=90, progressive=True)
                a = np.asarray(Image.open("c.jpg").convert("RGB")).astype(np.float32)
                (np.float32(0.299) * a[:, :, 0] + np.float32(0.587) * a[:, :, 1] + np.float32(0.114) * a[:, :, 2]).astype("<f4").tofile("c.f32")
                np.asarray(Image.open("g.jpg")).astype("<f4").tofile("g.f32")
                """;
            RunPython(script, dir);
            foreach (string name in new[] { "c", "g" })
            {
                InputMap ours = InputDecoders.DecodeImage(File.ReadAllBytes(Path.Combine(dir, name + ".jpg")));
                InputMap theirs = InputDecoders.ParseRawFloat32(File.ReadAllBytes(Path.Combine(dir, name + ".f32")), 70, 45);
                double worst = ours.Data.Zip(theirs.Data, (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-4, $"{name}: largest difference {worst}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CompressorHelperRoundTripsItsSize()
    {
        byte[] jpeg = Jpeg(5, 3, new byte[15], rgb: false);
        InputMap map = InputDecoders.DecodeJpeg(jpeg);
        Assert.Equal((5, 3), (map.Width, map.Height));
        Assert.All(map.Data, v => Assert.Equal(0f, v));
    }
}
