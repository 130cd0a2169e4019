using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace KeypointService.Models.Inputs;

/// <summary>
/// NumPy <c>.npy</c> (format versions 1.0, 2.0 and 3.0).
/// <list type="bullet">
/// <item>dtypes: float16/32/64, int8/16/32/64, uint8/16/32/64 and bool, little- or big-endian
/// (<c>&lt;f4 &gt;f4 |u1 &lt;u2 …</c>). Values are taken as they are (uint16 is not rescaled: .npy is
/// data, not an image). Structured, complex, string and object dtypes are refused.</item>
/// <item>Shape: 2-D (H, W). Size-1 axes in front or at the back are dropped while more than two
/// axes remain, so (1, H, W), (H, W, 1) and (1, 1, H, W) are accepted as H × W; anything else that is
/// not 2-D is an error.</item>
/// <item>C order and Fortran order. The data must be exactly H·W·itemsize bytes after the header.</item>
/// </list>
/// </summary>
internal static class NpyParser
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private const string Supported = "float16/32/64, int8/16/32/64, uint8/16/32/64 or bool";

    public static InputMap Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            throw new InputFormatException("the .npy file is empty");
        if (!bytes.StartsWith(Magic))
        {
            throw new InputFormatException(bytes.Length < Magic.Length && Magic.StartsWith(bytes)
                ? $"the .npy file is truncated ({bytes.Length} bytes)"
                : "not a NumPy .npy file (the \\x93NUMPY magic is missing)");
        }
        if (bytes.Length < 10)
            throw new InputFormatException($"the .npy file is truncated ({bytes.Length} bytes, the header is incomplete)");

        byte major = bytes[6], minor = bytes[7];
        int headerStart;
        long headerLength;
        switch (major)
        {
            case 1:
                headerStart = 10;
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
                break;
            case 2:
            case 3:
                if (bytes.Length < 12)
                    throw new InputFormatException($"the .npy file is truncated ({bytes.Length} bytes, the header is incomplete)");
                headerStart = 12;
                headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                break;
            default:
                throw new InputFormatException($"unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are supported)");
        }
        if (headerLength > bytes.Length - headerStart)
            throw new InputFormatException(
                $"the .npy header is truncated: it declares {headerLength} bytes, {bytes.Length - headerStart} are present");

        var header = new HeaderReader(bytes.Slice(headerStart, (int)headerLength));
        (string descr, bool fortran, long[] shape) = header.Read();
        (char kind, int itemSize, bool bigEndian) = ParseDtype(descr);
        (int height, int width) = Squeeze(shape);

        ReadOnlySpan<byte> payload = bytes[(headerStart + (int)headerLength)..];
        long expected = (long)width * height * itemSize;
        if (payload.Length < expected)
            throw new InputFormatException(
                $"the .npy data is truncated: shape {ShapeText(shape)} of '{descr}' needs {expected} bytes, {payload.Length} are present");
        if (payload.Length > expected)
            throw new InputFormatException(
                $"the .npy file has {payload.Length - expected} unexpected bytes after the data of shape {ShapeText(shape)} '{descr}'");

        float[] data = Convert(payload, kind, itemSize, bigEndian, width * height);
        if (fortran && width > 1 && height > 1)
            data = Transpose(data, height, width);
        if (kind == 'f')
        {
            int bad = InputMap.IndexOfNonFinite(data);
            if (bad >= 0)
            {
                throw new InputFormatException(
                    $"the value at row {bad / width + 1}, column {bad % width + 1} is {InputMap.Describe(data[bad])}; all values must be finite numbers"
                    + (itemSize == 8 ? " within the float32 range" : ""));
            }
        }
        return new InputMap(width, height, data, InputValueDomain.Raw, trusted: true);
    }

    private static (char Kind, int ItemSize, bool BigEndian) ParseDtype(string descr)
    {
        ReadOnlySpan<char> d = descr;
        bool bigEndian = false;
        if (d.Length > 0 && d[0] is '<' or '>' or '|' or '=')
        {
            bigEndian = d[0] == '>'; // '|' (no byte order) and '=' (native, i.e. little-endian here)
            d = d[1..];
        }
        if (d.Length >= 2 && int.TryParse(d[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size))
        {
            char kind = d[0];
            bool ok = kind switch
            {
                'f' => size is 2 or 4 or 8,
                'i' or 'u' => size is 1 or 2 or 4 or 8,
                'b' => size == 1,
                _ => false,
            };
            if (ok)
                return (kind, size, bigEndian && size > 1);
        }
        throw new InputFormatException($"unsupported .npy dtype '{Clip(descr)}'; expected {Supported}");
    }

    private static (int Height, int Width) Squeeze(long[] shape)
    {
        int first = 0, last = shape.Length - 1;
        while (last - first + 1 > 2 && shape[first] == 1)
            first++;
        while (last - first + 1 > 2 && shape[last] == 1)
            last--;
        int rank = last - first + 1;
        if (rank == 2)
        {
            long h = shape[first], w = shape[first + 1];
            InputMap.CheckSize(w, h, $"the .npy array (shape {ShapeText(shape)})");
            return ((int)h, (int)w);
        }
        string what = shape.Length switch
        {
            0 => "a scalar (shape ())",
            1 => $"1-D (shape {ShapeText(shape)})",
            _ => $"{shape.Length}-D (shape {ShapeText(shape)})",
        };
        throw new InputFormatException(
            $"the .npy array is {what}; expected a 2-D array (height, width) — (1, H, W), (H, W, 1) and (1, 1, H, W) are accepted too");
    }

    internal static string ShapeText(long[] shape) => shape.Length == 1
        ? $"({shape[0]},)"
        : "(" + string.Join(", ", shape) + ")";

    private static float[] Convert(ReadOnlySpan<byte> src, char kind, int size, bool big, int count)
    {
        var data = GC.AllocateUninitializedArray<float>(count);
        Span<float> dst = data;
        switch (kind, size)
        {
            case ('f', 4):
                src.CopyTo(MemoryMarshal.AsBytes(dst));
                if (big == BitConverter.IsLittleEndian)
                {
                    Span<uint> raw = MemoryMarshal.Cast<float, uint>(dst);
                    BinaryPrimitives.ReverseEndianness(raw, raw);
                }
                break;
            case ('f', 8):
                for (int i = 0; i < count; i++)
                {
                    double v = big ? BinaryPrimitives.ReadDoubleBigEndian(src[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                    dst[i] = (float)v; // out-of-range values become ±Infinity and are reported as not finite
                }
                break;
            case ('f', 2):
                for (int i = 0; i < count; i++)
                    dst[i] = (float)(big ? BinaryPrimitives.ReadHalfBigEndian(src[(2 * i)..]) : BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]));
                break;
            case ('u', 1):
            case ('b', 1):
                for (int i = 0; i < count; i++)
                    dst[i] = kind == 'b' ? (src[i] != 0 ? 1f : 0f) : src[i];
                break;
            case ('i', 1):
                for (int i = 0; i < count; i++)
                    dst[i] = (sbyte)src[i];
                break;
            case ('u', 2):
                for (int i = 0; i < count; i++)
                    dst[i] = big ? BinaryPrimitives.ReadUInt16BigEndian(src[(2 * i)..]) : BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]);
                break;
            case ('i', 2):
                for (int i = 0; i < count; i++)
                    dst[i] = big ? BinaryPrimitives.ReadInt16BigEndian(src[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]);
                break;
            case ('u', 4):
                for (int i = 0; i < count; i++)
                    dst[i] = big ? BinaryPrimitives.ReadUInt32BigEndian(src[(4 * i)..]) : BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]);
                break;
            case ('i', 4):
                for (int i = 0; i < count; i++)
                    dst[i] = big ? BinaryPrimitives.ReadInt32BigEndian(src[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]);
                break;
            case ('u', 8):
                for (int i = 0; i < count; i++)
                    dst[i] = big ? BinaryPrimitives.ReadUInt64BigEndian(src[(8 * i)..]) : BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..]);
                break;
            case ('i', 8):
                for (int i = 0; i < count; i++)
                    dst[i] = big ? BinaryPrimitives.ReadInt64BigEndian(src[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"dtype {kind}{size} passed validation but has no converter");
        }
        return data;
    }

    /// <summary>Fortran order (column-major, file index c·H + r) → row-major.</summary>
    private static float[] Transpose(float[] columnMajor, int height, int width)
    {
        var rowMajor = GC.AllocateUninitializedArray<float>(columnMajor.Length);
        for (int c = 0; c < width; c++)
        {
            ReadOnlySpan<float> column = columnMajor.AsSpan(c * height, height);
            for (int r = 0; r < height; r++)
                rowMajor[r * width + c] = column[r];
        }
        return rowMajor;
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>
    /// Reads the header: a Python dict literal such as
    /// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>, padded with spaces and a newline.
    /// </summary>
    private ref struct HeaderReader(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private int _pos;

        public (string Descr, bool Fortran, long[] Shape) Read()
        {
            string? descr = null;
            bool? fortran = null;
            long[]? shape = null;
            Expect('{');
            while (true)
            {
                SkipSpace();
                if (Peek() == '}')
                {
                    _pos++;
                    break;
                }
                string key = ReadString();
                Expect(':');
                SkipSpace();
                switch (key)
                {
                    case "descr":
                        if (Peek() != '\'' && Peek() != '"')
                            throw new InputFormatException($"unsupported .npy dtype (a structured or non-string 'descr'); expected {Supported}");
                        descr = ReadString();
                        break;
                    case "fortran_order":
                        fortran = ReadBool();
                        break;
                    case "shape":
                        shape = ReadShape();
                        break;
                    default:
                        SkipValue(0);
                        break;
                }
                SkipSpace();
                if (Peek() == ',')
                    _pos++;
                else if (Peek() != '}')
                    throw Bad("expected ',' or '}'");
            }
            if (descr is null || fortran is null || shape is null)
                throw Bad($"'{(descr is null ? "descr" : fortran is null ? "fortran_order" : "shape")}' is missing");
            return (descr, fortran.Value, shape);
        }

        private readonly InputFormatException Bad(string what) =>
            new($"the .npy header is not a valid NumPy header ({what} at offset {_pos})");

        private readonly int Peek() => _pos < _text.Length ? _text[_pos] : -1;

        private void SkipSpace()
        {
            while (_pos < _text.Length && _text[_pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                _pos++;
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c)
                throw Bad($"expected '{c}'");
            _pos++;
        }

        private string ReadString()
        {
            SkipSpace();
            int quote = Peek();
            if (quote != '\'' && quote != '"')
                throw Bad("expected a string");
            int close = _text[(_pos + 1)..].IndexOf((byte)quote);
            if (close < 0 || close > 256)
                throw Bad("unterminated string");
            string value = Encoding.UTF8.GetString(_text.Slice(_pos + 1, close));
            _pos += close + 2;
            return value;
        }

        private bool ReadBool()
        {
            if (_text[_pos..].StartsWith("True"u8))
            {
                _pos += 4;
                return true;
            }
            if (_text[_pos..].StartsWith("False"u8))
            {
                _pos += 5;
                return false;
            }
            throw Bad("expected True or False for 'fortran_order'");
        }

        private long[] ReadShape()
        {
            Expect('(');
            var dims = new List<long>(4);
            while (true)
            {
                SkipSpace();
                if (Peek() == ')')
                {
                    _pos++;
                    return dims.ToArray();
                }
                if (dims.Count >= 32)
                    throw Bad("too many dimensions in 'shape'");
                dims.Add(ReadInteger());
                SkipSpace();
                if (Peek() == ',')
                    _pos++;
                else if (Peek() != ')')
                    throw Bad("expected ',' or ')' in 'shape'");
            }
        }

        private long ReadInteger()
        {
            SkipSpace();
            int start = _pos;
            long value = 0;
            while (_pos < _text.Length && _text[_pos] is >= (byte)'0' and <= (byte)'9')
            {
                value = value > long.MaxValue / 10 - 9 ? long.MaxValue : value * 10 + (_text[_pos] - '0');
                _pos++;
            }
            if (_pos == start)
                throw Bad("expected a non-negative integer in 'shape'");
            if (Peek() is 'L' or 'l') // Python 2 long literal
                _pos++;
            return value;
        }

        // Skips a value of a key the reader does not use (strings, numbers, names, nested brackets).
        private void SkipValue(int depth)
        {
            if (depth > 16)
                throw Bad("nesting too deep");
            SkipSpace();
            int c = Peek();
            if (c is '\'' or '"')
            {
                ReadString();
                return;
            }
            if (c is '(' or '[' or '{')
            {
                int close = c == '(' ? ')' : c == '[' ? ']' : '}';
                _pos++;
                while (true)
                {
                    SkipSpace();
                    if (Peek() == close)
                    {
                        _pos++;
                        return;
                    }
                    if (Peek() < 0)
                        throw Bad("unterminated bracket");
                    SkipValue(depth + 1);
                    SkipSpace();
                    if (Peek() is ',' or ':')
                        _pos++;
                }
            }
            int start = _pos;
            while (_pos < _text.Length && _text[_pos] is not ((byte)',' or (byte)'}' or (byte)')' or (byte)']' or (byte)':' or (byte)' '))
                _pos++;
            if (_pos == start)
                throw Bad("expected a value");
        }
    }
}
