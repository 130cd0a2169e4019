using System.Diagnostics;
using KeypointService.Models.Inputs;
using Xunit.Abstractions;
using static KeypointService.Models.Tests.Inputs.TestFiles;

namespace KeypointService.Models.Tests.Inputs;

/// <summary>
/// Records timings of 256 × 256 decodes in the test output (the target is well under a millisecond
/// each on a quiet machine). Not a timed test: the build machines are shared with training runs, so
/// the only bound asserted (a 50 ms median) catches pathological regressions, not slowness.
/// </summary>
public class DecoderTimingTests(ITestOutputHelper output)
{
    private const int Side = 256;

    private double MedianMicroseconds(string name, Func<InputMap> decode, int count = 60)
    {
        for (int i = 0; i < 5; i++)
            decode(); // warm-up (JIT, pooled handles)
        var samples = new double[count];
        for (int i = 0; i < samples.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            decode();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        double median = samples[samples.Length / 2];
        output.WriteLine($"{name,-28} median {median,8:F1} µs   p90 {samples[samples.Length * 9 / 10],8:F1} µs");
        return median;
    }

    [Fact]
    public void DecodesOf256x256AreFast()
    {
        var random = new Random(3);
        var gray = new byte[Side * Side];
        var rgb = new byte[Side * Side * 3];
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                int i = y * Side + x;
                gray[i] = (byte)((x ^ y) + random.Next(8));
                rgb[3 * i] = (byte)x;
                rgb[3 * i + 1] = (byte)y;
                rgb[3 * i + 2] = (byte)random.Next(256);
            }
        }
        var wide = gray.Select(b => (ushort)(b * 257)).ToArray();
        byte[] png8 = PngEncoder.EncodeGray8(Side, Side, gray);
        byte[] png16 = PngEncoder.EncodeGray16(Side, Side, wide);
        byte[] pngRgb = Png(Side, Side, 8, Rgb, rgb);
        byte[] jpegGray = Jpeg(Side, Side, gray, rgb: false, quality: 90);
        byte[] jpegRgb = Jpeg(Side, Side, rgb, rgb: true, quality: 90, subsampling: 2);
        byte[] raw = Bytes<float>(gray.Select(b => (float)b).ToArray());
        byte[] npy = Npy("<f4", false, $"({Side}, {Side})", raw);
        byte[] csv = System.Text.Encoding.ASCII.GetBytes(string.Join("\n",
            Enumerable.Range(0, Side).Select(r => string.Join(",", gray.Skip(r * Side).Take(Side)))));

        var medians = new[]
        {
            MedianMicroseconds("PNG gray 8-bit", () => InputDecoders.DecodeImage(png8)),
            MedianMicroseconds("PNG gray 16-bit", () => InputDecoders.DecodeImage(png16)),
            MedianMicroseconds("PNG RGB 8-bit", () => InputDecoders.DecodeImage(pngRgb)),
            MedianMicroseconds("JPEG gray", () => InputDecoders.DecodeImage(jpegGray)),
            MedianMicroseconds("JPEG RGB 4:2:0", () => InputDecoders.DecodeImage(jpegRgb)),
            MedianMicroseconds("raw float32", () => InputDecoders.ParseRawFloat32(raw, Side, Side)),
            MedianMicroseconds(".npy <f4", () => InputDecoders.ParseNpy(npy)),
            MedianMicroseconds("CSV (integers)", () => InputDecoders.ParseCsv(csv), count: 10),
        };
        MedianMicroseconds("PNG encode gray 8-bit", () => { PngEncoder.EncodeGray8(Side, Side, gray); return null!; });
        MedianMicroseconds("PNG encode gray 16-bit", () => { PngEncoder.EncodeGray16(Side, Side, wide); return null!; });
        Assert.All(medians.Take(5), m => Assert.True(m < 50_000, $"median {m} µs"));
    }
}
