using System.Buffers;
using System.Diagnostics;
using KeypointService.Models.Inputs;
using KeypointService.Models.Manifests;
using KeypointService.Models.Onnx;
using KeypointService.Models.Processing;
using KeypointService.Models.Processing.Grouping;
using KeypointService.Models.Serving;

namespace KeypointService.Models.Inference;

/// <summary>
/// Runs one model version on a batch of input maps: pre-processing per the manifest, one ONNX
/// Runtime call for the whole batch where the model has a dynamic batch dimension, then decoding
/// into the caller's coordinates. Stateless; thread-safe.
/// </summary>
public static partial class KeypointPredictor
{
    public static IReadOnlyList<Prediction> Predict(LoadedModel model, IReadOnlyList<InputMap> inputs, PredictionOptions options)
    {
        if (inputs.Count == 0) return [];
        var manifest = model.Manifest;
        if (!manifest.Input.DynamicBatch && inputs.Count > 1)
            return inputs.SelectMany(input => Predict(model, [input], options)).ToList();

        var clock = Stopwatch.StartNew();
        var spec = manifest.Input;
        var plane = spec.Height * spec.Width;
        // The model input is a pooled buffer (a batch of 64 spmkd maps is 16 MB) that ONNX Runtime reads in place.
        var batch = ArrayPool<float>.Shared.Rent(inputs.Count * plane);
        try
        {
            var scales = new float[inputs.Count];
            for (var i = 0; i < inputs.Count; i++)
                scales[i] = Preprocessor.Prepare(inputs[i].Data, inputs[i].Width, inputs[i].Height, spec, batch.AsSpan(i * plane, plane));
            var tensor = new OnnxInput(spec.Name, [inputs.Count, 1, spec.Height, spec.Width], batch.AsMemory(0, inputs.Count * plane));
            var preprocessMs = clock.Elapsed.TotalMilliseconds;
            return manifest.Task == ModelTask.Multi
                ? PredictFigures(model, inputs, options, tensor, preprocessMs)
                : PredictKeypoints(model, inputs, options, tensor, scales, preprocessMs);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(batch);
        }
    }

    private static IReadOnlyList<Prediction> PredictKeypoints(LoadedModel model, IReadOnlyList<InputMap> inputs, PredictionOptions options,
        OnnxInput tensor, float[] scales, double preprocessMs)
    {
        var manifest = model.Manifest;
        var spec = manifest.Input;
        var clock = Stopwatch.StartNew();
        var outputNames = new List<string>(2);
        if (manifest.Outputs.Heatmaps is { } hm) outputNames.Add(hm.Name);
        if (manifest.Decoding.Method == DecodingMethod.Direct) outputNames.Add(manifest.Outputs.Coordinates!.Name);
        AddRawNames(model.Session, options, outputNames);
        var outputs = model.Session.Run([tensor], outputNames);
        OnnxTensor? reconstruction = null;
        IReadOnlyList<OnnxTensor> reconstructionOutputs = [];
        if (model.Reconstruction is { } reconstructionSession && (options.IncludeReconstruction || RawNamesOf(reconstructionSession, options).Count > 0))
        {
            var names = new List<string> { manifest.Outputs.Reconstruction!.Name };
            AddRawNames(reconstructionSession, options, names);
            reconstructionOutputs = reconstructionSession.Run([tensor], names);
            reconstruction = options.IncludeReconstruction ? reconstructionOutputs[0] : null;
        }
        var inferenceMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var heatmaps = manifest.Outputs.Heatmaps is { } h ? outputs[outputNames.IndexOf(h.Name)] : null;
        var coordinates = manifest.Decoding.Method == DecodingMethod.Direct ? outputs[outputNames.IndexOf(manifest.Outputs.Coordinates!.Name)] : null;
        var raw = RawSelection(options, outputs.Concat(reconstructionOutputs));
        var predictions = new Prediction[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            var normalized = DecodeKeypoints(manifest, heatmaps, coordinates, i);
            predictions[i] = new Prediction
            {
                Width = input.Width,
                Height = input.Height,
                Keypoints = ToCaller(normalized, manifest.Keypoints, input),
                Joints = manifest.Joints is { } head
                    ? ToCaller(KeypointDecoding.ApplyJointHead(normalized, head.Weight, head.Bias), head.Names, input)
                    : null,
                Posture = manifest.Posture is { } posture ? PostureHead.Classify(normalized, posture) : null,
                Heatmaps = options.IncludeHeatmaps && heatmaps is not null ? SplitHeatmaps(heatmaps, manifest.Keypoints, i) : null,
                Reconstruction = reconstruction is not null ? ReconstructionToCaller(reconstruction, i, input, spec.Normalization, scales[i]) : null,
                RawOutputs = SliceRaw(raw, i, inputs.Count),
                Timings = NoTimings,
            };
        }
        var timings = new InferenceTimings(preprocessMs, inferenceMs, clock.Elapsed.TotalMilliseconds);
        model.Metrics.RecordInference(manifest.Name, inputs.Count, timings);
        return predictions.Select(p => p with { Timings = timings }).ToList();
    }

    private static readonly InferenceTimings NoTimings = new(0, 0, 0);

    // Task multi: category-implicit outputs grouped into figures by link prediction (Processing/Grouping).
    private static IReadOnlyList<Prediction> PredictFigures(LoadedModel model, IReadOnlyList<InputMap> inputs, PredictionOptions options, OnnxInput tensor, double preprocessMs)
    {
        var manifest = model.Manifest;
        var spec = manifest.Grouping!;
        var clock = Stopwatch.StartNew();
        var outputNames = spec.OutputNames.ToList();
        AddRawNames(model.Session, options, outputNames);
        var outputs = model.Session.Run([tensor], outputNames);
        var inferenceMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var byName = spec.OutputNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => new GroupingTensor(outputs[p.i].Data, outputs[p.i].Shape));
        var heatmap = outputs[0];
        var raw = RawSelection(options, outputs);
        var predictions = inputs.Select((input, i) => new Prediction
        {
            Width = input.Width,
            Height = input.Height,
            Keypoints = [],
            Instances = FigureGrouping.Group(manifest, byName, i).Instances.Select(instance => new InstanceResult(
                instance.Score,
                instance.Keypoints.Select(k => new KeypointResult(k.Name, k.X * input.Width, k.Y * input.Height, k.X, k.Y, k.Score)).ToList(),
                instance.Links.Select(l => new[] { l.From, l.To }).ToList())).ToList(),
            Heatmaps = options.IncludeHeatmaps ? SplitHeatmaps(heatmap, ["any_keypoint"], i) : null,
            RawOutputs = SliceRaw(raw, i, inputs.Count),
            Timings = NoTimings,
        }).ToList();
        var timings = new InferenceTimings(preprocessMs, inferenceMs, clock.Elapsed.TotalMilliseconds);
        model.Metrics.RecordInference(manifest.Name, inputs.Count, timings);
        return predictions.Select(p => p with { Timings = timings }).ToList();
    }

    private static NormalizedKeypoint[] DecodeKeypoints(ModelManifest manifest, OnnxTensor? heatmaps, OnnxTensor? coordinates, int item)
    {
        var k = manifest.Keypoints.Count;
        if (coordinates is not null)
            return KeypointDecoding.DecodeCoordinates(coordinates.Data.AsSpan(item * 2 * k, 2 * k), k);
        var (width, height) = HeatmapSize(heatmaps!, k);
        var plane = width * height;
        var refine = manifest.Decoding.Method == DecodingMethod.Dark;
        var result = new NormalizedKeypoint[k];
        for (var j = 0; j < k; j++)
            result[j] = KeypointDecoding.DecodeHeatmap(heatmaps!.Data.AsSpan((item * k + j) * plane, plane), width, height, refine);
        return result;
    }

    private static (int Width, int Height) HeatmapSize(OnnxTensor heatmaps, int keypoints)
    {
        var s = heatmaps.Shape;
        if (s.Length != 4 || s[1] != keypoints)
            throw new InvalidDataException($"heatmap output has shape [{string.Join(", ", s)}], expected [N, {keypoints}, H, W]");
        return ((int)s[3], (int)s[2]);
    }

    private static KeypointResult[] ToCaller(IReadOnlyList<NormalizedKeypoint> points, IReadOnlyList<string> names, InputMap input) =>
        points.Select((p, j) => new KeypointResult(names[j], p.X * input.Width, p.Y * input.Height, p.X, p.Y, p.Confidence)).ToArray();

    private static MapResult[] SplitHeatmaps(OnnxTensor heatmaps, IReadOnlyList<string> names, int item)
    {
        var (width, height) = HeatmapSize(heatmaps, names.Count);
        var plane = width * height;
        return names.Select((name, j) =>
            new MapResult(name, width, height, heatmaps.Data.AsSpan((item * names.Count + j) * plane, plane).ToArray())).ToArray();
    }

    private static MapResult ReconstructionToCaller(OnnxTensor reconstruction, int item, InputMap input, NormalizationSpec normalization, float scale)
    {
        var s = reconstruction.Shape;
        int height = (int)s[^2], width = (int)s[^1];
        var plane = width * height;
        var resized = new float[input.Width * input.Height];
        Preprocessor.ResizeBilinear(reconstruction.Data.AsSpan(item * plane, plane), width, height, resized, input.Width, input.Height);
        // Undo the normalisation so the map is in the caller's units.
        for (var i = 0; i < resized.Length; i++) resized[i] = (resized[i] - normalization.Offset) / scale;
        return new MapResult("reconstruction", input.Width, input.Height, resized);
    }
}
