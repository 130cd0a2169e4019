using System.Globalization;
using System.Text.RegularExpressions;

namespace KeypointService.Api.Beds.Monitoring;

/// <summary>Frame timestamps: RFC 3339 with an offset, or Unix milliseconds; written back as RFC 3339 UTC.</summary>
public static partial class Times
{
    /// <summary>Latest accepted time (9999-12-31T23:59:59.999Z).</summary>
    public const long MaxMs = 253402300799999;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();

    /// <summary>Parses a timestamp; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out long ms, out string error)
    {
        ms = 0;
        error = "";
        if (string.IsNullOrWhiteSpace(text)) { error = "timestamp is missing (RFC 3339 such as 2026-12-01T22:15:00Z, or Unix milliseconds)"; return false; }
        text = text.Trim();
        if (text.All(char.IsAsciiDigit))
        {
            if (text.Length > 15 || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ms) || ms > MaxMs)
            { error = $"timestamp '{Shorten(text)}' is out of range for Unix milliseconds"; return false; }
            return true;
        }
        if (!Rfc3339().IsMatch(text) ||
            !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            error = $"timestamp '{Shorten(text)}' is neither RFC 3339 with a time zone (2026-12-01T22:15:00Z, 2026-12-01T23:15:00+01:00) nor Unix milliseconds";
            return false;
        }
        ms = parsed.ToUnixTimeMilliseconds();
        if (ms < 0) { error = $"timestamp '{Shorten(text)}' is before 1970"; return false; }
        return true;
    }

    public static string Format(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string? Format(long? ms) => ms is { } v ? Format(v) : null;

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
