using KeypointService.Models.Manifests;

namespace KeypointService.Models.Serving;

public enum ModelLoadState { Missing, Loading, Loaded, Failed }

/// <summary>What the store knows about one model name, for /v1/models and readiness.</summary>
public sealed record ModelStatus
{
    public required string Name { get; init; }
    public required ModelLoadState State { get; init; }
    public required bool Optional { get; init; }
    public required IReadOnlyList<string> AvailableVersions { get; init; }
    /// <summary>The version being served, if any (it can be older than the newest when the newest failed).</summary>
    public string? ServingVersion { get; init; }
    /// <summary>The version ModelStore:Pinned names for this model, if any (served instead of the newest).</summary>
    public string? PinnedVersion { get; init; }
    public ModelManifest? Manifest { get; init; }
    public string? ExecutionProvider { get; init; }
    public string? ProviderFallbackReason { get; init; }
    public DateTimeOffset? LoadedAt { get; init; }
    /// <summary>Why the newest version could not be loaded (or why the model is missing).</summary>
    public string? Error { get; init; }
    public bool IsServing => ServingVersion is not null;
}
