using System.Buffers.Binary;
using KeypointService.Models.Inputs;
using static KeypointService.Models.Tests.Inputs.TestFiles;

namespace KeypointService.Models.Tests.Inputs;

public class NpyParserTests
{
    // A 3 x 4 array with values r * 10 + c.
    private static readonly float[] Expected = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23];

    private static IEnumerable<double> Fortran(float[] rowMajor, int h, int w) =>
        Enumerable.Range(0, w * h).Select(k => (double)rowMajor[(k % h) * w + k / h]);

    private static byte[] Encode(string descr, IEnumerable<double> values)
    {
        int size = int.Parse(descr[2..]);
        bool big = descr[0] == '>';
        var bytes = new List<byte>();
        foreach (double v in values)
        {
            var b = new byte[size];
            switch (descr[1], size)
            {
                case ('f', 2): BinaryPrimitives.WriteHalfLittleEndian(b, (Half)v); break;
                case ('f', 4): BinaryPrimitives.WriteSingleLittleEndian(b, (float)v); break;
                case ('f', 8): BinaryPrimitives.WriteDoubleLittleEndian(b, v); break;
                case ('u', 1): b[0] = (byte)v; break;
                case ('i', 1): b[0] = (byte)(sbyte)v; break;
                case ('b', 1): b[0] = v != 0 ? (byte)1 : (byte)0; break;
                case ('u', 2): BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); break;
                case ('i', 2): BinaryPrimitives.WriteInt16LittleEndian(b, (short)v); break;
                case ('u', 4): BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); break;
                case ('i', 4): BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); break;
                case ('u', 8): BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)v); break;
                case ('i', 8): BinaryPrimitives.WriteInt64LittleEndian(b, (long)v); break;
                default: throw new ArgumentException(descr);
            }
            if (big)
                Array.Reverse(b);
            bytes.AddRange(b);
        }
        return bytes.ToArray();
    }

    [Theory]
    [InlineData("<f4")]
    [InlineData(">f4")]
    [InlineData("<f8")]
    [InlineData(">f8")]
    [InlineData("<f2")]
    [InlineData("|u1")]
    [InlineData("|i1")]
    [InlineData("<u2")]
    [InlineData(">u2")]
    [InlineData("<i2")]
    [InlineData("<u4")]
    [InlineData("<i4")]
    [InlineData(">i4")]
    [InlineData("<u8")]
    [InlineData("<i8")]
    public void ReadsEveryDtypeInBothOrders(string descr)
    {
        foreach (bool fortran in new[] { false, true })
        {
            IEnumerable<double> values = fortran ? Fortran(Expected, 3, 4) : Expected.Select(v => (double)v);
            InputMap map = InputDecoders.ParseNpy(Npy(descr, fortran, "(3, 4)", Encode(descr, values)));
            Assert.Equal((4, 3, InputValueDomain.Raw), (map.Width, map.Height, map.Domain));
            Assert.Equal(Expected, map.Data);
        }
    }

    [Fact]
    public void ReadsBoolAndNegativeValues()
    {
        Assert.Equal(new float[] { 1, 0, 1, 1 }, InputDecoders.ParseNpy(Npy("|b1", false, "(2, 2)", [1, 0, 7, 1])).Data);
        Assert.Equal(new float[] { -128, 127, -1, 0 },
            InputDecoders.ParseNpy(Npy("<i2", false, "(2, 2)", Encode("<i2", [-128, 127, -1, 0]))).Data);
        Assert.Equal(new float[] { 65535, 0 }, InputDecoders.ParseNpy(Npy("<u2", false, "(1, 2)", Encode("<u2", [65535, 0]))).Data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ReadsFormatVersions(int version)
    {
        InputMap map = InputDecoders.ParseNpy(Npy("<f4", false, "(3, 4)", Bytes<float>(Expected), version));
        Assert.Equal(Expected, map.Data);
    }

    [Theory]
    [InlineData("(1, 3, 4)")]
    [InlineData("(3, 4, 1)")]
    [InlineData("(1, 1, 3, 4)")]
    [InlineData("(1, 3, 4, 1)")]
    [InlineData("(3L, 4L)")]
    [InlineData("(3,4)")]
    public void AcceptsSqueezableShapes(string shape)
    {
        foreach (bool fortran in new[] { false, true })
        {
            IEnumerable<double> values = fortran ? Fortran(Expected, 3, 4) : Expected.Select(v => (double)v);
            InputMap map = InputDecoders.ParseNpy(Npy("<f4", fortran, shape, Encode("<f4", values)));
            Assert.Equal((4, 3), (map.Width, map.Height));
            Assert.Equal(Expected, map.Data);
        }
    }

    [Fact]
    public void SingleRowsAndColumnsAreTwoDimensional()
    {
        Assert.Equal((5, 1), Size(InputDecoders.ParseNpy(Npy("<f4", false, "(1, 5)", new byte[20]))));
        Assert.Equal((1, 5), Size(InputDecoders.ParseNpy(Npy("<f4", true, "(5, 1)", new byte[20]))));
        static (int, int) Size(InputMap m) => (m.Width, m.Height);
    }

    [Theory]
    [InlineData("()", 4, "scalar")]
    [InlineData("(12,)", 48, "1-D (shape (12,))")]
    [InlineData("(2, 3, 2)", 48, "3-D (shape (2, 3, 2))")]
    [InlineData("(3, 4, 3)", 144, "3-D")]
    [InlineData("(2, 1, 1, 2)", 16, "4-D")]
    public void WrongRankIsAnError(string shape, int bytes, string expected)
    {
        string message = Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(Npy("<f4", false, shape, new byte[bytes]))).Message;
        Assert.Contains(expected, message);
        Assert.Contains("expected a 2-D array", message);
    }

    [Theory]
    [InlineData("<c8")]
    [InlineData("<U3")]
    [InlineData("|O")]
    [InlineData("<M8[ns]")]
    [InlineData("<f16")]
    [InlineData("<u3")]
    [InlineData("|V4")]
    public void UnsupportedDtypesAreErrors(string descr)
    {
        string message = Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(Npy(descr, false, "(1, 1)", new byte[16]))).Message;
        Assert.Contains($"unsupported .npy dtype '{descr}'", message);
    }

    [Fact]
    public void StructuredDtypesAreErrors()
    {
        byte[] npy = Npy("", false, "", new byte[8], headerOverride: "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1, 1), }");
        Assert.Contains("structured", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(npy)).Message);
    }

    [Fact]
    public void TruncatedAndOverlongDataAreErrors()
    {
        byte[] npy = Npy("<f4", false, "(3, 4)", Bytes<float>(Expected));
        string truncated = Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(npy.AsSpan(0, npy.Length - 3))).Message;
        Assert.Equal("the .npy data is truncated: shape (3, 4) of '<f4' needs 48 bytes, 45 are present", truncated);
        string extra = Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(npy.Concat(new byte[4]).ToArray())).Message;
        Assert.Contains("4 unexpected bytes", extra);

        foreach (int length in new[] { 1, 5, 6, 9, 10, 40 })
            Assert.Contains("truncated", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(npy.AsSpan(0, length))).Message);
    }

    [Fact]
    public void AHeaderClaimingAHugeArrayIsRefusedWithoutAllocatingIt()
    {
        // NumSharp 0.70's np.load allocates what such a header claims (40 GB here) before reading the body
        // (tools/package-eval): the reason this parser stays ours.
        byte[] npy = Npy("<f4", false, "(100000, 100000)", new byte[48]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        string message = Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(npy)).Message;
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated more than 1 MiB");
        Assert.Contains("100000", message);
    }

    [Fact]
    public void BadMagicVersionAndHeaderAreErrors()
    {
        Assert.Contains("magic", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy("PK\x03\x04 a zip file"u8)).Message);
        Assert.Contains("empty", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy([])).Message);

        byte[] v4 = Npy("<f4", false, "(1, 1)", new byte[4]);
        v4[6] = 4;
        Assert.Contains("version 4.0", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(v4)).Message);

        foreach (string header in new[]
        {
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'shape': (1, 1)}",
            "{'fortran_order': False, 'shape': (1, 1)}",
            "{'descr': '<f4', 'fortran_order': maybe, 'shape': (1, 1)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -1)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)",
            "['descr', '<f4']",
            "",
        })
        {
            var e = Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(Npy("", false, "", new byte[4], headerOverride: header)));
            Assert.Contains(".npy header", e.Message);
        }
    }

    [Fact]
    public void UnknownHeaderKeysAreIgnored()
    {
        byte[] npy = Npy("", false, "", Bytes<float>([1f, 2f]),
            headerOverride: "{'shape': (1, 2), 'extra': [1, (2, 'x'), {'y': None}], 'descr': \"<f4\", 'fortran_order': False}");
        Assert.Equal(new float[] { 1, 2 }, InputDecoders.ParseNpy(npy).Data);
    }

    [Fact]
    public void NonFiniteAndOutOfRangeValuesAreErrors()
    {
        string nan = Assert.Throws<InputFormatException>(() =>
            InputDecoders.ParseNpy(Npy("<f4", false, "(2, 2)", Bytes<float>([1f, 2f, 3f, float.NaN])))).Message;
        Assert.StartsWith("the value at row 2, column 2 is NaN", nan);
        string big = Assert.Throws<InputFormatException>(() =>
            InputDecoders.ParseNpy(Npy("<f8", false, "(1, 2)", Bytes<double>([1.0, 1e300])))).Message;
        Assert.Contains("row 1, column 2", big);
        Assert.Contains("float32 range", big);
    }

    [Fact]
    public void SizeLimitsAreEnforced()
    {
        Assert.Contains("4096", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(Npy("|u1", false, "(1, 4097)", new byte[4097]))).Message);
        Assert.Contains("4096", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(Npy("|u1", false, "(99999999999999999999, 2)", new byte[2]))).Message);
        Assert.Contains("empty", Assert.Throws<InputFormatException>(() => InputDecoders.ParseNpy(Npy("<f4", false, "(0, 3)", []))).Message);
    }

    [Fact]
    public void MatchesNumpySave()
    {
        // Files written by numpy.save itself (./test.sh installs python3 with NumPy).
        string dir = TempDirectory();
        try
        {
            const string script = """
                import numpy as np
                a = (np.arange(35, dtype=np.float64).reshape(5, 7) * 1.5 - 20)
                for dt in ["<f4", ">f4", "<f8", "<u2", "|u1", "<i4", "<f2"]:
                    b = np.abs(a) if dt[1] == "u" else a
                    np.save(dt[1:] + ("be" if dt[0] == ">" else "") + ".npy", b.astype(dt))
                    np.save(dt[1:] + ("be" if dt[0] == ">" else "") + "-f.npy", np.asfortranarray(b.astype(dt)))
                np.save("nchw.npy", a.astype(np.float32)[None, None])
                np.save("hw1.npy", np.asfortranarray(a.astype(np.float32)[:, :, None]))
                """;
            RunPython(script, dir);
            var values = Enumerable.Range(0, 35).Select(i => i * 1.5 - 20).ToArray();
            foreach (string file in Directory.GetFiles(dir, "*.npy"))
            {
                string name = Path.GetFileNameWithoutExtension(file);
                InputMap map = InputDecoders.ParseNpy(File.ReadAllBytes(file));
                Assert.Equal((7, 5), (map.Width, map.Height));
                float[] expected = values.Select(v => name[0] == 'u' ? Math.Abs(v) : v)
                    .Select(v => name.StartsWith("i4") || name[0] == 'u' ? Math.Truncate(v) : v)
                    .Select(v => (float)v).ToArray();
                Assert.True(expected.SequenceEqual(map.Data), name);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
