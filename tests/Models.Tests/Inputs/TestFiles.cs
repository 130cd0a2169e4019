using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using KeypointService.Models.Inputs.Native;

namespace KeypointService.Models.Tests.Inputs;

/// <summary>Fixture files built at test time (nothing binary is committed).</summary>
internal static class TestFiles
{
    // ---------------------------------------------------------------- PNG, written by hand
    // An independent managed writer (zlib from System.IO.Compression, CRC-32 below) that stores exactly
    // the samples given, in any colour type and bit depth, with optional extra chunks: the oracle for
    // the libpng-based decoder.

    public const int Gray = 0, Rgb = 2, Palette = 3, GrayAlpha = 4, Rgba = 6;

    /// <summary>A PNG from unfiltered sample bytes (rows packed, 16-bit samples big-endian, no filter bytes).</summary>
    public static byte[] Png(int width, int height, int bitDepth, int colorType, byte[] rows,
        params (string Type, byte[] Data)[] chunksBeforeIdat)
    {
        int channels = colorType switch { Gray => 1, Rgb => 3, Palette => 1, GrayAlpha => 2, Rgba => 4, _ => throw new ArgumentException("colour type") };
        int rowBytes = (width * channels * bitDepth + 7) / 8;
        Assert.Equal(rowBytes * height, rows.Length);
        var raw = new byte[(rowBytes + 1) * height];
        for (int y = 0; y < height; y++)
            rows.AsSpan(y * rowBytes, rowBytes).CopyTo(raw.AsSpan(y * (rowBytes + 1) + 1)); // filter type 0
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        var stream = new MemoryStream();
        stream.Write(PngSignature);
        WriteChunk(stream, "IHDR", ihdr);
        foreach (var (type, data) in chunksBeforeIdat)
            WriteChunk(stream, type, data);
        WriteChunk(stream, "IDAT", Zlib(raw));
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Samples16(ReadOnlySpan<ushort> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2 * i), values[i]);
        return bytes;
    }

    /// <summary>gAMA chunk data for a gamma given as 100000 × gamma (45455 = 1/2.2).</summary>
    public static (string, byte[]) Gama(uint gammaTimes100000)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, gammaTimes100000);
        return ("gAMA", data);
    }

    /// <summary>Inserts a chunk right after IHDR of an existing PNG.</summary>
    public static byte[] InsertAfterIhdr(byte[] png, string type, byte[] data)
    {
        const int afterIhdr = 8 + 12 + 13;
        var stream = new MemoryStream();
        stream.Write(png, 0, afterIhdr);
        WriteChunk(stream, type, data);
        stream.Write(png, afterIhdr, png.Length - afterIhdr);
        return stream.ToArray();
    }

    public static List<string> ChunkTypes(byte[] png)
    {
        var types = new List<string>();
        for (int pos = 8; pos + 12 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            types.Add(Encoding.ASCII.GetString(png, pos + 4, 4));
            pos += 12 + length;
        }
        return types;
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        uint crc = Crc32(typeBytes, 0xFFFFFFFFu);
        crc = Crc32(data, crc) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        stream.Write(word);
    }

    private static byte[] Zlib(byte[] raw)
    {
        var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
            z.Write(raw);
        return output.ToArray();
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static uint Crc32(ReadOnlySpan<byte> data, uint crc)
    {
        foreach (byte b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    // ---------------------------------------------------------------- JPEG, through TurboJPEG's encoder

    /// <summary>Compresses 8-bit pixels (TJPF_GRAY or TJPF_RGB, or the given TJPF_*) with tjCompress2.</summary>
    public static unsafe byte[] Jpeg(int width, int height, byte[] pixels, bool rgb, int quality = 95, int subsampling = -1, int pixelFormat = -1)
    {
        if (pixelFormat < 0)
            pixelFormat = rgb ? TurboJpeg.PixelFormatRgb : TurboJpeg.PixelFormatGray;
        if (subsampling < 0)
            subsampling = rgb ? TurboJpeg.Subsampling444 : TurboJpeg.SubsamplingGray;
        nint handle = TurboJpeg.tjInitCompress();
        Assert.NotEqual(0, handle);
        byte* jpeg = null;
        try
        {
            CULong size = default;
            fixed (byte* src = pixels)
            {
                int rc = TurboJpeg.tjCompress2(handle, src, width, 0, height, pixelFormat, &jpeg, &size, subsampling, quality, 0);
                Assert.True(rc == 0, TurboJpeg.ErrorText(handle));
            }
            return new ReadOnlySpan<byte>(jpeg, checked((int)size.Value)).ToArray();
        }
        finally
        {
            if (jpeg != null)
                TurboJpeg.tjFree(jpeg);
            TurboJpeg.tjDestroy(handle);
        }
    }

    // ---------------------------------------------------------------- .npy, written by hand

    public static byte[] Npy(string descr, bool fortran, string shape, byte[] data, int version = 1, string? headerOverride = null)
    {
        string dict = headerOverride ?? $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0]);
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        Span<byte> length = stackalloc byte[4];
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)headerBytes.Length);
            stream.Write(length[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)headerBytes.Length);
            stream.Write(length);
        }
        stream.Write(headerBytes);
        stream.Write(data);
        return stream.ToArray();
    }

    public static byte[] Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();

    // ---------------------------------------------------------------- /usr/bin/python3 (NumPy, PIL): an independent oracle

    /// <summary>
    /// Runs a Python snippet in <paramref name="directory"/> and fails the test when it cannot: the test
    /// command installs python3 with NumPy and PIL, so a missing one is a broken set-up, not a skip.
    /// </summary>
    public static void RunPython(string script, string directory)
    {
        Assert.True(File.Exists("/usr/bin/python3"), "/usr/bin/python3 is missing; ./test.sh (scripts/setup.sh) installs it with python3-numpy and python3-pil");
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        info.ArgumentList.Add("-");
        using var process = Process.Start(info)!;
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"the Python oracle failed (exit {process.ExitCode}):\n{output}{stderr.Result}");
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kps-inputs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
