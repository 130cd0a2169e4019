using KeypointService.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace KeypointService.Models.Tests.Onnx;

/// <summary>
/// CUDA requested from the package under test. With the CPU package (what test.sh builds here) CUDA cannot
/// work, so a session must fall back to CPU with the reason, or fail when the provider is required. With the
/// GPU package on a GPU machine the same tests check the CUDA session instead. The GPU package on a machine
/// without CUDA is tested end to end by tests/gpu-build/test.sh.
/// </summary>
[Collection(OnnxCollection.Name)]
public class OnnxProviderTests(OnnxTestEnvironment env)
{
    [Fact]
    public void Cuda_falls_back_to_cpu_with_the_reason_when_not_required()
    {
        using var session = OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { Provider = OnnxExecutionProvider.Cuda, CudaDeviceId = 0 });
        if (env.CudaCannotWork)
        {
            Assert.Equal("CPUExecutionProvider", session.ExecutionProvider);
            Assert.False(string.IsNullOrWhiteSpace(session.ProviderFallbackReason));
        }
        else
        {
            Assert.Equal("CUDAExecutionProvider", session.ExecutionProvider);
            Assert.Null(session.ProviderFallbackReason);
        }
        var input = OnnxTestModels.RandomData(new Random(5), 32);
        var output = session.Run([new OnnxTensor("input", [2, 1, 4, 4], input)], ["output"])[0];
        Assert.Equal(OnnxTestModels.AffineReluExpected(input, 2).Output, output.Data);
    }

    [Fact]
    public void Cuda_required_but_unavailable_throws_a_provider_exception()
    {
        var settings = new OnnxSessionSettings { Provider = OnnxExecutionProvider.Cuda, CudaDeviceId = 0, ProviderRequired = true };
        if (!env.CudaCannotWork)
        {
            using var session = OnnxSession.Create(env.AffineRelu, settings);
            Assert.Equal("CUDAExecutionProvider", session.ExecutionProvider);
            return;
        }
        var e = Assert.Throws<OnnxProviderUnavailableException>(() => OnnxSession.Create(env.AffineRelu, settings));
        Assert.StartsWith("the CUDA execution provider (device 0) is required but cannot be used: ", e.Message);
        Assert.IsAssignableFrom<InvalidOperationException>(e); // what Program.cs prints as one line
    }

    [Fact]
    public void The_fallback_reason_is_the_probe_result_and_the_required_failure()
    {
        if (!env.CudaCannotWork) return;
        var settings = new OnnxSessionSettings { Provider = OnnxExecutionProvider.Cuda, CudaDeviceId = 1 };
        using var fallback = OnnxSession.Create(env.AffineRelu, settings);
        var reason = OnnxProviders.Probe(settings);
        Assert.Equal(reason, fallback.ProviderFallbackReason);
        var e = Assert.Throws<OnnxProviderUnavailableException>(() => OnnxSession.Create(env.AffineRelu, settings with { ProviderRequired = true }));
        Assert.EndsWith(reason!, e.Message);
    }

    [Fact]
    public void Probe_accepts_cpu_and_names_why_cuda_cannot_be_added()
    {
        Assert.Null(OnnxProviders.Probe(new OnnxSessionSettings()));
        var reason = OnnxProviders.Probe(new OnnxSessionSettings { Provider = OnnxExecutionProvider.Cuda });
        if (!env.CudaCannotWork) { Assert.Null(reason); return; }
        Assert.False(string.IsNullOrWhiteSpace(reason));
        if (!File.Exists(Path.Combine(AppContext.BaseDirectory, "libonnxruntime_providers_cuda.so")))
            Assert.Equal(OnnxProviders.CpuPackageReason, reason); // the CPU package: say how to get the GPU one
    }

    [Fact]
    public void A_model_error_is_not_hidden_by_the_cuda_fallback()
    {
        var path = env.NewPath("missing.onnx");
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create(path, new OnnxSessionSettings { Provider = OnnxExecutionProvider.Cuda }));
        Assert.Contains("NoSuchFile", e.Message);
    }
}

/// <summary>How ORT's provider failures read once shortened; the messages are ORT 1.31's own (GPU package, no CUDA 13).</summary>
public class OnnxProviderMessageTests
{
    private const string MissingCublas =
        "[ErrorCode:Fail] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() " +
        "[ONNXRuntimeError] : 1 : FAIL : Failed to load library /app/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory\n";

    [Fact]
    public void A_missing_cuda_library_is_named()
    {
        var reason = OnnxProviders.Explain(MissingCublas);
        Assert.Equal("libcublasLt.so.13: cannot open shared object file: No such file or directory", reason);
        Assert.Equal("libcublasLt.so.13", OnnxProviders.MissingLibrary(reason));
        Assert.StartsWith("Install CUDA 13 and cuDNN 9", OnnxProviders.Remedy(reason));
    }

    [Fact]
    public void A_missing_provider_library_says_to_build_with_the_gpu_package()
    {
        var reason = OnnxProviders.Explain(
            "[ErrorCode:Fail] Failed to load library libonnxruntime_providers_cuda.so with error: libonnxruntime_providers_cuda.so: cannot open shared object file: No such file or directory");
        Assert.Equal("libonnxruntime_providers_cuda.so", OnnxProviders.MissingLibrary(reason));
        Assert.EndsWith(OnnxProviders.CpuPackageReason, reason);
        Assert.StartsWith("Build with -p:OnnxRuntimePackage=gpu", OnnxProviders.Remedy(reason));
    }

    [Fact]
    public void The_cpu_packages_answer_says_how_to_get_the_gpu_build()
    {
        var reason = OnnxProviders.Explain("[ErrorCode:Fail] CUDA execution provider is not enabled in this build.");
        Assert.Equal(OnnxProviders.CpuPackageReason, reason);
        Assert.Null(OnnxProviders.MissingLibrary(reason));
    }

    [Fact]
    public void Other_messages_are_kept_whole()
    {
        Assert.Equal("[ErrorCode:Fail] CUDA failure 100: no CUDA-capable device is detected", OnnxProviders.Explain(" [ErrorCode:Fail] CUDA failure 100: no CUDA-capable device is detected \n"));
        Assert.Null(OnnxProviders.MissingLibrary("CUDA failure 100: no CUDA-capable device is detected"));
    }
}
