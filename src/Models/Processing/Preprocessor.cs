using KeypointService.Models.Manifests;

namespace KeypointService.Models.Processing;

/// <summary>
/// The single C# home of model input pre-processing (docs/model-manifest.md, "Pre-processing"):
/// bilinear resize with half-pixel centres (torch's align_corners=False), then normalisation.
/// Its Python twin is keypoint_trainer/core/preprocessing.py; golden samples keep them equal.
/// </summary>
public static class Preprocessor
{
    /// <summary>
    /// Writes the model input for one map into <paramref name="destination"/> (length = input height × width).
    /// Returns the effective scale applied (for <see cref="NormalizationKind.Max"/> it depends on the map), so that
    /// model-space outputs such as reconstructions can be mapped back to the caller's units.
    /// </summary>
    public static float Prepare(ReadOnlySpan<float> source, int width, int height, InputSpec spec, Span<float> destination)
    {
        if (destination.Length != spec.Width * spec.Height)
            throw new ArgumentException($"destination holds {destination.Length} values, the model needs {spec.Width * spec.Height}");
        if (width == spec.Width && height == spec.Height) source.CopyTo(destination);
        else ResizeBilinear(source, width, height, destination, spec.Width, spec.Height);
        return Normalize(destination, spec.Normalization);
    }

    /// <summary>Bilinear resize identical to torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False).</summary>
    public static void ResizeBilinear(ReadOnlySpan<float> src, int srcWidth, int srcHeight, Span<float> dst, int dstWidth, int dstHeight)
    {
        // Column weights are shared by every row: compute them once.
        Span<int> x0s = dstWidth <= 4096 ? stackalloc int[dstWidth] : new int[dstWidth];
        Span<int> x1s = dstWidth <= 4096 ? stackalloc int[dstWidth] : new int[dstWidth];
        Span<float> wx = dstWidth <= 4096 ? stackalloc float[dstWidth] : new float[dstWidth];
        var scaleX = (float)srcWidth / dstWidth;
        var scaleY = (float)srcHeight / dstHeight;
        for (var x = 0; x < dstWidth; x++)
            (x0s[x], x1s[x], wx[x]) = SourceIndex(x, scaleX, srcWidth);

        for (var y = 0; y < dstHeight; y++)
        {
            var (y0, y1, wy) = SourceIndex(y, scaleY, srcHeight);
            var row0 = src.Slice(y0 * srcWidth, srcWidth);
            var row1 = src.Slice(y1 * srcWidth, srcWidth);
            var output = dst.Slice(y * dstWidth, dstWidth);
            for (var x = 0; x < dstWidth; x++)
            {
                float l1 = wx[x], l0 = 1f - l1;
                var top = l0 * row0[x0s[x]] + l1 * row0[x1s[x]];
                var bottom = l0 * row1[x0s[x]] + l1 * row1[x1s[x]];
                output[x] = (1f - wy) * top + wy * bottom;
            }
        }
    }

    private static (int I0, int I1, float Lambda) SourceIndex(int dstIndex, float scale, int srcSize)
    {
        var real = Math.Max(scale * (dstIndex + 0.5f) - 0.5f, 0f);
        var i0 = Math.Min((int)real, srcSize - 1);
        var i1 = i0 < srcSize - 1 ? i0 + 1 : i0;
        return (i0, i1, real - i0);
    }

    /// <summary>Normalises in place and returns the effective scale (raw · scale + offset, before clipping).</summary>
    public static float Normalize(Span<float> values, NormalizationSpec spec)
    {
        var scale = spec.Scale;
        if (spec.Kind == NormalizationKind.Max)
        {
            var max = float.NegativeInfinity;
            foreach (var v in values) max = Math.Max(max, v);
            scale = spec.Scale / Math.Max(max, spec.Eps);
        }
        var lo = spec.ClipMin ?? float.NegativeInfinity;
        var hi = spec.ClipMax ?? float.PositiveInfinity;
        for (var i = 0; i < values.Length; i++)
            values[i] = Math.Clamp(values[i] * scale + spec.Offset, lo, hi);
        return scale;
    }
}
