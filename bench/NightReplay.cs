using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeypointService.Client;

namespace KeypointService.Bench;

/// <summary>
/// Replays a simulated night (written by <c>python3 -m keypoint_trainer night simulate</c>: frames.f32 +
/// frames.json) into a running service's bed endpoints through the typed client, at real speed
/// (<c>--speed 1</c>), accelerated (<c>--speed 60</c>: an hour a minute) or as fast as answered (0), and
/// writes every answer's posture and events to replay.json for <c>night evaluate</c>.
/// </summary>
internal static class NightReplay
{
    private sealed record FrameIndex(int Width, int Height, long[] TimestampMs);

    public static async Task<int> RunAsync(Arguments args)
    {
        var night = args.Get("night", "data/nights/night-0");
        var url = new Uri(args.Get("url", "http://127.0.0.1:8080/"));
        var bed = args.Get("bed", "night-0");
        var speed = args.Get("speed", 0.0);
        var index = JsonSerializer.Deserialize<FrameIndex>(File.ReadAllText(Path.Combine(night, "frames.json")), KeypointServiceJson.Options)
            ?? throw new IOException($"{night}/frames.json is empty");
        var plane = index.Width * index.Height;
        var raw = File.ReadAllBytes(Path.Combine(night, "frames.f32"));
        if (raw.Length != 4L * plane * index.TimestampMs.Length)
            throw new IOException($"{night}/frames.f32 has {raw.Length} bytes; frames.json describes {index.TimestampMs.Length} frames of {index.Width} x {index.Height} float32");
        var values = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, values, 0, raw.Length);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var client = new KeypointServiceClient(http, url);
        var frames = new JsonArray();
        var events = new JsonArray();
        BedState? state = null;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < index.TimestampMs.Length; i++)
        {
            if (speed > 0)
            {
                var due = TimeSpan.FromMilliseconds((index.TimestampMs[i] - index.TimestampMs[0]) / speed) - wall.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due);
            }
            var answer = await client.PostFrameAsync(bed, values.AsMemory(i * plane, plane), index.Width, index.Height,
                DateTimeOffset.FromUnixTimeMilliseconds(index.TimestampMs[i]), frameId: $"night-{i:D6}");
            frames.Add(new JsonObject { ["timestamp_ms"] = index.TimestampMs[i], ["posture"] = answer.Posture.Label });
            foreach (var e in answer.Events) events.Add(JsonSerializer.SerializeToNode(e, KeypointServiceJson.Options));
            state = answer.State;
            if ((i + 1) % 500 == 0) Console.Error.WriteLine($"replayed {i + 1}/{index.TimestampMs.Length} frames");
        }
        var result = new JsonObject
        {
            ["bed"] = bed, ["url"] = url.ToString(), ["speed"] = speed, ["frames"] = frames, ["events"] = events,
            ["state"] = JsonSerializer.SerializeToNode(state, KeypointServiceJson.Options), ["wall_s"] = wall.Elapsed.TotalSeconds,
        };
        File.WriteAllText(Path.Combine(night, "replay.json"), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"replayed {frames.Count} frames in {wall.Elapsed.TotalSeconds:F1} s; {events.Count} events");
        return 0;
    }
}
