namespace KeypointService.Models.Manifests;

/// <summary>
/// SPMKD: the posture classifier on the keypoints (docs/model-manifest.md, "Posture";
/// applied by Processing/PostureHead).
/// </summary>
public sealed record PostureHeadSpec
{
    /// <summary>Class names in output order.</summary>
    public required IReadOnlyList<string> Classes { get; init; }
    /// <summary><c>centered_keypoints</c>: normalised keypoints minus their mean, x/y interleaved.</summary>
    public required string Features { get; init; }
    /// <summary>Dense layers, applied in order; softmax after the last.</summary>
    public required IReadOnlyList<DenseLayerSpec> Layers { get; init; }
}

/// <summary>One dense layer: y = activation(W · x + b), W is out × in.</summary>
public sealed record DenseLayerSpec
{
    public required IReadOnlyList<double[]> Weight { get; init; }
    public required IReadOnlyList<double> Bias { get; init; }
    /// <summary><c>relu</c> or <c>none</c>.</summary>
    public required string Activation { get; init; }
}
