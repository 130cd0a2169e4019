using System.ComponentModel;
using System.Text.Json.Serialization;

namespace KeypointService.Api.Contracts;

/// <summary>Keypoints (and optional maps) predicted for one input.</summary>
public sealed record PredictResponse
{
    /// <summary>Model name.</summary>
    [Description("Model name.")] public required string Model { get; init; }
    /// <summary>Model version that served the request.</summary>
    public required string Version { get; init; }
    /// <summary>heatmap | regression | spmkd | multi.</summary>
    public required string Task { get; init; }
    /// <summary>Width of the caller's input in pixels (sensor columns for a pressure map).</summary>
    public required int Width { get; init; }
    /// <summary>Height of the caller's input in pixels (sensor rows).</summary>
    public required int Height { get; init; }
    /// <summary>Keypoints in the caller's pixel coordinates (x right, y down, pixel centres at integer + 0.5) and normalised to [0, 1].</summary>
    public required IReadOnlyList<KeypointDto> Keypoints { get; init; }
    /// <summary>Skeleton links as index pairs into <c>keypoints</c>.</summary>
    public required IReadOnlyList<int[]> Links { get; init; }
    /// <summary>Multi-figure models only: every figure found, best first; <c>keypoints</c> is then empty.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<InstanceDto>? Instances { get; init; }
    /// <summary>SPMKD only: named body joints mapped from the discovered keypoints by the model's linear joint head.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<KeypointDto>? Joints { get; init; }
    /// <summary>SPMKD only: skeleton links as index pairs into <c>joints</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<int[]>? JointLinks { get; init; }
    /// <summary>SPMKD only: the posture (supine, left_side, right_side, prone for the default model) and every class's probability.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public PostureDto? Posture { get; init; }
    /// <summary>Per-keypoint heatmaps at the model's heatmap resolution, when requested with include=heatmaps.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<MapDto>? Heatmaps { get; init; }
    /// <summary>SPMKD only: the pressure map rebuilt from the keypoints alone, at the caller's size and in the caller's units, when requested with include=reconstruction.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public MapDto? Reconstruction { get; init; }
    /// <summary>Server-side timings of this request's stages (a batch shares one inference).</summary>
    public required TimingsDto TimingsMs { get; init; }
    /// <summary>Things the caller should know, e.g. an input of the wrong kind for the model (a CSV sent to an image model); absent when there are none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>One keypoint.</summary>
/// <param name="Name">Keypoint name from the model manifest.</param>
/// <param name="X">x in the caller's pixels, 0 = left edge, pixel centres at integer + 0.5.</param>
/// <param name="Y">y in the caller's pixels, 0 = top edge.</param>
/// <param name="XNorm">x / width.</param>
/// <param name="YNorm">y / height.</param>
/// <param name="Confidence">The raw heatmap peak value (heatmap, SPMKD and multi-figure models). Training targets peak at 1, so it is
/// usually in [0, 1] but may exceed 1 slightly or be negative; compare it only within one model. Null for regression models and mapped joints.</param>
/// <param name="Score">Confidence clamped to [0, 1], for thresholds; null where confidence is null.</param>
public sealed record KeypointDto(string Name, double X, double Y, double XNorm, double YNorm, double? Confidence, double? Score);

/// <summary>A posture classification.</summary>
/// <param name="Label">The most probable class.</param>
/// <param name="Probabilities">Every class of the model's posture head with its probability (they sum to 1), in the manifest's order.</param>
public sealed record PostureDto(string Label, IReadOnlyDictionary<string, double> Probabilities);

/// <summary>One figure of a multi-figure model.</summary>
/// <param name="Score">Instance score: (sum of keypoint scores + sum of link scores) / (keypoint types + skeleton links); missing parts count 0.</param>
/// <param name="Keypoints">The figure's keypoints; types it lacks are absent.</param>
/// <param name="Links">Skeleton links found, as keypoint-index pairs (indices into the model's keypoint names).</param>
public sealed record InstanceDto(double Score, IReadOnlyList<KeypointDto> Keypoints, IReadOnlyList<int[]> Links);

/// <summary>A 2-D map, either as an array of rows or as a 16-bit grayscale PNG.</summary>
public sealed record MapDto
{
    /// <summary>Keypoint name for heatmaps; "reconstruction" for reconstructions.</summary>
    public required string Name { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>Smallest value of the map.</summary>
    public required float Min { get; init; }
    /// <summary>Largest value of the map.</summary>
    public required float Max { get; init; }
    /// <summary>Rows of values (map_format=array).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public float[][]? Data { get; init; }
    /// <summary>Base64 16-bit grayscale PNG (map_format=png); value = min + pixel / 65535 × (max − min).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? PngBase64 { get; init; }
}

/// <summary>Stage timings in milliseconds.</summary>
public sealed record TimingsDto(double Preprocess, double Inference, double Postprocess);

/// <summary>Result of a batch: one entry per item, in order; an item either has a prediction or an error.</summary>
public sealed record PredictBatchResponse(string Model, string Version, IReadOnlyList<BatchItemResult> Items);

/// <summary>One batch item's outcome.</summary>
/// <param name="Index">Position of the item in the request.</param>
/// <param name="Result">The prediction, when the item was valid.</param>
/// <param name="Error">An RFC 7807 problem describing why this item was rejected.</param>
public sealed record BatchItemResult(
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PredictResponse? Result,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Microsoft.AspNetCore.Mvc.ProblemDetails? Error);
