using KeypointService.Models.Inference;
using KeypointService.Models.Manifests;

namespace KeypointService.Api.Inputs;

public enum MapFormat { Array, Png }

/// <summary>Which optional outputs a request wants, from the JSON body or the query string.</summary>
public sealed record OutputSelection(bool Heatmaps, bool Reconstruction, MapFormat Format)
{
    public static readonly OutputSelection Default = new(false, false, MapFormat.Array);

    public PredictionOptions ToPredictionOptions() => new(Heatmaps, Reconstruction);

    /// <summary>What <paramref name="manifest"/>'s model can return: keypoints, and joints, heatmaps, reconstruction where it has them.</summary>
    public static IReadOnlyList<string> AvailableOutputs(ModelManifest manifest)
    {
        var outputs = new List<string> { "keypoints" };
        if (manifest.Joints is not null) outputs.Add("joints");
        if (manifest.Outputs.Heatmaps is not null) outputs.Add("heatmaps");
        if (manifest.Outputs.Reconstruction is not null) outputs.Add("reconstruction");
        return outputs;
    }

    /// <summary>400 naming what the model can return when the selection asks for an output it does not have.</summary>
    public void EnsureAvailableIn(ModelManifest manifest)
    {
        var missing = new List<string>();
        if (Heatmaps && manifest.Outputs.Heatmaps is null) missing.Add("heatmaps");
        if (Reconstruction && manifest.Outputs.Reconstruction is null) missing.Add("reconstruction");
        if (missing.Count > 0)
            throw RequestProblemException.BadInput(
                $"model '{manifest.Name}' has no {string.Join(" or ", missing)}; it can return: {string.Join(", ", AvailableOutputs(manifest))}");
    }

    /// <summary>Parses include values ("heatmaps", "reconstruction"; comma-separated or repeated) and a map format.</summary>
    public static OutputSelection Parse(IEnumerable<string?> include, string? mapFormat, OutputSelection? fallback = null)
    {
        var result = fallback ?? Default;
        foreach (var item in include.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            result = item.ToLowerInvariant() switch
            {
                "heatmaps" => result with { Heatmaps = true },
                "reconstruction" => result with { Reconstruction = true },
                _ => throw RequestProblemException.BadInput($"include: unknown value '{item}' (allowed: heatmaps, reconstruction)"),
            };
        }
        if (mapFormat is not null)
        {
            result = mapFormat.ToLowerInvariant() switch
            {
                "array" => result with { Format = MapFormat.Array },
                "png" => result with { Format = MapFormat.Png },
                _ => throw RequestProblemException.BadInput($"map_format: unknown value '{mapFormat}' (allowed: array, png)"),
            };
        }
        return result;
    }
}
