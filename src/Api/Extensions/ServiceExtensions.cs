using System.Text.Json;
using KeypointService.Api.Apis;
using KeypointService.Api.Infrastructure;
using KeypointService.Api.Infrastructure.Metrics;
using KeypointService.Models.Inference.Batching;
using KeypointService.Api.Inputs;
using KeypointService.Models.Inputs;
using KeypointService.Models.Onnx;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

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

        // Checked here, before the host starts, so that a missing ONNX Runtime library, a configuration error or a
        // required provider that cannot load stops start-up with one message (Program.cs prints it).
        var ortOptions = builder.Configuration.GetSection(OnnxRuntimeOptions.Section).Get<OnnxRuntimeOptions>() ?? new();
        var sessionSettings = SessionSettings(ortOptions);
        services.AddSingleton(sessionSettings);
        InputDecoders.VerifyNativeLibraries(); // libpng and TurboJPEG: a missing one stops start-up naming its package
        services.AddSingleton(sp => CreateModelStore(sp, sessionSettings, builder.Environment.ContentRootPath));
        services.AddHostedService<ModelStoreHost>();
        services.AddSingleton(sp => CreateScheduler(sp));
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

    private static ModelStore CreateModelStore(IServiceProvider sp, OnnxSessionSettings settings, string contentRoot)
    {
        var storeOptions = sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value;
        var root = Path.IsPathRooted(storeOptions.Path) ? storeOptions.Path : Path.Combine(contentRoot, storeOptions.Path);
        return new ModelStore(root, storeOptions, settings, sp.GetRequiredService<ILogger<ModelStore>>());
    }

    /// <summary>
    /// Session settings from the OnnxRuntime section, after loading ONNX Runtime and, for cuda, probing the
    /// provider: a required provider that cannot load refuses start-up; otherwise sessions fall back to CPU and
    /// the store logs one warning.
    /// </summary>
    private static OnnxSessionSettings SessionSettings(OnnxRuntimeOptions o)
    {
        var settings = new OnnxSessionSettings
        {
            IntraOpThreads = o.IntraOpThreads,
            InterOpThreads = o.InterOpThreads,
            CpuMemArena = o.CpuMemArena,
            Optimization = Choice("GraphOptimization", o.GraphOptimization, new Dictionary<string, GraphOptimizationLevel>
            {
                ["disabled"] = GraphOptimizationLevel.ORT_DISABLE_ALL,
                ["basic"] = GraphOptimizationLevel.ORT_ENABLE_BASIC,
                ["extended"] = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                ["all"] = GraphOptimizationLevel.ORT_ENABLE_ALL,
            }),
            Provider = Choice("ExecutionProvider", o.ExecutionProvider, new Dictionary<string, OnnxExecutionProvider>
            {
                ["cpu"] = OnnxExecutionProvider.Cpu,
                ["cuda"] = OnnxExecutionProvider.Cuda,
            }),
            CudaDeviceId = o.CudaDeviceId,
            ProviderRequired = o.ProviderRequired,
            GpuMemLimitBytes = o.GpuMemLimitBytes,
            ArenaExtendStrategy = Choice("ArenaExtendStrategy", o.ArenaExtendStrategy, new Dictionary<string, string>
            {
                ["next_power_of_two"] = "kNextPowerOfTwo",
                ["same_as_requested"] = "kSameAsRequested",
            }),
            CudnnConvAlgoSearch = Choice("CudnnConvAlgoSearch", o.CudnnConvAlgoSearch, new Dictionary<string, string>
            {
                ["exhaustive"] = "EXHAUSTIVE",
                ["heuristic"] = "HEURISTIC",
                ["default"] = "DEFAULT",
            }),
        };
        try
        {
            settings.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidOperationException($"OnnxRuntime:{e.ParamName} is out of range: {e.ActualValue}");
        }
        OnnxRuntimeEnvironment.EnsureLoaded();
        if (OnnxProviders.Probe(settings) is { } reason && settings.ProviderRequired)
            throw new OnnxProviderUnavailableException(
                $"OnnxRuntime:ExecutionProvider is 'cuda' with ProviderRequired=true, but the CUDA execution provider cannot be used: {reason}. " +
                $"{OnnxProviders.Remedy(reason)}, or set OnnxRuntime:ProviderRequired=false to serve on CPU.");
        return settings;
    }

    // One dynamic batcher per model, its policy from Inference:Batching; queue waits go to /metrics.
    private static InferenceScheduler CreateScheduler(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<InferenceOptions>>().Value;
        var metrics = sp.GetService<ServiceMetrics>();
        return new InferenceScheduler(options.PolicyFor, metrics is null ? null : (_, dispatch) =>
        {
            foreach (var wait in dispatch.Waits) metrics.QueueWait.Observe(wait.TotalSeconds);
        });
    }

    private static T Choice<T>(string key, string value, Dictionary<string, T> choices) =>
        choices.TryGetValue((value ?? "").Trim().ToLowerInvariant(), out var choice)
            ? choice
            : throw new InvalidOperationException($"OnnxRuntime:{key} must be {string.Join(", ", choices.Keys)}; got '{value}'");

    /// <summary>Loads the store before the server starts listening, and releases it at shutdown.</summary>
    // Starts the store, and follows ModelStore:Pinned when the configuration is reloaded (appsettings.json edited).
    private sealed class ModelStoreHost(ModelStore store, IOptionsMonitor<ModelStoreOptions> options, ILogger<ModelStoreHost> logger) : IHostedService
    {
        private IDisposable? _pinWatch;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            store.Start();
            _pinWatch = options.OnChange(o =>
            {
                try { store.Repin(o.Pinned); }
                catch (Exception e) { logger.LogError(e, "Applying a changed ModelStore:Pinned failed"); }
            });
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            _pinWatch?.Dispose();
            store.Dispose();
            return Task.CompletedTask;
        }
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
