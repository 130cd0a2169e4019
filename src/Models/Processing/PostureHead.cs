using KeypointService.Models.Manifests;

namespace KeypointService.Models.Processing;

/// <summary>A posture class with the probability of every class, in the manifest's class order.</summary>
public sealed record PostureResult(string Label, IReadOnlyList<KeyValuePair<string, double>> Probabilities);

/// <summary>
/// The manifest's posture head (docs/model-manifest.md, "Posture"; Python reference
/// keypoint_trainer/models/posture.py): centred keypoints → dense layers → softmax, in float64.
/// </summary>
public static class PostureHead
{
    public const string CenteredKeypoints = "centered_keypoints";

    public static PostureResult Classify(IReadOnlyList<NormalizedKeypoint> keypoints, PostureHeadSpec spec)
    {
        double mx = 0, my = 0;
        foreach (var p in keypoints) { mx += p.X; my += p.Y; }
        mx /= keypoints.Count;
        my /= keypoints.Count;
        var x = new double[2 * keypoints.Count];
        for (var k = 0; k < keypoints.Count; k++) { x[2 * k] = keypoints[k].X - mx; x[2 * k + 1] = keypoints[k].Y - my; }
        foreach (var layer in spec.Layers) x = Dense(x, layer);
        var probabilities = Softmax(x);
        var best = 0;
        for (var c = 1; c < probabilities.Length; c++) if (probabilities[c] > probabilities[best]) best = c;
        return new PostureResult(spec.Classes[best], spec.Classes.Select((name, c) => KeyValuePair.Create(name, probabilities[c])).ToList());
    }

    /// <summary>Shape rules the JSON Schema cannot express; <paramref name="fail"/> gets a message per violation.</summary>
    public static void CheckShape(PostureHeadSpec spec, int keypointCount, Action<string> fail)
    {
        if (spec.Classes.Distinct().Count() != spec.Classes.Count) fail("posture.classes must be distinct");
        if (spec.Features != CenteredKeypoints) fail($"posture.features '{spec.Features}' is not supported (only {CenteredKeypoints})");
        var inputs = 2 * keypointCount;
        for (var i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            if (layer.Weight.Any(row => row.Length != inputs)) fail($"posture.layers[{i}].weight rows must have {inputs} columns");
            if (layer.Bias.Count != layer.Weight.Count) fail($"posture.layers[{i}].bias must have {layer.Weight.Count} entries (one per weight row)");
            if (layer.Activation is not ("relu" or "none")) fail($"posture.layers[{i}].activation '{layer.Activation}' is not relu or none");
            inputs = layer.Weight.Count;
        }
        if (inputs != spec.Classes.Count) fail($"posture: the last layer has {inputs} outputs for {spec.Classes.Count} classes");
    }

    private static double[] Dense(double[] x, DenseLayerSpec layer)
    {
        var y = new double[layer.Weight.Count];
        for (var o = 0; o < y.Length; o++)
        {
            var row = layer.Weight[o];
            var sum = layer.Bias[o];
            for (var i = 0; i < x.Length; i++) sum += row[i] * x[i];
            y[o] = layer.Activation == "relu" ? Math.Max(sum, 0) : sum;
        }
        return y;
    }

    private static double[] Softmax(double[] logits)
    {
        var max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        var total = e.Sum();
        return e.Select(v => v / total).ToArray();
    }
}
