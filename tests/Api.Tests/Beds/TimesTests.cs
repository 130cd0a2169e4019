using KeypointService.Api.Beds.Monitoring;

namespace KeypointService.Api.Tests.Beds;

public class TimesTests
{
    [Theory]
    [InlineData("2026-12-01T22:15:00Z", 1796163300000)]
    [InlineData("2026-12-01T23:15:00+01:00", 1796163300000)]
    [InlineData("2026-12-01T22:15:00.250Z", 1796163300250)]
    [InlineData("1796163300000", 1796163300000)]
    [InlineData("0", 0)]
    public void Parses_rfc3339_with_a_zone_and_unix_milliseconds(string text, long expected)
    {
        Assert.True(Times.TryParse(text, out var ms, out var error), error);
        Assert.Equal(expected, ms);
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("", "missing")]
    [InlineData("2026-12-01T22:15:00", "time zone")]
    [InlineData("2026-13-01T22:15:00Z", "time zone")]
    [InlineData("yesterday", "neither")]
    [InlineData("-5", "neither")]
    [InlineData("99999999999999999999", "out of range")]
    [InlineData("1.5", "neither")]
    public void Rejects_everything_else_saying_why(string? text, string expected)
    {
        Assert.False(Times.TryParse(text, out _, out var error));
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Formats_as_rfc3339_utc_with_milliseconds() =>
        Assert.Equal("2026-12-01T22:15:00.250Z", Times.Format(1796163300250));
}
