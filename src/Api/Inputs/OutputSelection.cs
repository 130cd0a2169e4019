using KeypointService.Models.Inference;

namespace KeypointService.Api.Inputs;

public enum MapFormat { Array, Png }

/// <summary>Which optional outputs a request wants, from the JSON body or the query string.</summary>
public sealed record OutputSelection(bool Heatmaps, bool Reconstruction, MapFormat Format)
{
    public static readonly OutputSelection Default = new(false, false, MapFormat.Array);

    public PredictionOptions ToPredictionOptions() => new(Heatmaps, Reconstruction);

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
