namespace KeypointService.Models.Inference;

/// <summary>
/// What a caller asks for beyond keypoints. <paramref name="RawOutputs"/>: names of the model's own ONNX
/// outputs to return as they are (see <see cref="KeypointPredictor.DescribeRawOutputs"/>).
/// </summary>
public sealed record PredictionOptions(bool IncludeHeatmaps = false, bool IncludeReconstruction = false, IReadOnlyCollection<string>? RawOutputs = null);

/// <summary>A keypoint in the caller's input pixels (pixel centres at integer + 0.5) and normalised to [0, 1].</summary>
public sealed record KeypointResult(string Name, double X, double Y, double XNorm, double YNorm, double? Confidence);

/// <summary>A 2-D map (heatmap or reconstruction), row-major.</summary>
public sealed record MapResult(string Name, int Width, int Height, float[] Data);

/// <summary>Task multi: one figure with its keypoints (caller pixels), links as keypoint-index pairs, and score.</summary>
public sealed record InstanceResult(double Score, IReadOnlyList<KeypointResult> Keypoints, IReadOnlyList<int[]> Links);

public sealed record InferenceTimings(double PreprocessMs, double InferenceMs, double PostprocessMs);

public sealed record Prediction
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required IReadOnlyList<KeypointResult> Keypoints { get; init; }
    /// <summary>Task multi: the figures found, best first (<see cref="Keypoints"/> is then empty).</summary>
    public IReadOnlyList<InstanceResult>? Instances { get; init; }
    /// <summary>SPMKD: the named body joints mapped from the discovered keypoints.</summary>
    public IReadOnlyList<KeypointResult>? Joints { get; init; }
    /// <summary>SPMKD: the posture class from the manifest's posture head.</summary>
    public Processing.PostureResult? Posture { get; init; }
    public IReadOnlyList<MapResult>? Heatmaps { get; init; }
    /// <summary>SPMKD: the reconstructed map at the caller's size, in the caller's units.</summary>
    public MapResult? Reconstruction { get; init; }
    /// <summary>The raw ONNX outputs named in <see cref="PredictionOptions.RawOutputs"/>, this item's slice (batch dimension 1).</summary>
    public IReadOnlyList<RawOutput>? RawOutputs { get; init; }
    public required InferenceTimings Timings { get; init; }
}
