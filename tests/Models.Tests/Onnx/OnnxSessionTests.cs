using KeypointService.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace KeypointService.Models.Tests.Onnx;

[Collection(OnnxCollection.Name)]
public class OnnxSessionTests(OnnxTestEnvironment env)
{
    private static readonly OnnxSessionSettings Cpu = new() { IntraOpThreads = 1 };

    [Fact]
    public void Reports_inputs_and_outputs_with_dynamic_dimensions_as_minus_one()
    {
        using var session = OnnxSession.Create(env.AffineRelu, Cpu);
        var input = Assert.Single(session.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal("Float", input.ElementType);
        Assert.Equal(["N", "", "", ""], input.SymbolicShape);
        Assert.Equal([-1L, 1, 4, 4], input.Shape);
        Assert.Equal(["output", "mean"], session.Outputs.Select(o => o.Name));
        Assert.Equal([-1L, 1, 4, 4], session.Outputs[0].Shape);
        Assert.Equal([-1L, 1, 1, 1], session.Outputs[1].Shape);
    }

    [Fact]
    public void Reports_non_float_outputs_with_their_type()
    {
        using var session = OnnxSession.Create(env.ShapeOf, Cpu);
        Assert.Equal("x: Float[-1,3]", session.Inputs[0].ToString());
        Assert.Equal("Int64", session.Outputs[1].ElementType);
        Assert.Equal([2L], session.Outputs[1].Shape);
    }

    [Fact]
    public void Reports_the_absolute_model_path()
    {
        using var session = OnnxSession.Create(Path.GetRelativePath(Environment.CurrentDirectory, env.AffineRelu), Cpu);
        Assert.Equal(env.AffineRelu, session.ModelPath);
    }

    [Fact]
    public void Reports_several_inputs_in_graph_order()
    {
        using var session = OnnxSession.Create(env.TwoInputs, Cpu);
        Assert.Equal(["a", "b"], session.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Cpu_sessions_report_the_cpu_provider_and_no_fallback()
    {
        using var session = OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings());
        Assert.Equal("CPUExecutionProvider", session.ExecutionProvider);
        Assert.Null(session.ProviderFallbackReason);
    }

    [Fact]
    public void Missing_model_file_throws_ort_exception_with_orts_message()
    {
        var path = env.NewPath("missing.onnx");
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create(path, Cpu));
        Assert.Contains("NoSuchFile", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Corrupt_model_file_throws_ort_exception()
    {
        var path = env.NewPath("corrupt.onnx");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02, 0x03]);
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create(path, Cpu));
        Assert.Contains("InvalidProtobuf", e.Message);
    }

    [Fact]
    public void An_invalid_graph_throws_ort_exception()
    {
        var path = new OnnxModelBuilder()
            .Input("x", [1, 3])
            .Node("NoSuchOperator", ["x"], ["y"])
            .Output("y", [1, 3])
            .WriteTo(env.NewPath("bad-op.onnx"));
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Create(path, Cpu));
        Assert.Contains("NoSuchOperator", e.Message);
    }

    [Theory]
    [InlineData(GraphOptimizationLevel.ORT_DISABLE_ALL, 0, 0)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_BASIC, 1, 1)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_EXTENDED, 2, 0)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_ALL, 0, 2)]
    public void Every_optimisation_level_and_thread_setting_gives_the_same_result(GraphOptimizationLevel level, int intra, int inter)
    {
        using var session = OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { Optimization = level, IntraOpThreads = intra, InterOpThreads = inter });
        var input = OnnxTestModels.RandomData(new Random(3), 16);
        var output = session.Run([new OnnxTensor("input", [1, 1, 4, 4], input)], ["output"])[0];
        Assert.Equal(OnnxTestModels.AffineReluExpected(input, 1).Output, output.Data);
    }

    [Fact]
    public void Invalid_settings_are_rejected_before_onnx_runtime_sees_them()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { IntraOpThreads = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { Optimization = (GraphOptimizationLevel)42 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { Provider = OnnxExecutionProvider.Cuda, CudaDeviceId = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { ArenaExtendStrategy = "kBig" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { CudnnConvAlgoSearch = "fast" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { GpuMemLimitBytes = -1 }));
    }

    [Fact]
    public void Dispose_is_idempotent_and_later_runs_throw_object_disposed()
    {
        var session = OnnxSession.Create(env.AffineRelu, Cpu);
        session.Dispose();
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Run([new OnnxTensor("input", [1, 1, 4, 4], new float[16])], ["output"]));
        Assert.Equal("input", session.Inputs[0].Name); // metadata stays readable
    }
}
