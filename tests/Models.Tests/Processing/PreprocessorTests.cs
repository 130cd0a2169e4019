using KeypointService.Models.Manifests;
using KeypointService.Models.Processing;

namespace KeypointService.Models.Tests.Processing;

public class PreprocessorTests
{
    // Expected values printed by torch.nn.functional.interpolate(mode="bilinear", align_corners=False), torch 1.13.
    [Fact]
    public void Upsampling_matches_torch()
    {
        float[] src = [1, 2, 3, 4, 5, 6];
        var dst = new float[20];
        Preprocessor.ResizeBilinear(src, 3, 2, dst, 5, 4);
        float[] expected = [1.0f, 1.4f, 2.0f, 2.6f, 3.0f, 1.75f, 2.15f, 2.75f, 3.35f, 3.75f, 3.25f, 3.65f, 4.25f, 4.85f, 5.25f, 4.0f, 4.4f, 5.0f, 5.6f, 6.0f];
        Assert.Equal(expected, dst, (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void Downsampling_matches_torch()
    {
        var src = Enumerable.Range(0, 35).Select(i => (float)i).ToArray();
        var dst = new float[6];
        Preprocessor.ResizeBilinear(src, 7, 5, dst, 3, 2);
        float[] expected = [5.916667f, 8.25f, 10.583333f, 23.416666f, 25.75f, 28.083332f];
        Assert.Equal(expected, dst, (a, b) => Math.Abs(a - b) < 1e-4f);
    }

    [Fact]
    public void Affine_normalisation_scales_offsets_and_clips()
    {
        float[] values = [0, 127.5f, 255, 510];
        var scale = Preprocessor.Normalize(values, new NormalizationSpec { Kind = NormalizationKind.Affine, Scale = 1 / 255f, Offset = 0, ClipMax = 1 });
        Assert.Equal(1 / 255f, scale);
        Assert.Equal([0f, 0.5f, 1f, 1f], values);
    }

    [Fact]
    public void Max_normalisation_is_gain_invariant()
    {
        float[] a = [0, 10, 40];
        float[] b = [0, 30, 120];
        var spec = new NormalizationSpec { Kind = NormalizationKind.Max, Scale = 1, Offset = 0 };
        Assert.Equal(1 / 40f, Preprocessor.Normalize(a, spec));
        Preprocessor.Normalize(b, spec);
        Assert.Equal(a, b);
        Assert.Equal([0f, 0.25f, 1f], a);
    }

    [Fact]
    public void Prepare_skips_resizing_when_sizes_match()
    {
        var spec = new InputSpec
        {
            Name = "image", Layout = "NCHW", Channels = 1, Height = 2, Width = 2, DynamicBatch = true, Resize = "bilinear", ValueDomain = "image_u8",
            Normalization = new NormalizationSpec { Kind = NormalizationKind.Affine, Scale = 2, Offset = 1 },
        };
        var dst = new float[4];
        Preprocessor.Prepare([1, 2, 3, 4], 2, 2, spec, dst);
        Assert.Equal([3f, 5f, 7f, 9f], dst);
    }
}
