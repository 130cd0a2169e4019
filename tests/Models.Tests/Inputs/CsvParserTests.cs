using System.Text;
using KeypointService.Models.Inputs;

namespace KeypointService.Models.Tests.Inputs;

public class CsvParserTests
{
    private static InputMap Parse(string text) => InputDecoders.ParseCsv(Encoding.UTF8.GetBytes(text));

    private static string Error(string text) => Assert.Throws<InputFormatException>(() => Parse(text)).Message;

    [Theory]
    [InlineData("1,2,3\n4,5,6\n")]
    [InlineData("1,2,3\r\n4,5,6")]
    [InlineData("1,2,3\r4,5,6\r")]
    [InlineData("1;2;3\n4;5;6\n")]
    [InlineData("1\t2\t3\n4\t5\t6\n")]
    [InlineData("  1   2  3\n4 5\t 6  \n")]
    [InlineData("1, 2, 3\n 4 ,5 ,6\n")]
    [InlineData("1,2,3,\n4,5,6,\n")] // one trailing separator per line
    [InlineData("\n\n1,2,3\n\n\n4,5,6\n\n")]
    [InlineData("# exported by the mat\n1,2,3\n# frame 1\n4,5,6\n")]
    [InlineData("a,b,c\n1,2,3\n4,5,6\n")]
    [InlineData("\"left\";\"middle\";\"right\"\n1;2;3\n4;5;6")]
    [InlineData("\"1\",\"2\",\"3\"\n\"4\",\"5\",\"6\"")]
    [InlineData("1.0,2e0,0.3E1\n+4,5.000,60e-1\n")]
    [InlineData("\uFEFF1,2,3\n4,5,6\n")]
    public void AcceptsCommonLayouts(string text)
    {
        InputMap map = Parse(text);
        Assert.Equal((3, 2, InputValueDomain.Raw), (map.Width, map.Height, map.Domain));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, map.Data);
    }

    [Theory]
    [InlineData("1,5;2,25\n-3;4,0\n")]
    [InlineData("1,5 ; 2,25 ;\n-3 ; 4\n")]
    [InlineData("\"1,5\",\"2,25\"\n-3,4\n")]
    public void AcceptsDecimalCommas(string text)
    {
        Assert.Equal(new float[] { 1.5f, 2.25f, -3, 4 }, Parse(text).Data);
    }

    [Fact]
    public void ParsesAPressureMatExport()
    {
        var sb = new StringBuilder("Sensor 1,Sensor 2,Sensor 3\n"); // a header line of text
        var random = new Random(1);
        var expected = new List<float>();
        for (int r = 0; r < 48; r++)
        {
            var row = Enumerable.Range(0, 84).Select(_ => MathF.Round((float)random.NextDouble() * 300, 2)).ToArray();
            expected.AddRange(row);
            sb.AppendLine(string.Join(",", row.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }
        InputMap map = Parse(sb.ToString());
        Assert.Equal((84, 48), (map.Width, map.Height));
        Assert.Equal(expected, map.Data);
    }

    [Fact]
    public void RaggedRowsNameTheRow()
    {
        Assert.Equal("row 3 has 2 values, expected 3", Error("1,2,3\n4,5,6\n7,8\n"));
        Assert.Equal("row 2 (line 4) has 4 values, expected 3", Error("x,y,z\n1,2,3\n\n4,5,6,7\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n  \n")]
    [InlineData("# only a comment\n")]
    [InlineData("\uFEFF")]
    public void EmptyInputIsAnError(string text)
    {
        Assert.Contains("no rows of numbers", Error(text));
    }

    [Fact]
    public void AHeaderWithoutDataIsAnError()
    {
        Assert.Equal("the CSV has a header line but no rows of numbers", Error("a,b,c\n"));
    }

    [Theory]
    [InlineData("1,2\n3,NaN\n", "row 2, column 2: 'NaN' is not a finite number")]
    [InlineData("1,2\n3,nan\n", "row 2, column 2: 'nan' is not a finite number")]
    [InlineData("1,inf\n3,4\n", "row 1, column 2: 'inf' is not a finite number")]
    [InlineData("1,-Infinity\n3,4\n", "row 1, column 2: '-Infinity' is not a finite number")]
    [InlineData("1,2\n3,1e39\n", "row 2, column 2: '1e39' is outside the float32 range")]
    [InlineData("1,2\n3,abc\n", "row 2, column 2: 'abc' is not a number")]
    [InlineData("h1,h2\n1,2\n3,abc\n", "row 2 (line 3), column 2: 'abc' is not a number")]
    [InlineData("1,,3\n", "row 1, column 2 is empty")]
    [InlineData(",1,3\n", "row 1, column 1 is empty")]
    [InlineData("1,2,,\n", "row 1, column 3 is empty")]
    [InlineData("frame,1\n1,2\n", "row 1, column 1: 'frame' is not a number")]
    [InlineData("1,2.5.1\n", "row 1, column 2: '2.5.1' is not a number")]
    [InlineData("1,0x10\n", "row 1, column 2: '0x10' is not a number")]
    [InlineData("1 2\n3 4 5\n", "row 2 has 3 values, expected 2")]
    [InlineData("Sensor 1,Sensor 2\n1,2\n3 4,5\n", "row 2 (line 3), column 1: '3 4' is not a number")]
    public void BadValuesNameRowAndColumn(string text, string message)
    {
        Assert.StartsWith(message, Error(text));
    }

    [Fact]
    public void ACommaSeparatesUnlessTheFileUsesSemicolons()
    {
        Assert.Equal(new float[] { 1, 1, 0 }, Parse("1,1,000\n").Data);
        Assert.Equal(new float[] { 1, 1 }, Parse("1;1,000\n").Data);
    }

    [Fact]
    public void LongTokensAreClippedInMessages()
    {
        string error = Error("1," + new string('x', 500) + "\n");
        Assert.True(error.Length < 120, error);
        Assert.Contains("…", error);
    }

    [Fact]
    public void LimitsAreEnforced()
    {
        Assert.Contains("4096", Error(string.Join(",", Enumerable.Repeat("1", 4097))));
        Assert.Equal(4096, Parse(string.Join(",", Enumerable.Repeat("1", 4096))).Width);
        Assert.Contains("4096", Error(string.Concat(Enumerable.Repeat("1\n", 4097))));
        Assert.Equal(4096, Parse(string.Concat(Enumerable.Repeat("1\n", 4096))).Height);
    }

    [Fact]
    public void Utf16IsRefused()
    {
        byte[] utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("1,2\n3,4\n")).ToArray();
        Assert.Contains("UTF-16", Assert.Throws<InputFormatException>(() => InputDecoders.ParseCsv(utf16)).Message);
    }

    [Fact]
    public void ControlCharactersAreNotEchoed()
    {
        string error = Assert.Throws<InputFormatException>(() => InputDecoders.ParseCsv("1,\u0001\u0002x\n"u8)).Message;
        Assert.DoesNotContain('\u0001', error);
    }
}
