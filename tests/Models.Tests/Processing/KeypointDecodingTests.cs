using KeypointService.Models.Processing;

namespace KeypointService.Models.Tests.Processing;

public class KeypointDecodingTests
{
    // A noiseless Gaussian centred at heatmap coordinates (u, v) in cell units: cell j is centred at j.
    private static float[] Gaussian(int width, int height, double u, double v, double sigma, double amplitude = 1)
    {
        var map = new float[width * height];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                map[y * width + x] = (float)(amplitude * Math.Exp(-((x - u) * (x - u) + (y - v) * (y - v)) / (2 * sigma * sigma)));
        return map;
    }

    [Theory]
    [InlineData(31.3, 20.7, 2.0)]
    [InlineData(10.0, 10.0, 2.0)]
    [InlineData(5.45, 58.55, 1.0)]
    [InlineData(40.25, 12.9, 3.0)]
    [InlineData(1.2, 62.4, 2.0)]
    public void Dark_refinement_recovers_subpixel_peaks(double u, double v, double sigma)
    {
        const int size = 64;
        var kp = KeypointDecoding.DecodeHeatmap(Gaussian(size, size, u, v, sigma), size, size, refine: true);
        // Back to cell units: u = x_norm * W - 0.5. Tolerance in heatmap cells, i.e. < 0.1 px at stride 1.
        Assert.InRange(kp.X * size - 0.5 - u, -0.05, 0.05);
        Assert.InRange(kp.Y * size - 0.5 - v, -0.05, 0.05);
        Assert.Equal(1.0, kp.Confidence!.Value, 0.2);
    }

    [Fact]
    public void Argmax_returns_the_integer_peak_centre()
    {
        var kp = KeypointDecoding.DecodeHeatmap(Gaussian(64, 32, 31.3, 20.7, 2), 64, 32, refine: false);
        Assert.Equal((31 + 0.5) / 64, kp.X, 12);
        Assert.Equal((21 + 0.5) / 32, kp.Y, 12);
    }

    [Fact]
    public void Peak_on_the_border_is_not_refined()
    {
        var map = new float[16];
        map[3] = 1; // (x=3, y=0): corner cell, no neighbourhood on two sides
        var kp = KeypointDecoding.DecodeHeatmap(map, 4, 4, refine: true);
        Assert.Equal(3.5 / 4, kp.X, 12);
        Assert.Equal(0.5 / 4, kp.Y, 12);
    }

    [Fact]
    public void Flat_or_negative_heatmaps_do_not_produce_nan()
    {
        var map = Enumerable.Repeat(-0.01f, 64).ToArray();
        var kp = KeypointDecoding.DecodeHeatmap(map, 8, 8, refine: true);
        Assert.True(double.IsFinite(kp.X) && double.IsFinite(kp.Y));
    }

    [Fact]
    public void Coordinates_are_read_as_interleaved_xy()
    {
        var kps = KeypointDecoding.DecodeCoordinates([0.1f, 0.2f, 0.3f, 0.4f], 2);
        Assert.Equal(0.1f, (float)kps[0].X);
        Assert.Equal(0.4f, (float)kps[1].Y);
        Assert.Null(kps[0].Confidence);
        Assert.Throws<ArgumentException>(() => KeypointDecoding.DecodeCoordinates([0.1f], 2));
    }

    [Fact]
    public void Joint_head_is_an_affine_map_of_interleaved_keypoints()
    {
        // Two keypoints → one joint at their midpoint shifted by (0.1, -0.1).
        NormalizedKeypoint[] kps = [new(0.2, 0.4, 1), new(0.6, 0.8, 1)];
        double[][] weight = [[0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5]];
        var joints = KeypointDecoding.ApplyJointHead(kps, weight, [0.1, -0.1]);
        Assert.Single(joints);
        Assert.Equal(0.5, joints[0].X, 12);
        Assert.Equal(0.5, joints[0].Y, 12);
    }
}
