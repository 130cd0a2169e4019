using KeypointService.Models.Manifests;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Inputs;

/// <summary>Query parameters choosing the optional outputs; shared by every predict body type.</summary>
public sealed class OutputQuery
{
    /// <summary>Extra outputs, comma-separated or repeated: heatmaps, reconstruction (only those the model has: see GET /v1/models/{name} → outputs).</summary>
    [FromQuery(Name = "include")] public string[]? Include { get; init; }
    /// <summary>array (default) or png: how heatmaps and reconstructions are returned.</summary>
    [FromQuery(Name = "map_format")] public string? MapFormat { get; init; }

    /// <summary>The selection these parameters make (400 for unknown values).</summary>
    public OutputSelection ToSelection() => OutputSelection.Parse(Include ?? [], MapFormat);
}

/// <summary>The size of an application/octet-stream body (raw little-endian float32, row-major).</summary>
public sealed class RawSizeQuery
{
    /// <summary>Width of an application/octet-stream body (float32 values per row).</summary>
    [FromQuery(Name = "width")] public string? Width { get; init; }
    /// <summary>Height of an application/octet-stream body (rows).</summary>
    [FromQuery(Name = "height")] public string? Height { get; init; }

    // Bound as text so that a bad value gets this service's message rather than the binder's.
    public (int Width, int Height) Require() => (Dimension(Width, "width"), Dimension(Height, "height"));

    private static int Dimension(string? text, string name)
    {
        if (text is null) throw RequestProblemException.BadInput($"application/octet-stream needs the query parameters width and height (missing '{name}')");
        return int.TryParse(text, out var n) && n > 0 ? n : throw RequestProblemException.BadInput($"query parameter {name}: expected a positive integer, got '{text}'");
    }
}
