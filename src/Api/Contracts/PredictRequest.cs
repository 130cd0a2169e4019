namespace KeypointService.Api.Contracts;

/// <summary>
/// A JSON input. Give exactly one of: <c>data</c> (rows of numbers), <c>image</c> (base64 PNG or JPEG),
/// or <c>data_b64</c> with <c>width</c> and <c>height</c> (base64 little-endian float32, row-major).
/// </summary>
public sealed record PredictRequest
{
    /// <summary>Rows × columns of numbers: a pressure map in the mat's unit or a grayscale image (0..255).</summary>
    public double[][]? Data { get; init; }
    /// <summary>Base64 PNG or JPEG (8/16-bit, grayscale or colour; converted to grayscale).</summary>
    public string? Image { get; init; }
    /// <summary>Base64 little-endian float32 values, row-major, width × height of them.</summary>
    public string? DataB64 { get; init; }
    /// <summary>Width for data_b64.</summary>
    public int? Width { get; init; }
    /// <summary>Height for data_b64.</summary>
    public int? Height { get; init; }
    /// <summary>Extra outputs: "heatmaps", "reconstruction".</summary>
    public string[]? Include { get; init; }
    /// <summary>How heatmaps and reconstructions are returned: "array" (default) or "png".</summary>
    public string? MapFormat { get; init; }
}

/// <summary>Several JSON inputs run as one batched inference.</summary>
public sealed record PredictBatchRequest
{
    /// <summary>The inputs, each as in the single-input JSON body.</summary>
    public required PredictRequest[] Items { get; init; }
}
