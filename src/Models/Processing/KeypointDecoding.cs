namespace KeypointService.Models.Processing;

/// <summary>A decoded keypoint in normalised model coordinates ([0, 1], x right, y down).</summary>
public readonly record struct NormalizedKeypoint(double X, double Y, double? Confidence);

/// <summary>
/// The single C# home of keypoint decoding; the steps are specified in docs/model-manifest.md
/// ("Heatmap decoding") and mirrored by keypoint_trainer's codecs.
/// </summary>
public static class KeypointDecoding
{
    private const double LogFloor = 1e-10;

    /// <summary>Decodes one heatmap channel (row-major, width × height).</summary>
    public static NormalizedKeypoint DecodeHeatmap(ReadOnlySpan<float> heatmap, int width, int height, bool refine)
    {
        var best = 0;
        for (var i = 1; i < heatmap.Length; i++)
            if (heatmap[i] > heatmap[best]) best = i;
        int px = best % width, py = best / width;
        double ox = 0, oy = 0;
        if (refine && px >= 1 && px <= width - 2 && py >= 1 && py <= height - 2)
            (ox, oy) = NewtonOffset(heatmap, width, px, py);
        return new((px + ox + 0.5) / width, (py + oy + 0.5) / height, heatmap[best]);
    }

    // One Newton step on the log-heatmap around the integer peak (DARK, Zhang et al. 2020).
    private static (double Ox, double Oy) NewtonOffset(ReadOnlySpan<float> h, int width, int px, int py)
    {
        // L[dy + 1, dx + 1] = ln(max(h(px + dx, py + dy), floor)) on the 3 x 3 neighbourhood.
        Span<double> L = stackalloc double[9];
        for (var dy = -1; dy <= 1; dy++)
            for (var dx = -1; dx <= 1; dx++)
                L[(dy + 1) * 3 + dx + 1] = Math.Log(Math.Max(h[(py + dy) * width + px + dx], LogFloor));
        double left = L[3], centre = L[4], right = L[5], up = L[1], down = L[7];
        double gx = (right - left) / 2, gy = (down - up) / 2;
        double hxx = right - 2 * centre + left, hyy = down - 2 * centre + up;
        double hxy = (L[8] - L[6] - L[2] + L[0]) / 4;
        var det = hxx * hyy - hxy * hxy;
        if (!(hxx < 0 && det > 0)) return (0, 0);
        var ox = -(hyy * gx - hxy * gy) / det;
        var oy = -(hxx * gy - hxy * gx) / det;
        return (Math.Clamp(ox, -0.5, 0.5), Math.Clamp(oy, -0.5, 0.5));
    }

    /// <summary>Reads K normalised (x, y) pairs from a regression output (x0, y0, x1, y1, ...).</summary>
    public static NormalizedKeypoint[] DecodeCoordinates(ReadOnlySpan<float> coordinates, int keypointCount)
    {
        if (coordinates.Length != 2 * keypointCount)
            throw new ArgumentException($"coordinate output has {coordinates.Length} values, expected {2 * keypointCount}");
        var result = new NormalizedKeypoint[keypointCount];
        for (var k = 0; k < keypointCount; k++) result[k] = new(coordinates[2 * k], coordinates[2 * k + 1], null);
        return result;
    }

    /// <summary>Applies the SPMKD linear joint head: joints = W · [x0, y0, ...] + b (normalised coordinates).</summary>
    public static NormalizedKeypoint[] ApplyJointHead(IReadOnlyList<NormalizedKeypoint> keypoints, IReadOnlyList<double[]> weight, IReadOnlyList<double> bias)
    {
        var joints = new NormalizedKeypoint[weight.Count / 2];
        for (var j = 0; j < joints.Length; j++)
        {
            double x = bias[2 * j], y = bias[2 * j + 1];
            var wx = weight[2 * j];
            var wy = weight[2 * j + 1];
            for (var k = 0; k < keypoints.Count; k++)
            {
                x += wx[2 * k] * keypoints[k].X + wx[2 * k + 1] * keypoints[k].Y;
                y += wy[2 * k] * keypoints[k].X + wy[2 * k + 1] * keypoints[k].Y;
            }
            joints[j] = new(x, y, null);
        }
        return joints;
    }
}
