using System.Net;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using KeypointService.Api.Apis.Oip;

namespace KeypointService.Api.Tests;

/// <summary>
/// Overload over the Open Inference Protocol: a refused /v2 request says when to come back, as /v1 does
/// (REST: 503 with Retry-After; gRPC: UNAVAILABLE with the grpc-retry-pushback-ms trailer that gRPC's
/// retry policy reads), and the requests that were taken all succeed.
/// </summary>
public sealed class OipOverloadTests : IDisposable
{
    // One worker and room for one waiting request: of 40 simultaneous 256x256 requests some must be refused.
    private readonly ApiFactory _factory = new(["heatmap", "regression"], new Dictionary<string, string?>
    {
        ["Inference:MaxQueueLength"] = "1", ["Inference:Batching:MaxBatchSize"] = "1",
    });

    public void Dispose() => _factory.Dispose();

    private const int Side = 256;

    [Fact]
    public async Task Rest_overload_is_503_with_retry_after()
    {
        var client = _factory.CreateClient();
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image", ["shape"] = new JsonArray(Side, Side), ["datatype"] = "FP32",
                ["data"] = OipTestClient.Numbers(TestInputs.Map(Side, Side)),
            }),
        }.ToJsonString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.PostAsync("/v2/models/heatmap/infer", TestInputs.Json(body))));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(refused);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        foreach (var response in refused)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            await OipTestClient.AssertError(response, HttpStatusCode.ServiceUnavailable, "queue of model 'heatmap' is full");
        }
    }

    [Fact]
    public async Task Grpc_overload_is_unavailable_with_a_retry_pushback()
    {
        using var channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var pixels = ByteString.CopyFrom(TestInputs.Float32(TestInputs.Map(Side, Side)));
        ModelInferRequest Request() => new()
        {
            ModelName = "heatmap",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "image", Datatype = "FP32", Shape = { Side, Side } } },
            RawInputContents = { pixels },
        };
        var calls = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            try { await client.ModelInferAsync(Request()); return null; }
            catch (RpcException e) { return e; }
        }));
        var refused = calls.OfType<RpcException>().ToList();
        Assert.NotEmpty(refused);
        Assert.Contains(calls, c => c is null);
        foreach (var e in refused)
        {
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            Assert.Contains("queue of model 'heatmap' is full", e.Status.Detail);
            Assert.Equal("1000", e.Trailers.GetValue(OipGrpcService.PushbackTrailer));
        }
    }
}
