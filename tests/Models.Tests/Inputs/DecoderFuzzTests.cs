using System.Diagnostics;
using System.Text;
using KeypointService.Models.Inputs;
using KeypointService.Models.Outputs;
using Xunit.Abstractions;
using static KeypointService.Models.Tests.Inputs.TestFiles;

namespace KeypointService.Models.Tests.Inputs;

/// <summary>
/// Random and mutated inputs into every decoder: each call either returns a valid map or throws
/// <see cref="InputFormatException"/>; nothing else (no native crash, no IndexOutOfRange, ...).
/// </summary>
public class DecoderFuzzTests(ITestOutputHelper output)
{
    private delegate InputMap Decoder(byte[] bytes);

    private static readonly (string Name, Decoder Decode)[] Decoders =
    [
        ("image", b => InputDecoders.DecodeImage(b)),
        ("png", b => InputDecoders.DecodePng(b)),
        ("jpeg", b => InputDecoders.DecodeJpeg(b)),
        ("csv", b => InputDecoders.ParseCsv(b)),
        ("npy", b => InputDecoders.ParseNpy(b)),
        ("raw", b => InputDecoders.ParseRawFloat32(b, 4, b.Length / 16 + 1)),
    ];

    private static void Check(Decoder decode, byte[] input, string what)
    {
        InputMap? map = null;
        Exception? error = Record.Exception(() => map = decode(input));
        if (error is not null and not InputFormatException)
            Assert.Fail($"{what}: {error.GetType().Name}: {error.Message} for input {Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}");
        if (map is not null)
        {
            Assert.InRange(map.Width, 1, InputMap.MaxSide);
            Assert.InRange(map.Height, 1, InputMap.MaxSide);
            Assert.Equal(map.Width * map.Height, map.Data.Length);
            Assert.All(map.Data, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void RandomBytesOnlyEverGiveInputFormatException()
    {
        var random = new Random(12345);
        byte[][] prefixes =
        [
            [],
            PngSignature,
            [0xFF, 0xD8, 0xFF],
            [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0],
            [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0],
        ];
        foreach (var (name, decode) in Decoders)
        {
            for (int i = 0; i < 1500; i++)
            {
                byte[] prefix = prefixes[i % prefixes.Length];
                var input = new byte[prefix.Length + random.Next(0, 400)];
                prefix.CopyTo(input, 0);
                random.NextBytes(input.AsSpan(prefix.Length));
                Check(decode, input, name);
            }
        }
    }

    [Fact]
    public void RandomTextOnlyEverGivesInputFormatException()
    {
        var random = new Random(777);
        const string alphabet = "0123456789012345678901234567890123456789..,,;;\t  \n\n\r-+eEnaifNI\"#x";
        var sb = new StringBuilder();
        for (int i = 0; i < 4000; i++)
        {
            sb.Clear();
            int length = random.Next(0, 120);
            for (int k = 0; k < length; k++)
                sb.Append(alphabet[random.Next(alphabet.Length)]);
            Check(b => InputDecoders.ParseCsv(b), Encoding.UTF8.GetBytes(sb.ToString()), "csv");
        }
    }

    [Fact]
    public void MutatedValidFilesOnlyEverGiveInputFormatException()
    {
        var random = new Random(4242);
        var pixels = new byte[40 * 30 * 3];
        random.NextBytes(pixels);
        var npyHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 6), }";
        byte[][] seeds =
        [
            PngEncoder.EncodeGray8(40, 30, pixels.AsSpan(0, 1200)),
            PngEncoder.EncodeGray16(20, 30, Enumerable.Range(0, 600).Select(i => (ushort)(i * 100)).ToArray()),
            Png(40, 30, 8, Rgba, pixels.Concat(pixels.AsSpan(0, 1200).ToArray()).ToArray()),
            Png(10, 10, 8, Palette, pixels.AsSpan(0, 100).ToArray().Select(b => (byte)(b % 4)).ToArray(), ("PLTE", new byte[12]), ("tRNS", [1, 2])),
            Jpeg(40, 30, pixels, rgb: true, quality: 80, subsampling: 2),
            Jpeg(40, 30, pixels.AsSpan(0, 1200).ToArray(), rgb: false),
            Npy("<f4", false, "(5, 6)", new byte[120], headerOverride: npyHeader),
            Npy("<u2", true, "(6, 5)", new byte[60], version: 3),
        ];
        var watch = Stopwatch.StartNew();
        int decoded = 0, rejected = 0;
        foreach (byte[] seed in seeds)
        {
            for (int i = 0; i < 600; i++)
            {
                byte[] input = Mutate(seed, random);
                foreach (var (name, decode) in Decoders)
                    Check(decode, input, name);
                if (Record.Exception(() => InputDecoders.DecodeImage(input)) is null)
                    decoded++;
                else
                    rejected++;
            }
        }
        output.WriteLine($"mutated inputs: {decoded} decoded as images, {rejected} rejected, {watch.ElapsedMilliseconds} ms");
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        byte[] input = (byte[])seed.Clone();
        switch (random.Next(5))
        {
            case 0: // flip a few bits anywhere
                for (int k = random.Next(1, 6); k > 0; k--)
                    input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                return input;
            case 1: // truncate
                return input.AsSpan(0, random.Next(input.Length)).ToArray();
            case 2: // overwrite a run with random bytes
                {
                    int start = random.Next(input.Length);
                    random.NextBytes(input.AsSpan(start, Math.Min(input.Length - start, random.Next(1, 32))));
                    return input;
                }
            case 3: // header fields: set bytes in the first 64 to extreme values
                for (int k = random.Next(1, 4); k > 0; k--)
                    input[random.Next(Math.Min(64, input.Length))] = random.Next(2) == 0 ? (byte)0xFF : (byte)0;
                return input;
            default: // duplicate a slice (repeated chunks, markers)
                {
                    int start = random.Next(input.Length), length = random.Next(1, Math.Min(200, input.Length - start) + 1);
                    return input.Take(start + length).Concat(input.Skip(start)).ToArray();
                }
        }
    }
}
