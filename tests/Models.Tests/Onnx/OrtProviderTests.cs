using KeypointService.Models.Onnx;

namespace KeypointService.Models.Tests.Onnx;

/// <summary>
/// CUDA requested from the library under test. With the CPU package (the only build here) CUDA cannot
/// work, so the session must fall back to CPU with ORT's reason, or fail when the provider is required.
/// With a CUDA build on a GPU machine the same tests check the CUDA session instead.
/// </summary>
[Collection(OrtCollection.Name)]
public class OrtProviderTests(OrtTestEnvironment env)
{
    [Fact]
    public void Cuda_falls_back_to_cpu_with_orts_reason_when_not_required()
    {
        using var session = env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda, CudaDeviceId = 0 });
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
        var input = OrtTestModels.RandomData(new Random(5), 32);
        var output = session.Run([new OrtTensor("input", [2, 1, 4, 4], input)], ["output"])[0];
        Assert.Equal(OrtTestModels.AffineReluExpected(input, 2).Output, output.Data);
    }

    [Fact]
    public void Cuda_required_but_unavailable_throws_ort_exception()
    {
        var settings = new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda, CudaDeviceId = 0, ProviderRequired = true };
        if (!env.CudaCannotWork)
        {
            using var session = env.Runtime.CreateSession(env.AffineRelu, settings);
            Assert.Equal("CUDAExecutionProvider", session.ExecutionProvider);
            return;
        }
        var e = Assert.Throws<OrtException>(() => env.Runtime.CreateSession(env.AffineRelu, settings));
        Assert.NotEqual(OrtErrorCode.Ok, e.Code);
        Assert.StartsWith("The CUDA execution provider (device 0) is required but unavailable in ONNX Runtime: ", e.Message);
        Assert.False(string.IsNullOrWhiteSpace(e.OrtMessage));
        Assert.EndsWith(e.OrtMessage.TrimEnd(), e.Message);
    }

    [Fact]
    public void The_fallback_reason_matches_the_required_failure()
    {
        if (!env.CudaCannotWork) return;
        using var fallback = env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda, CudaDeviceId = 1 });
        var e = Assert.Throws<OrtException>(() => env.Runtime.CreateSession(env.AffineRelu,
            new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda, CudaDeviceId = 1, ProviderRequired = true }));
        Assert.Equal(e.OrtMessage.TrimEnd(), fallback.ProviderFallbackReason);
    }

    [Fact]
    public void Probe_tells_whether_cuda_can_be_added_even_though_the_cpu_package_lists_it()
    {
        Assert.Null(env.Runtime.ProbeProvider(OrtExecutionProvider.Cpu));
        var reason = env.Runtime.ProbeProvider(OrtExecutionProvider.Cuda);
        if (!env.CudaCannotWork) return;
        Assert.Contains("CUDAExecutionProvider", env.Runtime.AvailableProviders); // listed, yet unusable
        Assert.False(string.IsNullOrWhiteSpace(reason));
        using var fallback = env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda });
        Assert.Equal(fallback.ProviderFallbackReason, reason);
    }

    [Fact]
    public void A_model_error_is_not_hidden_by_the_cuda_fallback()
    {
        var path = env.NewPath("missing.onnx");
        var e = Assert.Throws<OrtException>(() => env.Runtime.CreateSession(path, new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda }));
        Assert.Equal(OrtErrorCode.NoSuchFile, e.Code);
    }
}
