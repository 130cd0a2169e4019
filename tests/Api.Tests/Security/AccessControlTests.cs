using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;

namespace KeypointService.Api.Tests.Security;

/// <summary>Security on: 401 without or with a wrong key, 403 with the wrong scope, 429 over the limit; probes stay open.</summary>
public sealed class AccessControlTests : IClassFixture<SecureHostFixture>
{
    private readonly SecureHost _host;

    public AccessControlTests(SecureHostFixture fixture) => _host = fixture.Host;

    private static StringContent Input() => TestInputs.Json(TestInputs.DataJson(32, 24));

    [Fact]
    public async Task No_key_is_401_with_a_challenge_and_a_problem_document()
    {
        var response = await _host.Client().PostAsync("/v1/models/heatmap/predict", Input());
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer realm=\"KeypointService\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("'predict' scope", problem["detail"]!.GetValue<string>());
        Assert.Contains("X-API-Key", problem["detail"]!.GetValue<string>());
        Assert.Equal("/v1/models/heatmap/predict", problem["instance"]!.GetValue<string>());

        await ProblemAssert.IsProblem(await _host.Client().GetAsync("/v1/beds"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblem(await _host.Client().GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblem(await _host.Client().GetAsync("/v2/models/heatmap"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_wrong_key_is_401_invalid_token_in_either_header()
    {
        var client = _host.Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", _host.Keys[SecureHost.Predictor] + "x");
        var response = await client.PostAsync("/v1/models/heatmap/predict", Input());
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.Unauthorized);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.StartsWith("the API key is not recognised", problem["detail"]!.GetValue<string>());

        var bearer = _host.Factory.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", "kps_not-a-key");
        await ProblemAssert.IsProblem(await bearer.GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_right_key_passes_in_x_api_key_and_in_bearer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.Client(SecureHost.Predictor).PostAsync("/v1/models/heatmap/predict", Input())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Client(SecureHost.Predictor, bearer: true).PostAsync("/v1/models/heatmap/predict", Input())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Client(SecureHost.Predictor).GetAsync("/v2/models/heatmap")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Client(SecureHost.Ward, bearer: true).GetAsync("/v1/beds")).StatusCode);
    }

    [Fact]
    public async Task A_key_without_the_scope_is_403()
    {
        var response = await _host.Client(SecureHost.Ward).PostAsync("/v1/models/heatmap/predict", Input());
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden);
        Assert.Equal("API key 'ward' lacks the 'predict' scope that POST /v1/models/heatmap/predict needs", problem["detail"]!.GetValue<string>());

        problem = await ProblemAssert.IsProblem(await _host.Client(SecureHost.Predictor).GetAsync("/v1/beds/b1/events/stream"), HttpStatusCode.Forbidden);
        Assert.Contains("lacks the 'beds' scope", problem["detail"]!.GetValue<string>());
        await ProblemAssert.IsProblem(await _host.Client(SecureHost.Ops).GetAsync("/v1/models"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Over_the_limit_is_429_with_retry_after_and_a_problem_document()
    {
        var client = _host.Client(SecureHost.Limited);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/models/heatmap/predict", Input())).StatusCode);
        var response = await client.PostAsync("/v1/models/heatmap/predict", Input());
        var problem = await ProblemAssert.IsProblem(response, HttpStatusCode.TooManyRequests);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 1000); // the next token comes within the 1000 s period
        Assert.Equal($"API key 'limited' is over its rate limit; retry after {(int)retryAfter.Value.TotalSeconds} s", problem["detail"]!.GetValue<string>());

        // The bucket is the key's: another key is not affected, and the probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await _host.Client(SecureHost.Predictor).PostAsync("/v1/models/heatmap/predict", Input())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Probes_landing_page_swagger_and_metrics_stay_open()
    {
        var client = _host.Client();
        foreach (var path in new[] { "/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready", "/", "/landing.js", "/swagger/v1/swagger.json", "/metrics" })
            Assert.True(HttpStatusCode.OK == (await client.GetAsync(path)).StatusCode, path);
    }

    [Fact]
    public async Task Grpc_inference_without_a_key_is_unauthenticated_and_with_one_it_runs()
    {
        using var channel = GrpcChannel.ForAddress(_host.Factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _host.Factory.Server.CreateHandler() });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = new ModelInferRequest { ModelName = "heatmap", Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "image", Datatype = "FP32", Shape = { 4, 4 } } } };
        request.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { new float[16] } };

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await grpc.ModelInferAsync(request));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        var wrongScope = await Assert.ThrowsAsync<RpcException>(async () =>
            await grpc.ModelInferAsync(request, new Metadata { { "x-api-key", _host.Keys[SecureHost.Ward] } }));
        Assert.Equal(StatusCode.PermissionDenied, wrongScope.StatusCode);

        var response = await grpc.ModelInferAsync(request, new Metadata { { "authorization", $"Bearer {_host.Keys[SecureHost.Predictor]}" } });
        Assert.Equal("heatmap", response.ModelName);
        Assert.True((await grpc.ServerLiveAsync(new ServerLiveRequest())).Live); // probes need no key
        Assert.True((await grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
    }
}

/// <summary>One secured host for the class (xunit fixtures need a parameterless constructor).</summary>
public sealed class SecureHostFixture : IDisposable
{
    public SecureHost Host { get; } = new();
    public void Dispose() => Host.Dispose();
}
