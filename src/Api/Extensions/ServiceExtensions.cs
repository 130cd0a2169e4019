using System.Text.Json;
using KeypointService.Api.Apis;
using KeypointService.Api.Infrastructure;
using KeypointService.Api.Inputs;
using KeypointService.Models.Inputs;
using KeypointService.Models.Onnx;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Extensions;

public static class ServiceExtensions
{
    /// <summary>Options, the ONNX Runtime, the model store and the request pipeline's services.</summary>
    public static void AddKeypointServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ModelStoreOptions>().BindConfiguration(ModelStoreOptions.Section);
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section);
        services.AddOptions<RequestOptions>().BindConfiguration(RequestOptions.Section);

        // Loaded eagerly so that a missing native library stops start-up with one clear message.
        // Both checked here, before the host starts, so that configuration errors stop start-up with one message.
        var ortOptions = builder.Configuration.GetSection(OnnxRuntimeOptions.Section).Get<OnnxRuntimeOptions>() ?? new();
        var runtime = OrtRuntime.Load(ortOptions.LibraryPath);
        var sessionSettings = SessionSettings(ortOptions, runtime);
        services.AddSingleton(runtime);
        InputDecoders.VerifyNativeLibraries(); // libpng and TurboJPEG: a missing one stops start-up naming its package
        services.AddSingleton(sp => CreateModelStore(sp, sessionSettings, builder.Environment.ContentRootPath));
        services.AddHostedService<ModelStoreHost>();
        services.AddSingleton<InferenceGate>();
        services.AddSingleton<RequestBodyReader>();
        services.AddSingleton<PredictApi.PredictServices>();

        var maxBody = builder.Configuration.GetSection(RequestOptions.Section).Get<RequestOptions>()?.MaxBodyBytes ?? new RequestOptions().MaxBodyBytes;
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = maxBody);

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => Problems.Complete(c.ProblemDetails, c.HttpContext));
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddKeypointOpenApi();
    }

    private static ModelStore CreateModelStore(IServiceProvider sp, OrtSessionSettings settings, string contentRoot)
    {
        var storeOptions = sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value;
        var runtime = sp.GetRequiredService<OrtRuntime>();
        var root = Path.IsPathRooted(storeOptions.Path) ? storeOptions.Path : Path.Combine(contentRoot, storeOptions.Path);
        return new ModelStore(root, storeOptions, runtime, settings, sp.GetRequiredService<ILogger<ModelStore>>());
    }

    private static OrtSessionSettings SessionSettings(OnnxRuntimeOptions o, OrtRuntime runtime)
    {
        var provider = o.ExecutionProvider.ToLowerInvariant() switch
        {
            "cpu" => OrtExecutionProvider.Cpu,
            "cuda" => OrtExecutionProvider.Cuda,
            _ => throw new InvalidOperationException($"OnnxRuntime:ExecutionProvider must be 'cpu' or 'cuda', got '{o.ExecutionProvider}'"),
        };
        if (provider == OrtExecutionProvider.Cuda && runtime.ProbeProvider(provider, o.CudaDeviceId) is { } reason)
        {
            if (o.ProviderRequired)
                throw new InvalidOperationException(
                    $"OnnxRuntime:ExecutionProvider is 'cuda' with ProviderRequired=true, but the ONNX Runtime at {runtime.LibraryPath} cannot use it: {reason}. " +
                    "Point OnnxRuntime:LibraryPath at a GPU build of ONNX Runtime 1.30+ or set ProviderRequired=false to fall back to CPU");
            // Otherwise each session falls back to CPU and the store logs the reason per model.
        }
        var optimization = o.GraphOptimization.ToLowerInvariant() switch
        {
            "disabled" => OrtGraphOptimization.Disabled,
            "basic" => OrtGraphOptimization.Basic,
            "extended" => OrtGraphOptimization.Extended,
            "all" => OrtGraphOptimization.All,
            _ => throw new InvalidOperationException($"OnnxRuntime:GraphOptimization must be disabled, basic, extended or all, got '{o.GraphOptimization}'"),
        };
        return new OrtSessionSettings
        {
            IntraOpThreads = o.IntraOpThreads,
            InterOpThreads = o.InterOpThreads,
            Optimization = optimization,
            Provider = provider,
            CudaDeviceId = o.CudaDeviceId,
            ProviderRequired = o.ProviderRequired,
        };
    }

    /// <summary>Loads the store before the server starts listening, and releases it at shutdown.</summary>
    private sealed class ModelStoreHost(ModelStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) { store.Start(); return Task.CompletedTask; }
        public Task StopAsync(CancellationToken cancellationToken) { store.Dispose(); return Task.CompletedTask; }
    }

    public static WebApplication UseKeypointPipeline(this WebApplication app)
    {
        app.UseKeypointRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages(); // problem details for bodiless 4xx/5xx (routing 404, 405), in the same style
        app.UseKeypointOpenApi();
        return app;
    }
}
