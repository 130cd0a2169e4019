using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using Inference;

namespace KeypointService.Bench;

/// <summary>
/// A closed-loop gRPC load for the OIP ModelInfer call (nothing like wrk exists here for gRPC): N callers
/// on one HTTP/2 channel, each sending the model's benchmark input as raw FP32 contents back to back for
/// a fixed time. Prints one line in wrk's units: p50, p99, requests per second.
/// </summary>
internal static class GrpcLoad
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var model = args.Get("model", "heatmap");
        var concurrency = args.Get("concurrency", 1);
        var seconds = args.Get("seconds", 5.0);
        var input = BenchmarkInputs.Load(args.Get("store", "models")).First(i => i.Model == model);
        var raw = new byte[input.Raw.Length * 4];
        Buffer.BlockCopy(input.Raw, 0, raw, 0, raw.Length);
        var request = new ModelInferRequest
        {
            ModelName = model,
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = input.Manifest.Input.Name, Datatype = "FP32", Shape = { input.Height, input.Width } } },
            Outputs = { new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "keypoints" } },
            RawInputContents = { ByteString.CopyFrom(raw) },
        };
        using var channel = GrpcChannel.ForAddress(args.Get("url", "http://127.0.0.1:8081"));
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        for (var i = 0; i < 20; i++) await client.ModelInferAsync(request); // warm-up

        var latencies = new List<double>[concurrency];
        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async c =>
        {
            var own = latencies[c] = [];
            while (Stopwatch.GetTimestamp() < end)
            {
                var start = Stopwatch.GetTimestamp();
                await client.ModelInferAsync(request);
                own.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        Console.WriteLine(FormattableString.Invariant(
            $"{all[all.Length / 2]:F3}ms\t{all[Math.Min(all.Length - 1, all.Length * 99 / 100)]:F3}ms\t{all.Length / elapsed:F2}"));
        return 0;
    }
}
