using KeypointService.Models.Inputs;
using static KeypointService.Models.Tests.Inputs.TestFiles;

namespace KeypointService.Models.Tests.Inputs;

public class RawAndRowsTests
{
    [Fact]
    public void RawFloat32RoundTrips()
    {
        float[] values = [0f, -1.5f, 3.25e-20f, float.MaxValue, float.Epsilon, 7f];
        InputMap map = InputDecoders.ParseRawFloat32(Bytes<float>(values), 3, 2);
        Assert.Equal((3, 2, InputValueDomain.Raw), (map.Width, map.Height, map.Domain));
        Assert.Equal(values, map.Data);
    }

    [Fact]
    public void RawFloat32LengthMismatchStatesExpectedAndActual()
    {
        Assert.Equal("width × height = 84 × 64 needs 21504 bytes of little-endian float32, got 21500 bytes (5375 values)",
            Assert.Throws<InputFormatException>(() => InputDecoders.ParseRawFloat32(new byte[21500], 84, 64)).Message);
        Assert.Equal("width × height = 2 × 2 needs 16 bytes of little-endian float32, got 15 bytes (not a multiple of 4)",
            Assert.Throws<InputFormatException>(() => InputDecoders.ParseRawFloat32(new byte[15], 2, 2)).Message);
        Assert.Contains("got 0 bytes", Assert.Throws<InputFormatException>(() => InputDecoders.ParseRawFloat32([], 2, 2)).Message);
    }

    [Theory]
    [InlineData(0, 5, "empty")]
    [InlineData(5, -1, "empty")]
    [InlineData(4097, 1, "4096")]
    [InlineData(1, int.MaxValue, "4096")]
    public void RawFloat32DimensionsAreChecked(int width, int height, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InputFormatException>(() => InputDecoders.ParseRawFloat32(new byte[20], width, height)).Message);
    }

    [Fact]
    public void RawFloat32RejectsNonFiniteValues()
    {
        string message = Assert.Throws<InputFormatException>(() =>
            InputDecoders.ParseRawFloat32(Bytes<float>([1f, 2f, 3f, float.PositiveInfinity]), 2, 2)).Message;
        Assert.Equal("the value at row 2, column 2 is Infinity; all values must be finite numbers", message);
    }

    [Fact]
    public void FromRowsBuildsARowMajorMap()
    {
        InputMap map = InputDecoders.FromRows(new List<IReadOnlyList<double>> { new double[] { 1, 2, 3 }, new List<double> { 4, 5, 6 } });
        Assert.Equal((3, 2, InputValueDomain.Raw), (map.Width, map.Height, map.Domain));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, map.Data);
    }

    [Fact]
    public void FromRowsRejectsEmptyRaggedAndNonFiniteData()
    {
        static string Error(IReadOnlyList<IReadOnlyList<double>> rows) =>
            Assert.Throws<InputFormatException>(() => InputDecoders.FromRows(rows)).Message;

        // Elements are named by their JSON index, as in the body they come from.
        Assert.Equal("data is empty; expected rows × columns of numbers", Error([]));
        Assert.Equal("data[0] is empty; expected rows × columns of numbers", Error([Array.Empty<double>(), new double[] { 1 }]));
        Assert.Equal("data[2] has 2 values, expected 3 like data[0]", Error([new double[] { 1, 2, 3 }, new double[] { 4, 5, 6 }, new double[] { 7, 8 }]));
        Assert.Equal("data[1] has 4 values, expected 3 like data[0]", Error([new double[] { 1, 2, 3 }, new List<double> { 4, 5, 6, 7 }]));
        Assert.Equal("data[0][1] is NaN; all values must be finite numbers", Error([new double[] { 1, double.NaN }]));
        Assert.Equal("data[0][0] is -Infinity; all values must be finite numbers", Error([new double[] { double.NegativeInfinity }]));
        Assert.Equal("data[0][0]: 1E+300 is outside the float32 range", Error([new double[] { 1e300 }]));
        Assert.Equal("items[2].data[1] has 1 values, expected 2 like items[2].data[0]",
            Assert.Throws<InputFormatException>(() => InputDecoders.FromRows([new double[] { 1, 2 }, new double[] { 3 }], "items[2].data")).Message);
        Assert.Contains("4096", Error(Enumerable.Range(0, 4097).Select(_ => (IReadOnlyList<double>)new double[] { 1 }).ToList()));
        Assert.Contains("4096", Error([new double[4097]]));
    }

    [Fact]
    public void InputMapConstructorValidates()
    {
        var map = new InputMap(2, 1, [1f, 2f]) { Domain = InputValueDomain.Image };
        Assert.Equal((2, 1, InputValueDomain.Image), (map.Width, map.Height, map.Domain));
        Assert.Equal(InputValueDomain.Raw, new InputMap(1, 1, [0f]).Domain);

        Assert.Contains("expected width × height = 2 × 2 = 4", Assert.Throws<InputFormatException>(() => new InputMap(2, 2, [1f])).Message);
        Assert.Contains("empty", Assert.Throws<InputFormatException>(() => new InputMap(0, 0, [])).Message);
        Assert.Contains("4096", Assert.Throws<InputFormatException>(() => new InputMap(5000, 1, new float[5000])).Message);
        Assert.Throws<ArgumentNullException>(() => new InputMap(1, 1, null!));

        var data = new float[4096];
        data[4095] = float.NaN; // past the vectorised part as well as inside it
        Assert.Contains("row 64, column 64 is NaN", Assert.Throws<InputFormatException>(() => new InputMap(64, 64, data)).Message);
        data[4095] = 0;
        data[17] = float.NegativeInfinity;
        Assert.Contains("row 1, column 18 is -Infinity", Assert.Throws<InputFormatException>(() => new InputMap(64, 64, data)).Message);
    }
}
