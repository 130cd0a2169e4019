using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;

namespace KeypointService.Api.Tests;

/// <summary>
/// The protocol's gRPC service through Grpc.Net.Client against the in-process server (TestServer
/// speaks HTTP/2 to its own handler): same models and results as REST, errors as gRPC status codes.
/// </summary>
public sealed class OipGrpcTests : IClassFixture<ApiFactory>, IDisposable
{
    private readonly ApiFactory _factory;
    private readonly GrpcChannel _channel;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client;

    public OipGrpcTests(ApiFactory factory)
    {
        _factory = factory;
        _channel = GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });
        _client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
    }

    public void Dispose() => _channel.Dispose();

    private static ModelInferRequest.Types.InferInputTensor Image(int width, int height, string datatype = "FP32") =>
        new() { Name = "image", Datatype = datatype, Shape = { height, width } };

    [Fact]
    public async Task Health_and_metadata()
    {
        Assert.True((await _client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await _client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.True((await _client.ModelReadyAsync(new ModelReadyRequest { Name = "heatmap", Version = "1" })).Ready);
        Assert.False((await _client.ModelReadyAsync(new ModelReadyRequest { Name = "heatmap", Version = "2" })).Ready);
        var server = await _client.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal("KeypointService", server.Name);
        Assert.Contains("binary_tensor_data", server.Extensions);

        var metadata = await _client.ModelMetadataAsync(new ModelMetadataRequest { Name = "regression" });
        Assert.Equal("regression", metadata.Name);
        Assert.Equal("onnxruntime_onnx", metadata.Platform);
        Assert.Equal([-1L, 1, -1, -1], metadata.Inputs.Single().Shape);
        var keypoints = metadata.Outputs.Single(o => o.Name == "keypoints");
        Assert.Equal("FP32", keypoints.Datatype);
        Assert.Equal([-1L, 5, 2], keypoints.Shape);
        Assert.Contains("output.keypoints", metadata.Properties.Keys);
    }

    [Fact]
    public async Task Typed_contents_and_raw_contents_give_the_rest_results()
    {
        const int w = 50, h = 40;
        var map = TestInputs.Map(w, h);

        var typed = Image(w, h, "UINT8");
        typed.Contents = new InferTensorContents { UintContents = { map.Select(v => (uint)v) } };
        var request = new ModelInferRequest { ModelName = "heatmap", Id = "grpc-1", Inputs = { typed }, Outputs = { new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "keypoints" } } };
        var response = await _client.ModelInferAsync(request);
        Assert.Equal("grpc-1", response.Id);
        Assert.Equal("heatmap", response.ModelName);
        Assert.Equal("1", response.ModelVersion);
        var output = response.Outputs.Single();
        Assert.Equal("keypoints", output.Name);
        Assert.Equal([1L, 5, 3], output.Shape);
        var fromTyped = Floats(response.RawOutputContents.Single());

        var raw = new ModelInferRequest { ModelName = "heatmap", ModelVersion = "1", Inputs = { Image(w, h) }, RawInputContents = { ByteString.CopyFrom(TestInputs.Float32(map)) } };
        var rawResponse = await _client.ModelInferAsync(raw);
        Assert.Equal(rawResponse.Outputs.Count, rawResponse.RawOutputContents.Count);
        Assert.Equal(["keypoints", "heatmaps"], rawResponse.Outputs.Select(o => o.Name));
        Assert.Equal(fromTyped, Floats(rawResponse.RawOutputContents[0]));

        var rest = await _factory.CreateClient().PostAsJsonAsync("/v2/models/heatmap/infer", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(h, w), ["datatype"] = "FP32", ["data"] = OipTestClient.Numbers(map) }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }),
        });
        var restKeypoints = OipTestClient.Floats((await OipTestClient.OkJson(rest))["outputs"]![0]!);
        Assert.Equal(restKeypoints, fromTyped);
    }

    private static float[] Floats(ByteString bytes) => OipTestClient.Floats(bytes.ToByteArray());

    [Fact]
    public async Task Bad_tensors_are_invalid_argument_and_unknown_models_not_found()
    {
        async Task Expect(StatusCode code, string contains, ModelInferRequest request)
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () => await _client.ModelInferAsync(request));
            Assert.Equal(code, e.StatusCode);
            Assert.Contains(contains, e.Status.Detail);
        }

        var wrongType = Image(2, 2, "BOOL");
        wrongType.Contents = new InferTensorContents { BoolContents = { true, false, true, false } };
        await Expect(StatusCode.InvalidArgument, "datatype BOOL is not accepted", new ModelInferRequest { ModelName = "heatmap", Inputs = { wrongType } });

        var short_ = Image(2, 2);
        short_.Contents = new InferTensorContents { Fp32Contents = { 1, 2, 3 } };
        await Expect(StatusCode.InvalidArgument, "contents hold 3 FP32 values, but the shape needs 4", new ModelInferRequest { ModelName = "heatmap", Inputs = { short_ } });

        await Expect(StatusCode.InvalidArgument, "15 bytes of FP32 data, but the shape needs 4 × 4 = 16",
            new ModelInferRequest { ModelName = "heatmap", Inputs = { Image(2, 2) }, RawInputContents = { ByteString.CopyFrom(new byte[15]) } });

        await Expect(StatusCode.InvalidArgument, "unknown output 'output0'", new ModelInferRequest
        {
            ModelName = "heatmap", Inputs = { Image(2, 2) }, RawInputContents = { ByteString.CopyFrom(new byte[16]) },
            Outputs = { new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "output0" } },
        });

        await Expect(StatusCode.NotFound, "unknown model 'nosuch'", new ModelInferRequest { ModelName = "nosuch" });
        await Expect(StatusCode.NotFound, "version '9' is not served", new ModelInferRequest { ModelName = "heatmap", ModelVersion = "9" });
        var e = await Assert.ThrowsAsync<RpcException>(async () => await _client.ModelMetadataAsync(new ModelMetadataRequest { Name = "nosuch" }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }
}
