using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using KeypointService.Api.Inputs;
using KeypointService.Models.Manifests;
using KeypointService.Models.Serving;

namespace KeypointService.Api.Contracts;

/// <summary>A model as the service sees it: what is served and what failed.</summary>
public sealed record ModelInfo
{
    public required string Name { get; init; }
    /// <summary>loaded | loading | failed | missing.</summary>
    public required string State { get; init; }
    /// <summary>Whether the service is ready without this model.</summary>
    public required bool Optional { get; init; }
    /// <summary>The version being served (null when none is loaded).</summary>
    public string? Version { get; init; }
    /// <summary>Every version directory in the store, oldest first.</summary>
    public required IReadOnlyList<string> AvailableVersions { get; init; }
    /// <summary>heatmap | regression | spmkd | multi.</summary>
    public string? Task { get; init; }
    public string? Description { get; init; }
    public InputInfo? Input { get; init; }
    public IReadOnlyList<string>? Keypoints { get; init; }
    public IReadOnlyList<int[]>? Links { get; init; }
    /// <summary>SPMKD: named joints and their links.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Joints { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<int[]>? JointLinks { get; init; }
    /// <summary>Which optional outputs this model can return (heatmaps, reconstruction).</summary>
    public IReadOnlyList<string>? Outputs { get; init; }
    /// <summary>Evaluation metrics from the manifest (GET /v1/models/{name} only; left out of the list).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonObject? Metrics { get; init; }
    /// <summary>Training provenance from the manifest (GET /v1/models/{name} only; left out of the list).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonObject? Training { get; init; }
    /// <summary>ONNX Runtime execution provider the model runs on.</summary>
    public string? ExecutionProvider { get; init; }
    /// <summary>Why a requested GPU provider was not used, if it was not.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ProviderFallbackReason { get; init; }
    public DateTimeOffset? LoadedAt { get; init; }
    /// <summary>The version ModelStore:Pinned names (served instead of the newest), if any.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? PinnedVersion { get; init; }
    /// <summary>Why the newest version failed to load, if it did.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }

    public static ModelInfo From(ModelStatus s, bool detailed)
    {
        var m = s.Manifest;
        return new ModelInfo
        {
            Name = s.Name,
            State = s.State.ToString().ToLowerInvariant(),
            Optional = s.Optional,
            Version = s.ServingVersion,
            AvailableVersions = s.AvailableVersions,
            Task = m is null ? null : ResponseMapper.TaskName(m.Task),
            Description = m?.Description,
            Input = m is null ? null : new InputInfo(m.Input.Name, m.Input.Height, m.Input.Width, m.Input.ValueDomain, m.Input.Resize,
                m.Input.Normalization.Kind.ToString().ToLowerInvariant(), m.Input.Normalization.Scale, m.Input.Normalization.Offset),
            Keypoints = m?.Keypoints,
            Links = m?.Skeleton,
            Joints = m?.Joints?.Names,
            JointLinks = m?.Joints?.Skeleton,
            Outputs = m is null ? null : OutputSelection.AvailableOutputs(m),
            Metrics = detailed ? m?.Metrics : null,
            Training = detailed ? m?.Training : null,
            ExecutionProvider = s.ExecutionProvider,
            ProviderFallbackReason = s.ProviderFallbackReason,
            LoadedAt = s.LoadedAt,
            PinnedVersion = s.PinnedVersion,
            Error = s.Error,
        };
    }
}

/// <summary>The model's input: any size is accepted and resized to height × width.</summary>
public sealed record InputInfo(string Name, int Height, int Width, string ValueDomain, string Resize, string Normalization, float Scale, float Offset);

/// <summary>Liveness: the process serves HTTP.</summary>
public sealed record LivenessReport(string Status);

/// <summary>Readiness: whether every non-optional model is loaded, and each model's state.</summary>
public sealed record ReadinessReport(string Status, IReadOnlyList<ModelReadiness> Models);

/// <summary>One model's readiness.</summary>
public sealed record ModelReadiness(string Name, string State, string? Version, bool Optional,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
