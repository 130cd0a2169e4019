using System.Text.Json.Serialization;

namespace KeypointService.Models.Manifests;

// C# view of schemas/model-manifest.schema.json (the contract with the training worker).
// The JSON Schema is authoritative: ManifestReader validates against it before binding to these records.

public enum ModelTask { Heatmap, Regression, Spmkd, Multi }

public sealed record ModelManifest
{
    public required int SchemaVersion { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required ModelTask Task { get; init; }
    public string? Description { get; init; }
    public required string ModelFile { get; init; }
    public required string Sha256 { get; init; }
    public required InputSpec Input { get; init; }
    public required OutputSpec Outputs { get; init; }
    public required DecodingSpec Decoding { get; init; }
    public required IReadOnlyList<string> Keypoints { get; init; }
    public required IReadOnlyList<int[]> Skeleton { get; init; }
    public JointHeadSpec? Joints { get; init; }
    /// <summary>Task <c>multi</c>: the outputs and parameters of the grouping step (Processing/Grouping).</summary>
    public GroupingSpec? Grouping { get; init; }
    /// <summary>SPMKD: posture classifier on the keypoints (PostureHeadSpec.cs).</summary>
    public PostureHeadSpec? Posture { get; init; }
    public System.Text.Json.Nodes.JsonObject? Metrics { get; init; }
    public System.Text.Json.Nodes.JsonObject? Training { get; init; }
    public string? GoldenFile { get; init; }
}

public sealed record InputSpec
{
    public required string Name { get; init; }
    public required string Layout { get; init; }
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required bool DynamicBatch { get; init; }
    public required string Resize { get; init; }
    public required string ValueDomain { get; init; }
    public required NormalizationSpec Normalization { get; init; }
}

public enum NormalizationKind { Affine, Max }

public sealed record NormalizationSpec
{
    public required NormalizationKind Kind { get; init; }
    public required float Scale { get; init; }
    public required float Offset { get; init; }
    public float? ClipMin { get; init; }
    public float? ClipMax { get; init; }
    public float Eps { get; init; } = 1e-6f;
}

public sealed record OutputSpec
{
    public HeatmapOutputSpec? Heatmaps { get; init; }
    public CoordinatesOutputSpec? Coordinates { get; init; }
    public ReconstructionOutputSpec? Reconstruction { get; init; }
}

public sealed record HeatmapOutputSpec
{
    public required string Name { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required double Stride { get; init; }
    public double? Sigma { get; init; }
}

public sealed record CoordinatesOutputSpec
{
    public required string Name { get; init; }
    public required bool Normalized { get; init; }
}

public sealed record ReconstructionOutputSpec
{
    public required string ModelFile { get; init; }
    public required string Sha256 { get; init; }
    public required string Name { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
}

public enum DecodingMethod { Dark, Argmax, Direct }

public sealed record DecodingSpec
{
    public required DecodingMethod Method { get; init; }
}

public sealed record JointHeadSpec
{
    public required IReadOnlyList<string> Names { get; init; }
    public required IReadOnlyList<int[]> Skeleton { get; init; }
    /// <summary>2J × 2K matrix over interleaved normalised (x, y) keypoints.</summary>
    public required IReadOnlyList<double[]> Weight { get; init; }
    public required IReadOnlyList<double> Bias { get; init; }
}

/// <summary>
/// Task <c>multi</c>: names of the outputs the grouping step reads (four; five with a head vote) and its parameters
/// (docs/model-manifest.md, "Grouping"; Python reference keypoint_trainer/codecs/grouping.py).
/// </summary>
public sealed record GroupingSpec
{
    public required string Method { get; init; }
    /// <summary>[N, 1, H, W] keypoint probability of any type.</summary>
    public required string Heatmap { get; init; }
    /// <summary>[N, 2, H, W] (dx, dy) in cells from the cell centre.</summary>
    public required string Offsets { get; init; }
    /// <summary>[N, K, H, W] keypoint-type probabilities.</summary>
    public required string Types { get; init; }
    /// <summary>[N, D, H, W] per-keypoint embeddings.</summary>
    public required string Embeddings { get; init; }
    public required double PeakThreshold { get; init; }
    public required int MaxDetections { get; init; }
    public required double LinkScale { get; init; }
    public required double LinkBias { get; init; }
    public required double LinkThreshold { get; init; }
    public required double MaxLinkLength { get; init; }
    public required int MinKeypoints { get; init; }
    /// <summary>Keypoint-type pairs tried as links (link indices refer to this list); null: the manifest's skeleton.</summary>
    public IReadOnlyList<int[]>? CandidateLinks { get; init; }
    /// <summary>Geometric link term from the detections' head votes; null: link score = embedding score.</summary>
    public HeadVoteSpec? HeadVote { get; init; }
    /// <summary>Detection types decided per figure in assembly; null: each detection keeps its most probable type.</summary>
    public RetypeSpec? Retype { get; init; }

    /// <summary>The type pairs tried as links: <see cref="CandidateLinks"/>, else <paramref name="skeleton"/>.</summary>
    public IReadOnlyList<int[]> LinksOf(IReadOnlyList<int[]> skeleton) => CandidateLinks ?? skeleton;

    /// <summary>The model outputs to request from ONNX Runtime, in this order.</summary>
    public IReadOnlyList<string> OutputNames => HeadVote is { } vote ? [Heatmap, Offsets, Types, Embeddings, vote.Output] : [Heatmap, Offsets, Types, Embeddings];
}

/// <summary>
/// <c>grouping.retype</c>: every pair of detections is a link candidate, and a merge re-types the joined figure's
/// detections (distinct types, each at least <see cref="MinProbability"/> likely, largest sum of log probabilities)
/// instead of refusing two detections of one most-probable type (docs/model-manifest.md, "Grouping").
/// </summary>
public sealed record RetypeSpec
{
    /// <summary>A detection may take a type only with at least this probability.</summary>
    public required double MinProbability { get; init; }
}

/// <summary>
/// <c>grouping.head_vote</c>: each detection votes for its figure's head (a head detection for itself) and a link's
/// score becomes S = A^(1 − weight) · exp(−weight · d² / (2 sigma²)), d the distance between the two votes
/// (docs/model-manifest.md, "Grouping").
/// </summary>
public sealed record HeadVoteSpec
{
    /// <summary>[N, 2, H, W] (hx, hy) in cells from the cell centre to the head of the keypoint's figure.</summary>
    public required string Output { get; init; }
    /// <summary>Keypoint-type index of the head.</summary>
    public required int HeadType { get; init; }
    /// <summary>Vote distance (normalised) at which the agreement is exp(−1/2).</summary>
    public required double Sigma { get; init; }
    /// <summary>Share of the geometric term: 0 the embedding score alone, 1 the votes alone.</summary>
    public required double Weight { get; init; }
}

[JsonSerializable(typeof(ModelManifest))]
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
