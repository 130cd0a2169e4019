using KeypointService.Models.Onnx;
using KeypointService.Models.Serving;

namespace KeypointService.Models.Inference;

/// <summary>One of the model's own ONNX outputs, float32, row-major, as ONNX Runtime returned it.</summary>
public sealed record RawOutput(string Name, long[] Shape, float[] Data);

/// <summary>A raw output's name and shape as the model declares it (-1 for a dynamic dimension).</summary>
public sealed record RawOutputInfo(string Name, long[] Shape);

// The model's own outputs, for protocols that return tensors by name (Open Inference Protocol).
public static partial class KeypointPredictor
{
    /// <summary>
    /// The raw outputs <see cref="PredictionOptions.RawOutputs"/> may name: every float output of the
    /// model's sessions (the main model, then the reconstruction model if any), first name wins.
    /// </summary>
    public static IReadOnlyList<RawOutputInfo> DescribeRawOutputs(LoadedModel model) =>
        new[] { model.Session, model.Reconstruction }.OfType<OnnxSession>()
            .SelectMany(s => s.Outputs)
            .Where(o => o.IsFloat)
            .DistinctBy(o => o.Name)
            .Select(o => new RawOutputInfo(o.Name, o.Shape))
            .ToList();

    private static List<string> RawNamesOf(OnnxSession session, PredictionOptions options) =>
        options.RawOutputs is { Count: > 0 } wanted
            ? session.Outputs.Where(o => o.IsFloat && wanted.Contains(o.Name)).Select(o => o.Name).ToList()
            : [];

    /// <summary>Adds the requested raw outputs this session produces to the names it will be run for.</summary>
    private static void AddRawNames(OnnxSession session, PredictionOptions options, List<string> names)
    {
        foreach (var name in RawNamesOf(session, options))
            if (!names.Contains(name)) names.Add(name);
    }

    private static IReadOnlyList<OnnxTensor> RawSelection(PredictionOptions options, IEnumerable<OnnxTensor> outputs) =>
        options.RawOutputs is { Count: > 0 } wanted ? outputs.Where(o => wanted.Contains(o.Name)).DistinctBy(o => o.Name).ToList() : [];

    /// <summary>Item <paramref name="item"/>'s slice of each batched raw output, batch dimension kept as 1.</summary>
    private static IReadOnlyList<RawOutput>? SliceRaw(IReadOnlyList<OnnxTensor> raw, int item, int batch)
    {
        if (raw.Count == 0) return null;
        return raw.Select(t =>
        {
            if (t.Shape.Length == 0 || t.Shape[0] != batch)
                throw new InvalidDataException($"output '{t.Name}' has shape [{string.Join(", ", t.Shape)}], expected the batch of {batch} first");
            var size = (int)(t.Data.Length / batch);
            var shape = (long[])t.Shape.Clone();
            shape[0] = 1;
            return new RawOutput(t.Name, shape, t.Data.AsSpan(item * size, size).ToArray());
        }).ToList();
    }
}
