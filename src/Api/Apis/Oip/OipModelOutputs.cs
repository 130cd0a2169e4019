using KeypointService.Models.Inference;
using KeypointService.Models.Manifests;
using KeypointService.Models.Serving;

namespace KeypointService.Api.Apis.Oip;

/// <summary>One output a model offers over the protocol: decoded by the service, or one of the model's own ONNX outputs.</summary>
public sealed record OipOutputInfo(string Name, OipDataType Datatype, long[] Shape, string Description, string? OnnxName = null);

/// <summary>
/// The outputs of a model over the protocol, per task, and how they are filled from predictions.
/// Decoded outputs have fixed names (keypoints, joints, instances, ...); the model's own ONNX outputs
/// keep their names, except one that collides with a decoded name, which is offered as "raw_" + name.
/// </summary>
public static class OipModelOutputs
{
    public const string RawPrefix = "raw_";

    public static IReadOnlyList<OipOutputInfo> Describe(LoadedModel model)
    {
        var m = model.Manifest;
        var decoded = new List<OipOutputInfo>();
        var k = m.Keypoints.Count;
        if (m.Task == ModelTask.Multi)
        {
            var names = string.Join(", ", m.Keypoints);
            decoded.Add(new("instances", OipDataType.Fp32, [-1, -1, k, 3],
                $"[N, M, {k}, 3] per image, up to M figures best first, keypoints in the order {names}: x, y in input pixels (pixel centres at +0.5) and score; a keypoint the figure lacks and every slot past instance_counts is (-1, -1, 0)"));
            decoded.Add(new("instance_scores", OipDataType.Fp32, [-1, -1], "[N, M] figure scores; 0 past instance_counts"));
            decoded.Add(new("instance_counts", OipDataType.Int32, [-1], "[N] figures found per image"));
            decoded.Add(new("instance_links", OipDataType.Int32, [-1, -1, -1, 2],
                "[N, M, L, 2] each figure's links as pairs of keypoint indices (the keypoint order of instances); (-1, -1) pads"));
        }
        else
        {
            decoded.Add(new("keypoints", OipDataType.Fp32, [-1, k, KeypointColumns(m)],
                $"[N, {k}, {KeypointColumns(m)}] keypoints {string.Join(", ", m.Keypoints)}: {ColumnText(m)}"));
            if (m.Joints is { } joints)
                decoded.Add(new("joints", OipDataType.Fp32, [-1, joints.Names.Count, 2],
                    $"[N, {joints.Names.Count}, 2] body joints {string.Join(", ", joints.Names)} from the joint head: x, y in input pixels"));
        }
        var taken = decoded.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var raw = KeypointPredictor.DescribeRawOutputs(model).Select(r =>
        {
            var name = taken.Contains(r.Name) ? RawPrefix + r.Name : r.Name;
            var shape = (long[])r.Shape.Clone();
            if (shape.Length > 0) shape[0] = -1; // the batch, whatever the file says
            return new OipOutputInfo(name, OipDataType.Fp32, shape,
                $"[{string.Join(", ", shape)}] the model's own ONNX output '{r.Name}', unprocessed, computed on the input resized to {m.Input.Width}×{m.Input.Height} and normalised", r.Name);
        });
        return [.. decoded, .. raw];
    }

    // Heatmap decoding gives a confidence per keypoint; coordinate regression does not.
    private static int KeypointColumns(ModelManifest m) => m.Decoding.Method == DecodingMethod.Direct ? 2 : 3;

    private static string ColumnText(ModelManifest m) => KeypointColumns(m) == 3
        ? "x, y in input pixels (pixel centres at +0.5), confidence (the heatmap peak)"
        : "x, y in input pixels (pixel centres at +0.5); this model regresses coordinates and gives no confidence";

    /// <summary>Builds the selected outputs for the whole request from its per-image predictions.</summary>
    public static IReadOnlyList<OipOutput> Build(ModelManifest manifest, IReadOnlyList<OipOutputInfo> selected, IReadOnlyList<Prediction> predictions) =>
        selected.Select(info => info.OnnxName is { } onnx ? Raw(info.Name, onnx, predictions) : Decoded(manifest, info, predictions)).ToList();

    private static OipOutput Decoded(ModelManifest m, OipOutputInfo info, IReadOnlyList<Prediction> p) => info.Name switch
    {
        "keypoints" => Points(info.Name, p.Select(x => x.Keypoints).ToList(), (int)info.Shape[2]),
        "joints" => Points(info.Name, p.Select(x => x.Joints ?? []).ToList(), 2),
        "instances" => Instances(m, p),
        "instance_scores" => InstanceScores(p),
        "instance_counts" => OipOutput.Int(info.Name, [p.Count], p.Select(x => x.Instances?.Count ?? 0).ToArray()),
        "instance_links" => InstanceLinks(p),
        _ => throw new InvalidOperationException($"no decoded output '{info.Name}'"),
    };

    private static OipOutput Points(string name, IReadOnlyList<IReadOnlyList<KeypointResult>> items, int columns)
    {
        var count = items.Count == 0 ? 0 : items[0].Count;
        var data = new float[items.Count * count * columns];
        var i = 0;
        foreach (var points in items)
            foreach (var kp in points)
            {
                data[i++] = (float)kp.X;
                data[i++] = (float)kp.Y;
                if (columns == 3) data[i++] = (float)(kp.Confidence ?? 0);
            }
        return OipOutput.Float(name, [items.Count, count, columns], data);
    }

    private static int MaxInstances(IReadOnlyList<Prediction> p) => p.Count == 0 ? 0 : p.Max(x => x.Instances?.Count ?? 0);

    private static OipOutput Instances(ModelManifest m, IReadOnlyList<Prediction> p)
    {
        int n = p.Count, slots = MaxInstances(p), k = m.Keypoints.Count;
        var data = new float[n * slots * k * 3];
        for (var i = 0; i < data.Length; i += 3) (data[i], data[i + 1], data[i + 2]) = (-1, -1, 0);
        for (var item = 0; item < n; item++)
        {
            var instances = p[item].Instances ?? [];
            for (var s = 0; s < instances.Count; s++)
                foreach (var kp in instances[s].Keypoints)
                {
                    var type = IndexOf(m.Keypoints, kp.Name);
                    var at = ((item * slots + s) * k + type) * 3;
                    if (type < 0 || data[at + 2] > (kp.Confidence ?? 0)) continue; // keep the stronger of two of a type
                    (data[at], data[at + 1], data[at + 2]) = ((float)kp.X, (float)kp.Y, (float)(kp.Confidence ?? 0));
                }
        }
        return OipOutput.Float("instances", [n, slots, k, 3], data);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++) if (names[i] == name) return i;
        return -1;
    }

    private static OipOutput InstanceScores(IReadOnlyList<Prediction> p)
    {
        int n = p.Count, slots = MaxInstances(p);
        var data = new float[n * slots];
        for (var item = 0; item < n; item++)
        {
            var instances = p[item].Instances ?? [];
            for (var s = 0; s < instances.Count; s++) data[item * slots + s] = (float)instances[s].Score;
        }
        return OipOutput.Float("instance_scores", [n, slots], data);
    }

    private static OipOutput InstanceLinks(IReadOnlyList<Prediction> p)
    {
        int n = p.Count, slots = MaxInstances(p);
        var links = p.Count == 0 ? 0 : p.Max(x => x.Instances is { Count: > 0 } i ? i.Max(f => f.Links.Count) : 0);
        var data = new int[n * slots * links * 2];
        Array.Fill(data, -1);
        for (var item = 0; item < n; item++)
        {
            var instances = p[item].Instances ?? [];
            for (var s = 0; s < instances.Count; s++)
                for (var l = 0; l < instances[s].Links.Count; l++)
                {
                    var at = ((item * slots + s) * links + l) * 2;
                    (data[at], data[at + 1]) = (instances[s].Links[l][0], instances[s].Links[l][1]);
                }
        }
        return OipOutput.Int("instance_links", [n, slots, links, 2], data);
    }

    /// <summary>Stacks each image's slice of a raw ONNX output back into the request's batch.</summary>
    private static OipOutput Raw(string name, string onnxName, IReadOnlyList<Prediction> predictions)
    {
        var slices = predictions.Select(p => p.RawOutputs?.FirstOrDefault(r => r.Name == onnxName)
            ?? throw new InvalidOperationException($"the predictor did not return output '{onnxName}'")).ToList();
        var shape = (long[])slices[0].Shape.Clone();
        shape[0] = slices.Count;
        var size = slices[0].Data.Length;
        var data = new float[slices.Count * size];
        for (var i = 0; i < slices.Count; i++) slices[i].Data.CopyTo(data, i * size);
        return OipOutput.Float(name, shape, data);
    }
}
