using System.Globalization;
using System.Text;

namespace KeypointService.Models.Inputs;

/// <summary>
/// A pressure-mat export: rows of numbers, one row per line.
/// <list type="bullet">
/// <item>UTF-8 or ASCII (a UTF-8 BOM is skipped); lines end with LF, CRLF or CR.</item>
/// <item>The separator is the comma, or the semicolon when the text contains a semicolon anywhere;
/// then a comma inside a number is a decimal comma (<c>1,5;2,25</c>). A line containing the
/// separator is split on it and each field is trimmed of spaces/tabs (so a header
/// <c>Sensor 1,Sensor 2</c> has two fields); a line without it is split on runs of spaces/tabs
/// (tab-separated and space-aligned exports). A quoted value (<c>"1,5"</c>) may also use a decimal
/// comma. One trailing separator at the end of a line is allowed.</item>
/// <item>Blank lines and lines starting with <c>#</c> are ignored. The first remaining line is
/// skipped as a header when none of its fields is a number; a line mixing numbers and text is an
/// error.</item>
/// <item>Every row must have as many values as the first; NaN/Infinity, empty fields and text are
/// errors naming the row (and the line, when that differs) and the column.</item>
/// </list>
/// </summary>
internal static class CsvParser
{
    private const int MaxTokenEcho = 32;

    public static InputMap Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            utf8 = utf8[3..];
        else if (utf8.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || utf8.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            throw new InputFormatException("the CSV is UTF-16 text; send UTF-8 or ASCII");

        bool semicolonMode = utf8.IndexOf((byte)';') >= 0;
        byte separator = semicolonMode ? (byte)';' : (byte)',';

        var values = new List<float>(Math.Min(utf8.Length / 2 + 1, 1 << 16));
        int columns = -1, rows = 0, line = 0;
        bool headerSeen = false, firstContent = true;
        int pos = 0;
        while (pos < utf8.Length)
        {
            ReadOnlySpan<byte> rest = utf8[pos..];
            int end = rest.IndexOfAny((byte)'\n', (byte)'\r');
            ReadOnlySpan<byte> text = end < 0 ? rest : rest[..end];
            pos += end < 0 ? rest.Length : end + 1;
            if (end >= 0 && rest[end] == (byte)'\r' && pos < utf8.Length && utf8[pos] == (byte)'\n')
                pos++;
            line++;

            text = text.Trim(" \t"u8);
            if (text.IsEmpty || text[0] == (byte)'#')
                continue;

            if (firstContent)
            {
                firstContent = false;
                if (IsHeader(text, separator, semicolonMode))
                {
                    headerSeen = true;
                    continue;
                }
            }

            rows++;
            if (rows > InputMap.MaxSide)
                throw new InputFormatException($"the CSV has more than {InputMap.MaxSide} rows");
            int count = ParseRow(text, separator, semicolonMode, values, rows, line);
            if (columns < 0)
                columns = count;
            else if (count != columns)
                throw new InputFormatException($"{Row(rows, line)} has {count} values, expected {columns}");
        }

        if (rows == 0)
            throw new InputFormatException(headerSeen
                ? "the CSV has a header line but no rows of numbers"
                : "the CSV contains no rows of numbers");
        return new InputMap(columns, rows, values.ToArray(), InputValueDomain.Raw, trusted: true);
    }

    private static string Row(int row, int line) => row == line ? $"row {row}" : $"row {row} (line {line})";

    private static bool IsHeader(ReadOnlySpan<byte> text, byte separator, bool semicolonMode)
    {
        var tokens = new Tokenizer(text, separator);
        while (tokens.Next(out ReadOnlySpan<byte> token, out bool quoted))
        {
            if (token.IsEmpty)
                continue;
            if (TryParseNumber(token, semicolonMode || quoted, out _) || IsNonFiniteWord(token))
                return false;
        }
        return true;
    }

    private static int ParseRow(ReadOnlySpan<byte> text, byte separator, bool semicolonMode, List<float> values,
        int row, int line)
    {
        var tokens = new Tokenizer(text, separator);
        int column = 0;
        while (tokens.Next(out ReadOnlySpan<byte> token, out bool quoted))
        {
            column++;
            if (column > InputMap.MaxSide)
                throw new InputFormatException($"{Row(row, line)} has more than {InputMap.MaxSide} values");
            if (token.IsEmpty)
                throw new InputFormatException($"{Row(row, line)}, column {column} is empty");
            if (!TryParseNumber(token, semicolonMode || quoted, out double value))
            {
                throw new InputFormatException(IsNonFiniteWord(token)
                    ? $"{Row(row, line)}, column {column}: {Echo(token)} is not a finite number; NaN and Infinity are not accepted"
                    : $"{Row(row, line)}, column {column}: {Echo(token)} is not a number");
            }
            float single = (float)value;
            if (!float.IsFinite(single))
            {
                throw new InputFormatException(double.IsFinite(value)
                    ? $"{Row(row, line)}, column {column}: {Echo(token)} is outside the float32 range"
                    : $"{Row(row, line)}, column {column}: {Echo(token)} is not a finite number; NaN and Infinity are not accepted");
            }
            values.Add(single);
        }
        return column;
    }

    private static bool TryParseNumber(ReadOnlySpan<byte> token, bool decimalComma, out double value)
    {
        value = 0;
        if (token.Length > 64)
            return false;
        int comma = token.IndexOf((byte)',');
        if (comma >= 0)
        {
            // A decimal comma: exactly one comma and no decimal point.
            if (!decimalComma || token.LastIndexOf((byte)',') != comma || token.IndexOf((byte)'.') >= 0)
                return false;
            Span<byte> copy = stackalloc byte[token.Length];
            token.CopyTo(copy);
            copy[comma] = (byte)'.';
            return Parse(copy, out value);
        }
        return Parse(token, out value);

        // Accepts "NaN"/"Infinity" too; the caller reports those as non-finite.
        static bool Parse(ReadOnlySpan<byte> s, out double v) =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
    }

    private static bool IsNonFiniteWord(ReadOnlySpan<byte> token)
    {
        if (token.Length > 0 && (token[0] == (byte)'+' || token[0] == (byte)'-'))
            token = token[1..];
        return token.Length is >= 3 and <= 9 && (
            Ascii.EqualsIgnoreCase(token, "nan"u8) || Ascii.EqualsIgnoreCase(token, "inf"u8)
            || Ascii.EqualsIgnoreCase(token, "infinity"u8) || Ascii.EqualsIgnoreCase(token, "1.#INF"u8)
            || Ascii.EqualsIgnoreCase(token, "1.#QNAN"u8));
    }

    /// <summary>The token for an error message: quoted, at most 32 characters, control characters replaced.</summary>
    internal static string Echo(ReadOnlySpan<byte> token)
    {
        bool cut = token.Length > MaxTokenEcho;
        string text = Encoding.UTF8.GetString(cut ? token[..MaxTokenEcho] : token);
        var sb = new StringBuilder(text.Length + 3).Append('\'');
        foreach (char c in text)
            sb.Append(char.IsControl(c) ? '?' : c);
        return sb.Append(cut ? "…'" : "'").ToString();
    }

    /// <summary>
    /// Splits one (trimmed) line into fields. A line that contains the separator is split on it, each
    /// field trimmed of spaces/tabs (so "Sensor 1,Sensor 2" is two fields); any other line is split on
    /// runs of spaces/tabs. An empty span is an empty field; one trailing separator is tolerated.
    /// A field in double quotes is returned without them (and flagged, for decimal commas).
    /// </summary>
    private ref struct Tokenizer(ReadOnlySpan<byte> line, byte separator)
    {
        private readonly ReadOnlySpan<byte> _line = line;
        private readonly byte _separator = separator;
        private readonly bool _split = line.IndexOf(separator) >= 0;
        private int _pos;

        public bool Next(out ReadOnlySpan<byte> token, out bool quoted)
        {
            quoted = false;
            token = default;
            SkipBlanks();
            if (_pos >= _line.Length)
                return false; // end of line, or a single trailing separator
            int start = _pos;
            if (_line[_pos] == (byte)'"')
            {
                int close = _line[(_pos + 1)..].IndexOf((byte)'"');
                if (close >= 0)
                {
                    int after = _pos + close + 2;
                    int next = after;
                    while (next < _line.Length && IsBlank(_line[next]))
                        next++;
                    if (next >= _line.Length || (_split ? _line[next] == _separator : next > after))
                    {
                        token = _line.Slice(_pos + 1, close);
                        quoted = true;
                        _pos = next;
                        ConsumeSeparator();
                        return true;
                    }
                }
            }
            if (_split)
            {
                int sep = _line[_pos..].IndexOf(_separator);
                int end = sep < 0 ? _line.Length : _pos + sep;
                token = _line[start..end].TrimEnd(" \t"u8);
                _pos = end;
                ConsumeSeparator();
            }
            else
            {
                while (_pos < _line.Length && !IsBlank(_line[_pos]))
                    _pos++;
                token = _line[start.._pos];
            }
            return true;
        }

        private static bool IsBlank(byte b) => b == (byte)' ' || b == (byte)'\t';

        // In separator mode, blanks before a field are skipped; a separator right at the start of a
        // field means the field is empty, which SkipBlanks leaves for the caller to see.
        private void SkipBlanks()
        {
            while (_pos < _line.Length && IsBlank(_line[_pos]))
                _pos++;
        }

        private void ConsumeSeparator()
        {
            if (_split && _pos < _line.Length && _line[_pos] == _separator)
                _pos++;
        }
    }
}
