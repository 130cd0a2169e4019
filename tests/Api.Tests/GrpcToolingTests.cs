using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace KeypointService.Api.Tests;

/// <summary>
/// What gRPC tooling expects of the server beside the inference service: server reflection (grpcurl
/// without the .proto) and the standard health service, SERVING exactly when /health/ready is 200.
/// </summary>
public sealed class GrpcToolingTests
{
    private static GrpcChannel Channel(ApiFactory factory) =>
        GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = factory.Server.CreateHandler() });

    [Fact]
    public async Task Reflection_lists_the_inference_and_health_services_and_describes_the_protocol()
    {
        using var factory = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>());
        using var channel = Channel(factory);
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("inference.GRPCInferenceService", services);
        Assert.Contains("grpc.health.v1.Health", services);

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "inference.GRPCInferenceService" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var file = Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto[0]);
        Assert.Contains(file.Service.Single().Method, m => m.Name == "ModelInfer");
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task Health_is_serving_when_every_expected_model_is_loaded_and_not_serving_otherwise()
    {
        using (var ready = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>()))
        using (var channel = Channel(ready))
        {
            var readiness = await ready.CreateClient().GetAsync("/health/ready");
            Assert.Equal(System.Net.HttpStatusCode.OK, readiness.StatusCode);
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        using var missing = new ApiFactory(["heatmap"], new Dictionary<string, string?> { ["ModelStore:Optional:0"] = "nothing-optional" });
        using var notReady = Channel(missing);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await missing.CreateClient().GetAsync("/health/ready")).StatusCode);
        var down = await new Health.HealthClient(notReady).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, down.Status);
    }
}
