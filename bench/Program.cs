using KeypointService.Bench;
using KeypointService.Models.Manifests;

// Benchmarks for docs/benchmarks.md; bench/run.sh drives this tool and wrk together.
//   raw    --store DIR [--iterations N] [--seconds S]   raw ONNX Runtime inference through the wrapper, per model
//   inputs --store DIR --out DIR                          write each model's benchmark input (float32 + size) for the HTTP load
//   decode [--iterations N] [--jpeg a.jpg,b.jpg]          decode time of each body format at 256 x 256, and PNG map encoding
//   beds   --store DIR [--url U] [--beds 50,100,200,400] [--seconds S]   beds at 1 frame/s each through the typed client
//   night-replay --night DIR [--url U] [--bed B] [--speed S]   a simulated night into /v1/beds through the typed client
//   grpc   --store DIR --model M [--url U] [--concurrency N] [--seconds S]   closed-loop OIP gRPC load (wrk's units)
//   topology [--url U] [--seconds S] [--stop-file F] [--beds B] [--frame-hz F] [--concurrency N]   predicts and bed frames through deploy/local-topology.sh's balancer
//   session-churn [--model-file F] [--iterations N] [--runs R] [--trim 0|1] [--every K]   create, run, dispose one model's session N times; RSS as CSV
//   soak   --out DIR [--url U] [--minutes M] [--rate R] [--window-seconds W] [--warmup-minutes M]   steady mixed load, memory and latency over time (bench/soak.sh)
try
{
    return args.FirstOrDefault() switch
    {
        "raw" => RawInferenceBenchmark.Run(Arguments.Parse(args[1..])),
        "inputs" => BenchmarkInputs.Write(Arguments.Parse(args[1..])),
        "decode" => DecoderBenchmark.Run(Arguments.Parse(args[1..])),
        "grpc" => GrpcLoad.RunAsync(Arguments.Parse(args[1..])).GetAwaiter().GetResult(),
        "beds" => BedLoad.RunAsync(Arguments.Parse(args[1..])).GetAwaiter().GetResult(),
        "night-replay" => NightReplay.RunAsync(Arguments.Parse(args[1..])).GetAwaiter().GetResult(),
        "topology" => TopologyLoad.RunAsync(Arguments.Parse(args[1..])).GetAwaiter().GetResult(),
        "session-churn" => SessionChurn.Run(Arguments.Parse(args[1..])),
        "soak" => Soak.RunAsync(Arguments.Parse(args[1..])).GetAwaiter().GetResult(),
        _ => Usage(),
    };
}
catch (Exception e) when (e is ManifestException or IOException or ArgumentException or FormatException or Grpc.Core.RpcException or HttpRequestException or System.Text.Json.JsonException)
{
    // a bad store or bad arguments: a plain message, not a stack trace
    Console.Error.WriteLine($"KeypointService.Bench: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: KeypointService.Bench raw --store DIR [--iterations N] [--seconds S] | inputs --store DIR --out DIR | decode [--iterations N] [--jpeg FILES] | grpc --store DIR --model M [--url U] [--concurrency N] [--seconds S] | beds --store DIR [--url U] [--beds LIST] [--seconds S] | night-replay --night DIR [--url U] [--bed B] [--speed S] | topology [--url U] [--seconds S] [--stop-file F] [--beds B] [--frame-hz F] [--concurrency N] | session-churn [--model-file F] [--iterations N] [--runs R] [--trim 0|1] [--every K] | soak --out DIR [--url U] [--minutes M] [--rate R] [--window-seconds W] [--warmup-minutes M]");
    return 2;
}
