using KeypointService.Api.Inputs;
using KeypointService.Models.Inference;
using KeypointService.Models.Outputs;
using KeypointService.Models.Manifests;
using KeypointService.Models.Processing;

namespace KeypointService.Api.Contracts;

/// <summary>Maps inference results to the wire contract.</summary>
public static class ResponseMapper
{
    public static string TaskName(ModelTask task) => task.ToString().ToLowerInvariant();

    public static PredictResponse ToResponse(ModelManifest manifest, Prediction p, MapFormat format) => new()
    {
        Model = manifest.Name,
        Version = manifest.Version,
        Task = TaskName(manifest.Task),
        Width = p.Width,
        Height = p.Height,
        Keypoints = p.Keypoints.Select(ToDto).ToList(),
        Links = manifest.Skeleton,
        Instances = p.Instances?.Select(i => new InstanceDto(i.Score, i.Keypoints.Select(ToDto).ToList(), i.Links)).ToList(),
        Joints = p.Joints?.Select(ToDto).ToList(),
        JointLinks = p.Joints is null ? null : manifest.Joints?.Skeleton,
        Posture = p.Posture is { } posture ? ToDto(posture) : null,
        Heatmaps = p.Heatmaps?.Select(m => ToDto(m, format)).ToList(),
        Reconstruction = p.Reconstruction is { } r ? ToDto(r, format) : null,
        TimingsMs = new TimingsDto(Round(p.Timings.PreprocessMs), Round(p.Timings.InferenceMs), Round(p.Timings.PostprocessMs)),
    };

    private static KeypointDto ToDto(KeypointResult k) =>
        new(k.Name, k.X, k.Y, k.XNorm, k.YNorm, k.Confidence, k.Confidence is { } c ? Math.Clamp(c, 0, 1) : null);

    public static PostureDto ToDto(PostureResult posture) =>
        new(posture.Label, posture.Probabilities.ToDictionary(p => p.Key, p => Math.Round(p.Value, 6)));

    private static double Round(double ms) => Math.Round(ms, 3);

    public static MapDto ToDto(MapResult map, MapFormat format)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in map.Data) { min = Math.Min(min, v); max = Math.Max(max, v); }
        if (format == MapFormat.Array)
        {
            var rows = new float[map.Height][];
            for (var y = 0; y < map.Height; y++) rows[y] = map.Data.AsSpan(y * map.Width, map.Width).ToArray();
            return new MapDto { Name = map.Name, Width = map.Width, Height = map.Height, Min = min, Max = max, Data = rows };
        }
        var range = max - min;
        var pixels = new ushort[map.Data.Length];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = range > 0 ? (ushort)Math.Round((map.Data[i] - min) / range * 65535f) : (ushort)0;
        return new MapDto
        {
            Name = map.Name, Width = map.Width, Height = map.Height, Min = min, Max = max,
            PngBase64 = Convert.ToBase64String(PngEncoder.EncodeGray16(map.Width, map.Height, pixels)),
        };
    }
}
