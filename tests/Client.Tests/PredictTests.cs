namespace KeypointService.Client.Tests;

/// <summary>Predict through the typed client against the real service and the default models.</summary>
public sealed class PredictTests(ServiceFactory factory) : IClassFixture<ServiceFactory>
{
    private readonly KeypointServiceClient _client = factory.Client();

    [Fact]
    public async Task A_pressure_grid_gives_joints_on_the_mat_and_the_posture()
    {
        var result = await _client.PredictPressureMapAsync("spmkd", ServiceFactory.PressureMap());

        Assert.Equal(("spmkd", "spmkd"), (result.Model, result.Task));
        Assert.Equal((84, 192), (result.Width, result.Height));
        Assert.NotEmpty(result.Keypoints);
        Assert.NotNull(result.Joints);
        Assert.Equal(14, result.Joints.Count);
        Assert.All(result.Keypoints, k => Assert.True(k.X is >= 0 and <= 84 && k.Y is >= 0 and <= 192, $"{k.Name} at ({k.X}, {k.Y})"));
        // Joints are a linear read-out of the keypoints and may fall a little past the mat's edge (a wrist).
        Assert.All(result.Joints, j =>
        {
            Assert.InRange(j.X, -0.25 * 84, 1.25 * 84);
            Assert.InRange(j.Y, -0.25 * 192, 1.25 * 192);
            Assert.Equal(j.X / 84, j.XNorm, 1e-6);
        });
        // The example lies on its left side (the simulator's label); the default model's posture head says so.
        Assert.NotNull(result.Posture);
        Assert.Equal("left_side", result.Posture.Label);
        Assert.Equal(1.0, result.Posture.Probabilities.Values.Sum(), 1e-4);
        Assert.Equal(result.Posture.Label, result.Posture.Probabilities.MaxBy(p => p.Value).Key);
        Assert.NotNull(result.TimingsMs);
        Assert.True(result.TimingsMs.Inference >= 0);
        Assert.Null(result.Warnings);
    }

    [Fact]
    public async Task Row_major_values_with_a_size_and_options_return_the_reconstruction()
    {
        var grid = ServiceFactory.PressureMap();
        var values = new float[grid.Length];
        Buffer.BlockCopy(grid, 0, values, 0, values.Length * sizeof(float));

        var result = await _client.PredictPressureMapAsync("spmkd", values, 84, 192, new PredictOptions { Include = ["reconstruction"] });

        Assert.NotNull(result.Reconstruction);
        Assert.Equal((84, 192), (result.Reconstruction.Width, result.Reconstruction.Height));
        Assert.NotNull(result.Reconstruction.Data);
        Assert.Equal(192, result.Reconstruction.Data.Length);
        Assert.Equal("left_side", result.Posture?.Label);

        var png = await _client.PredictPressureMapAsync("spmkd", values, 84, 192, new PredictOptions { Include = ["reconstruction"], MapFormat = "png" });
        Assert.NotNull(png.Reconstruction?.PngBase64);
        Assert.Null(png.Reconstruction.Data);
    }

    [Fact]
    public async Task A_csv_body_with_its_media_type_gives_the_same_posture()
    {
        await using var csv = File.OpenRead(Path.Combine(ServiceFactory.Examples, "pressure-map.csv"));
        var result = await _client.PredictAsync("spmkd", csv, "text/csv");
        Assert.Equal("left_side", result.Posture?.Label);
        Assert.Equal((84, 192), (result.Width, result.Height));
        Assert.True(csv.CanRead, "the client leaves the caller's stream open");
    }

    [Theory]
    [InlineData("stick-figure.png")]
    [InlineData("stick-figure.jpg")]
    public async Task Image_bytes_find_the_stick_figure(string file)
    {
        var result = await _client.PredictImageAsync("heatmap", await File.ReadAllBytesAsync(Path.Combine(ServiceFactory.Examples, file)));

        Assert.Equal((128, 128), (result.Width, result.Height));
        Assert.Null(result.Posture);
        Assert.Null(result.Joints);
        Assert.NotEmpty(result.Links);
        // The golden sample of this image (models/heatmap/*/golden.json, test-0001) puts the head at (38.1, 56.3).
        Assert.Equal(38.1, result.Keypoints[0].X, 0.5);
        Assert.Equal(56.3, result.Keypoints[0].Y, 0.5);
        Assert.All(result.Keypoints, k => Assert.InRange(k.Score ?? -1, 0.3, 1));
    }

    [Fact]
    public async Task Heatmaps_come_back_when_included()
    {
        var png = await File.ReadAllBytesAsync(Path.Combine(ServiceFactory.Examples, "stick-figure.png"));
        var result = await _client.PredictAsync("heatmap", png, "image/png", new PredictOptions { Include = ["heatmaps"] });
        Assert.NotNull(result.Heatmaps);
        Assert.Equal(result.Keypoints.Count, result.Heatmaps.Count);
        Assert.All(result.Heatmaps, h => Assert.Equal(h.Height, h.Data?.Length));
    }
}
