using System.Reflection;
using KeypointService.Api.Infrastructure;
using KeypointService.Models.Inference;
using KeypointService.Models.Inference.Batching;
using KeypointService.Models.Inputs;
using KeypointService.Models.Manifests;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Apis.Oip;

/// <summary>
/// The protocol's semantics, independent of transport: which model and version a request names,
/// what the model's input tensor may look like, running it through the same pre-processing,
/// concurrency gate and predictor as /v1, and which outputs come back. REST and gRPC only translate.
/// </summary>
public sealed class OipInference(ModelStore store, InferenceScheduler scheduler, IOptions<InferenceOptions> options)
{
    public const string Platform = "onnxruntime_onnx";
    public const string BinaryExtension = "binary_tensor_data";

    private readonly int _maxItems = options.Value.MaxBatchItems;

    public static OipServerMetadata ServerMetadata { get; } = new(
        "KeypointService",
        typeof(OipInference).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0",
        [BinaryExtension]);

    public bool IsReady => store.IsReady;

    /// <summary>Ready when the model is serving the requested version (or any, when none is named).</summary>
    public bool IsModelReady(string name, string? version)
    {
        var status = store.GetStatus(name) ?? throw UnknownModel(name);
        return status.IsServing && (string.IsNullOrEmpty(version) || version == status.ServingVersion);
    }

    /// <summary>Fails as <see cref="InferAsync"/> would for an unknown, unloaded or other version of a model, before its body is read.</summary>
    public void EnsureServed(string name, string? version) => Acquire(name, version).Dispose();

    public OipModelMetadata Metadata(string name, string? version)
    {
        using var lease = Acquire(name, version);
        var model = lease.Model;
        var m = model.Manifest;
        var outputs = OipModelOutputs.Describe(model);
        var properties = new Dictionary<string, string>
        {
            ["task"] = m.Task.ToString().ToLowerInvariant(),
            ["input"] = InputDescription(m),
            ["keypoints"] = string.Join(",", m.Keypoints),
            ["skeleton"] = string.Join(",", m.Skeleton.Select(l => $"{l[0]}-{l[1]}")),
            ["default_outputs"] = "all outputs when the request names none; name the ones you need",
        };
        foreach (var o in outputs) properties[$"output.{o.Name}"] = o.Description;
        return new OipModelMetadata(m.Name, [m.Version], Platform,
            [new OipTensorMetadata(m.Input.Name, OipDataTypes.Name(OipDataType.Fp32), [-1, 1, -1, -1])],
            outputs.Select(o => new OipTensorMetadata(o.Name, OipDataTypes.Name(o.Datatype), o.Shape)).ToList(),
            properties);
    }

    private string InputDescription(ModelManifest m)
    {
        var spec = m.Input;
        var n = spec.Normalization;
        var normalization = n.Kind == NormalizationKind.Max
            ? $"divided by the map's maximum (at least {n.Eps}), times {n.Scale}, plus {n.Offset}"
            : $"times {n.Scale}, plus {n.Offset}";
        var clip = n.ClipMin is not null || n.ClipMax is not null ? $", clipped to [{n.ClipMin?.ToString() ?? "-inf"}, {n.ClipMax?.ToString() ?? "inf"}]" : "";
        return $"one tensor '{spec.Name}' of shape [H, W], [N, H, W] or [N, 1, H, W] (1 ≤ N ≤ {_maxItems}, 1 ≤ H, W ≤ {InputMap.MaxSide}), " +
               $"any size in the caller's own pixels, datatype {string.Join(", ", OipDataTypes.NumericInputs.Select(OipDataTypes.Name))} (FP16 in binary form only); " +
               $"values in the model's domain '{spec.ValueDomain}'{(spec.ValueDomain == "image_u8" ? " (grayscale 0..255)" : " (as measured)")}, finite; " +
               $"each image is resized to {spec.Width}×{spec.Height} (bilinear, half-pixel centres, no antialiasing) and normalised: {normalization}{clip}";
    }

    public async Task<OipInferResult> InferAsync(OipInferRequest request, CancellationToken cancellation)
    {
        using var lease = Acquire(request.ModelName, request.ModelVersion);
        var model = lease.Model;
        var manifest = model.Manifest;
        var maps = ReadInput(request.Inputs, manifest.Input);
        var selected = SelectOutputs(OipModelOutputs.Describe(model), request.Outputs);
        var raw = selected.Where(o => o.OnnxName is not null).Select(o => o.OnnxName!).ToList();
        var predictionOptions = new PredictionOptions(RawOutputs: raw);

        IReadOnlyList<Prediction> predictions;
        try
        {
            predictions = await Task.WhenAll(maps.Select(map => scheduler.RunAsync(new InferenceRequest(model, map, predictionOptions), cancellation)));
        }
        catch (OverloadException e)
        {
            throw new OipException(OipErrorKind.Unavailable, e.Message, e.RetryAfterSeconds);
        }
        return new OipInferResult(manifest.Name, manifest.Version, request.Id, OipModelOutputs.Build(manifest, selected, predictions));
    }

    /// <summary>Takes the serving version, or fails with 404 (unknown model or another version) or 503 (not loaded).</summary>
    private ModelLease Acquire(string name, string? version)
    {
        var lease = store.TryAcquire(name, out var status);
        if (lease is null)
        {
            if (status is null) throw UnknownModel(name);
            throw new OipException(OipErrorKind.Unavailable,
                $"model '{name}' is not loaded ({status.State.ToString().ToLowerInvariant()}{(status.Error is null ? "" : $": {status.Error}")})");
        }
        if (string.IsNullOrEmpty(version) || version == lease.Model.Manifest.Version) return lease;
        var serving = lease.Model.Manifest.Version;
        lease.Dispose();
        throw new OipException(OipErrorKind.NotFound,
            $"model '{name}' version '{version}' is not served; this server serves only the newest loaded version, '{serving}' (omit the version or ask for '{serving}')");
    }

    private static OipException UnknownModel(string name) =>
        new(OipErrorKind.NotFound, $"unknown model '{name}'; GET /v2/models/{{name}} works for the models listed by GET /v1/models");

    /// <summary>The one input tensor as images: [H, W], [N, H, W] or [N, 1, H, W], any numeric datatype.</summary>
    private List<InputMap> ReadInput(IReadOnlyList<OipInput> inputs, InputSpec spec)
    {
        if (inputs.Count != 1)
            throw OipException.BadRequest($"the model takes exactly one input tensor, '{spec.Name}'; the request has {inputs.Count}");
        var input = inputs[0];
        var what = $"input '{input.Name}'";
        if (input.Name != spec.Name)
            throw OipException.BadRequest($"unknown input '{input.Name}'; the model's input is '{spec.Name}'");
        if (!OipDataTypes.TryParse(input.Datatype, out var type))
            throw OipException.BadRequest($"{what}: unknown datatype '{input.Datatype}'; the protocol's datatypes are {string.Join(", ", Enum.GetValues<OipDataType>().Select(OipDataTypes.Name))}");
        if (!OipDataTypes.NumericInputs.Contains(type))
            throw OipException.BadRequest($"{what}: datatype {input.Datatype} is not accepted; send the image as one of {string.Join(", ", OipDataTypes.NumericInputs.Select(OipDataTypes.Name))}");

        var s = input.Shape;
        var shape = $"[{string.Join(", ", s)}]";
        var (n, height, width) = s.Length switch
        {
            2 => (1L, s[0], s[1]),
            3 => (s[0], s[1], s[2]),
            4 when s[1] == 1 => (s[0], s[2], s[3]),
            4 => throw OipException.BadRequest($"{what}: shape {shape} has {s[1]} channels; the model takes one (grayscale or a pressure map): [N, 1, H, W]"),
            _ => throw OipException.BadRequest($"{what}: shape {shape} has rank {s.Length}; expected [H, W], [N, H, W] or [N, 1, H, W]"),
        };
        if (s.Any(d => d < 0))
            throw OipException.BadRequest($"{what}: shape {shape} has a negative dimension");
        if (n < 1 || n > _maxItems)
            throw OipException.BadRequest($"{what}: batch size {n} is outside 1..{_maxItems} (Inference:MaxBatchItems)");
        if (height < 1 || width < 1 || height > InputMap.MaxSide || width > InputMap.MaxSide)
            throw OipException.BadRequest($"{what}: image size {width} × {height} (width × height) is outside 1..{InputMap.MaxSide}");

        var plane = (int)(height * width);
        var values = OipTensorCodec.Decode(input.Data, type, n * plane, what);
        var maps = new List<InputMap>((int)n);
        for (var i = 0; i < n; i++)
        {
            try
            {
                maps.Add(new InputMap((int)width, (int)height, values.AsSpan(i * plane, plane).ToArray()));
            }
            catch (InputFormatException e)
            {
                throw OipException.BadRequest($"{what}, image {i}: {e.Message}");
            }
        }
        return maps;
    }

    /// <summary>The requested outputs in request order, or all of them; an unknown name is a 400 listing the known ones.</summary>
    private static List<OipOutputInfo> SelectOutputs(IReadOnlyList<OipOutputInfo> offered, IReadOnlyList<OipRequestedOutput>? requested)
    {
        if (requested is null || requested.Count == 0) return offered.ToList();
        var selected = new List<OipOutputInfo>(requested.Count);
        foreach (var r in requested)
        {
            var info = offered.FirstOrDefault(o => o.Name == r.Name)
                ?? throw OipException.BadRequest($"unknown output '{r.Name}'; the model's outputs are {string.Join(", ", offered.Select(o => o.Name))}");
            if (selected.Contains(info)) throw OipException.BadRequest($"output '{r.Name}' is requested twice");
            selected.Add(info);
        }
        return selected;
    }
}
