using KeypointService.Models.Onnx;

namespace KeypointService.Models.Tests.Onnx;

[Collection(OrtCollection.Name)]
public class OrtSessionTests(OrtTestEnvironment env)
{
    private static readonly OrtSessionSettings Cpu = new() { IntraOpThreads = 1 };

    [Fact]
    public void Reports_inputs_and_outputs_with_dynamic_dimensions_as_minus_one()
    {
        using var session = env.Runtime.CreateSession(env.AffineRelu, Cpu);
        var input = Assert.Single(session.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(OrtElementType.Float, input.ElementType);
        Assert.Equal([-1L, 1, 4, 4], input.Shape);
        Assert.Equal(["output", "mean"], session.Outputs.Select(o => o.Name));
        Assert.Equal([-1L, 1, 4, 4], session.Outputs[0].Shape);
        Assert.Equal([-1L, 1, 1, 1], session.Outputs[1].Shape);
    }

    [Fact]
    public void Reports_non_float_outputs_with_their_type()
    {
        using var session = env.Runtime.CreateSession(env.ShapeOf, Cpu);
        Assert.Equal(new OrtNodeInfo("x", OrtElementType.Float, [-1, 3]).ToString(), session.Inputs[0].ToString());
        Assert.Equal(OrtElementType.Int64, session.Outputs[1].ElementType);
        Assert.Equal([2L], session.Outputs[1].Shape);
    }

    [Fact]
    public void Reads_custom_metadata_and_model_fields()
    {
        using var session = env.Runtime.CreateSession(env.AffineRelu, Cpu);
        Assert.Equal(3, session.CustomMetadata.Count);
        Assert.Equal("heatmap", session.CustomMetadata["keypointservice.task"]);
        Assert.Equal("grüße ✓", session.CustomMetadata["note"]);
        Assert.Equal("", session.CustomMetadata["empty"]);
        Assert.Equal("keypointservice-tests", session.ProducerName);
        Assert.Equal("affine_relu", session.GraphName);
        Assert.Equal("ai.keypointservice.tests", session.Domain);
        Assert.Equal("Relu(2x - 1) and its spatial mean", session.Description);
        Assert.Equal(7, session.ModelVersion);
        Assert.Equal(env.AffineRelu, session.ModelPath);
    }

    [Fact]
    public void A_model_without_custom_metadata_has_an_empty_map()
    {
        using var session = env.Runtime.CreateSession(env.TwoInputs, Cpu);
        Assert.Empty(session.CustomMetadata);
        Assert.Equal(["a", "b"], session.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Cpu_sessions_report_the_cpu_provider_and_no_fallback()
    {
        using var session = env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings());
        Assert.Equal("CPUExecutionProvider", session.ExecutionProvider);
        Assert.Null(session.ProviderFallbackReason);
    }

    [Fact]
    public void Missing_model_file_throws_ort_exception_with_orts_message()
    {
        var path = env.NewPath("missing.onnx");
        var e = Assert.Throws<OrtException>(() => env.Runtime.CreateSession(path, Cpu));
        Assert.Equal(OrtErrorCode.NoSuchFile, e.Code);
        Assert.Contains(path, e.OrtMessage);
        Assert.Equal(e.OrtMessage.TrimEnd(), e.Message);
    }

    [Fact]
    public void Corrupt_model_file_throws_ort_exception()
    {
        var path = env.NewPath("corrupt.onnx");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02, 0x03]);
        var e = Assert.Throws<OrtException>(() => env.Runtime.CreateSession(path, Cpu));
        Assert.Equal(OrtErrorCode.InvalidProtobuf, e.Code);
        Assert.False(string.IsNullOrWhiteSpace(e.OrtMessage));
    }

    [Fact]
    public void An_invalid_graph_throws_ort_exception()
    {
        var path = new OnnxModelBuilder()
            .Input("x", [1, 3])
            .Node("NoSuchOperator", ["x"], ["y"])
            .Output("y", [1, 3])
            .WriteTo(env.NewPath("bad-op.onnx"));
        var e = Assert.Throws<OrtException>(() => env.Runtime.CreateSession(path, Cpu));
        Assert.Contains("NoSuchOperator", e.Message);
    }

    [Theory]
    [InlineData(OrtGraphOptimization.Disabled, 0, 0)]
    [InlineData(OrtGraphOptimization.Basic, 1, 1)]
    [InlineData(OrtGraphOptimization.Extended, 2, 0)]
    [InlineData(OrtGraphOptimization.All, 0, 2)]
    public void Every_optimisation_level_and_thread_setting_gives_the_same_result(OrtGraphOptimization level, int intra, int inter)
    {
        using var session = env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { Optimization = level, IntraOpThreads = intra, InterOpThreads = inter });
        var input = OrtTestModels.RandomData(new Random(3), 16);
        var output = session.Run([new OrtTensor("input", [1, 1, 4, 4], input)], ["output"])[0];
        Assert.Equal(OrtTestModels.AffineReluExpected(input, 1).Output, output.Data);
    }

    [Fact]
    public void Invalid_settings_are_rejected_before_onnx_runtime_sees_them()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { IntraOpThreads = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { Optimization = (OrtGraphOptimization)3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { Provider = OrtExecutionProvider.Cuda, CudaDeviceId = -1 }));
    }

    [Fact]
    public void Dispose_is_idempotent_and_later_runs_throw_object_disposed()
    {
        var session = env.Runtime.CreateSession(env.AffineRelu, Cpu);
        session.Dispose();
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Run([new OrtTensor("input", [1, 1, 4, 4], new float[16])], ["output"]));
        Assert.Equal("input", session.Inputs[0].Name); // metadata stays readable
    }
}
