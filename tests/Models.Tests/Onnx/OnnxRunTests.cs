using KeypointService.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace KeypointService.Models.Tests.Onnx;

[Collection(OnnxCollection.Name)]
public sealed class OnnxRunTests : IDisposable
{
    private readonly OnnxTestEnvironment _env;
    private readonly OnnxSession _affine;

    public OnnxRunTests(OnnxTestEnvironment env)
    {
        _env = env;
        _affine = OnnxSession.Create(env.AffineRelu, new OnnxSessionSettings { IntraOpThreads = 1 });
    }

    public void Dispose() => _affine.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void Computes_both_outputs_for_any_batch_size(int batch)
    {
        var input = OnnxTestModels.RandomData(new Random(batch), batch * 16);
        var (expectedOutput, expectedMean) = OnnxTestModels.AffineReluExpected(input, batch);

        var results = _affine.Run([new OnnxTensor("input", [batch, 1, 4, 4], input)], ["output", "mean"]);

        Assert.Equal(2, results.Count);
        Assert.Equal("output", results[0].Name);
        Assert.Equal([batch, 1L, 4, 4], results[0].Shape);
        Assert.Equal(expectedOutput, results[0].Data);
        Assert.Equal("mean", results[1].Name);
        Assert.Equal([batch, 1L, 1, 1], results[1].Shape);
        for (var n = 0; n < batch; n++) Assert.Equal(expectedMean[n], results[1].Data[n], 5);
    }

    [Fact]
    public void Computes_the_same_without_the_cpu_memory_arena()
    {
        using var session = OnnxSession.Create(_env.AffineRelu, new OnnxSessionSettings { IntraOpThreads = 1, CpuMemArena = false });
        var input = OnnxTestModels.RandomData(new Random(7), 3 * 16);
        var (expectedOutput, _) = OnnxTestModels.AffineReluExpected(input, 3);
        var results = session.Run([new OnnxTensor("input", [3, 1, 4, 4], input)], ["output"]);
        Assert.Equal(expectedOutput, results[0].Data);
    }

    [Fact]
    public void Returns_outputs_in_the_requested_order_and_only_those_requested()
    {
        var input = OnnxTestModels.RandomData(new Random(7), 32);
        var results = _affine.Run([new OnnxTensor("input", [2, 1, 4, 4], input)], ["mean"]);
        Assert.Equal("mean", Assert.Single(results).Name);

        var reversed = _affine.Run([new OnnxTensor("input", [2, 1, 4, 4], input)], ["mean", "output"]);
        Assert.Equal(["mean", "output"], reversed.Select(r => r.Name));
    }

    [Fact]
    public void Run_without_output_names_returns_every_output()
    {
        var results = _affine.Run([new OnnxTensor("input", [1, 1, 4, 4], new float[16])]);
        Assert.Equal(["output", "mean"], results.Select(r => r.Name));
    }

    [Fact]
    public void Inputs_are_matched_by_name_not_position()
    {
        using var session = OnnxSession.Create(_env.TwoInputs, new OnnxSessionSettings());
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [6, 5, 4, 3, 2, 1];
        var diff = session.Run([new OnnxTensor("b", [2, 3], b), new OnnxTensor("a", [2, 3], a)], ["diff"])[0];
        Assert.Equal([-5f, -3, -1, 1, 3, 5], diff.Data);
    }

    [Fact]
    public void Input_data_is_left_unchanged()
    {
        var input = OnnxTestModels.RandomData(new Random(11), 16);
        var copy = input.ToArray();
        _affine.Run([new OnnxTensor("input", [1, 1, 4, 4], input)], ["output"]);
        Assert.Equal(copy, input);
    }

    [Fact]
    public void Unknown_input_name_throws_with_orts_message()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => _affine.Run([new OnnxTensor("nope", [1, 1, 4, 4], new float[16])], ["output"]));
        Assert.Contains("InvalidArgument", e.Message);
        Assert.Contains("nope", e.Message);
    }

    [Fact]
    public void Missing_input_throws_with_orts_message()
    {
        using var session = OnnxSession.Create(_env.TwoInputs, new OnnxSessionSettings());
        var e = Assert.Throws<OnnxRuntimeException>(() => session.Run([new OnnxTensor("a", [2, 3], new float[6])], ["diff"]));
        Assert.Contains("b", e.Message);
    }

    [Fact]
    public void Unknown_output_name_throws_with_orts_message()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => _affine.Run([new OnnxTensor("input", [1, 1, 4, 4], new float[16])], ["heatmaps"]));
        Assert.Contains("heatmaps", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 5, 4 })]
    [InlineData(new long[] { 1, 2, 4, 4 })]
    [InlineData(new long[] { 16 })]
    public void Wrong_shape_throws_with_orts_message(long[] shape)
    {
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        var e = Assert.Throws<OnnxRuntimeException>(() => _affine.Run([new OnnxTensor("input", shape, data)], ["output"]));
        Assert.Contains("InvalidArgument", e.Message);
        Assert.Contains("input", e.Message);
    }

    [Fact]
    public void Non_float_outputs_are_not_supported_but_float_ones_of_the_same_model_are()
    {
        using var session = OnnxSession.Create(_env.ShapeOf, new OnnxSessionSettings());
        var x = new OnnxTensor("x", [2, 3], [-1, 2, -3, 4, -5, 6]);
        Assert.Equal([0f, 2, 0, 4, 0, 6], session.Run([x], ["y"])[0].Data);
        var e = Assert.Throws<NotSupportedException>(() => session.Run([x], ["y", "shape"]));
        Assert.Contains("'shape'", e.Message);
        Assert.Contains("Int64", e.Message);
    }

    [Fact]
    public void Outputs_whose_shape_the_inputs_do_not_give_are_allocated_by_onnx_runtime_and_copied()
    {
        // The output's first dimension has no name, so its size does not follow from the inputs: ORT allocates, the wrapper copies.
        var path = new OnnxModelBuilder()
            .Input("x", ["n", 3])
            .Node("Relu", ["x"], ["y"])
            .Output("y", [new OnnxModelBuilder.Dim(null, null), 3])
            .WriteTo(_env.NewPath("unnamed_dim.onnx"));
        using var session = OnnxSession.Create(path, new OnnxSessionSettings { IntraOpThreads = 1 });
        var y = session.Run([new OnnxTensor("x", [2, 3], [-1, 2, -3, 4, -5, 6])], ["y"])[0];
        Assert.Equal([2L, 3], y.Shape);
        Assert.Equal([0f, 2, 0, 4, 0, 6], y.Data);
    }

    [Fact]
    public void A_slice_of_a_larger_buffer_is_read_in_place()
    {
        var pooled = new float[100];
        var input = OnnxTestModels.RandomData(new Random(13), 32);
        input.CopyTo(pooled, 10);
        var results = _affine.Run([new OnnxInput("input", [2, 1, 4, 4], pooled.AsMemory(10, 32))], ["output"]);
        Assert.Equal(OnnxTestModels.AffineReluExpected(input, 2).Output, results[0].Data);
    }

    [Fact]
    public void Argument_errors_are_reported_before_the_native_call()
    {
        var input = new OnnxTensor("input", [1, 1, 4, 4], new float[16]);
        Assert.Throws<ArgumentException>(() => _affine.Run([input], []));
        Assert.Throws<ArgumentNullException>(() => _affine.Run(null!, ["output"]));
        Assert.Throws<ArgumentException>(() => _affine.Run([input, default(OnnxInput)], ["output"]));
        Assert.Throws<ArgumentException>(() => _affine.Run([input], [null!]));
        Assert.Throws<ArgumentException>(() => new OnnxInput("input", [2, 1, 4, 4], new float[16]));
    }
}

public class OnnxTensorTests
{
    [Fact]
    public void Data_length_must_match_the_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => new OnnxTensor("input", [2, 1, 4, 4], new float[16]));
        Assert.Contains("'input' has 16 values but shape [2,1,4,4] needs 32", e.Message);
    }

    [Fact]
    public void Negative_dimensions_and_empty_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new OnnxTensor("input", [-1, 4], new float[4]));
        Assert.Throws<ArgumentException>(() => new OnnxTensor("", [4], new float[4]));
        Assert.Throws<ArgumentException>(() => new OnnxTensor("input", [long.MaxValue, 4], new float[4]));
    }

    [Fact]
    public void Shape_is_copied_and_data_is_not()
    {
        long[] shape = [2, 2];
        float[] data = [1, 2, 3, 4];
        var tensor = new OnnxTensor("t", shape, data);
        shape[0] = 7;
        Assert.Equal([2L, 2], tensor.Shape);
        Assert.Same(data, tensor.Data);
        Assert.Equal(4, tensor.ElementCount);
    }

    [Fact]
    public void Scalars_have_one_element()
    {
        Assert.Equal(1, new OnnxTensor("s", [], [3f]).ElementCount);
    }
}

/// <summary>
/// The same input gives bit-identical outputs on every call, whatever buffers the caller's input and the
/// earlier calls used. Writing outputs straight into GC-aligned managed arrays broke this for spmkd (ORT's
/// kernels vectorise by address): about one call in three differed in the last bits.
/// </summary>
public class OnnxDeterminismTests
{
    [Fact]
    public void Repeated_runs_of_a_committed_model_give_identical_bits()
    {
        var model = Path.Combine(FixtureModels.DefaultModels, "spmkd", "1", "model.onnx");
        using var session = OnnxSession.Create(model, new OnnxSessionSettings { IntraOpThreads = 1 });
        var input = OnnxTestModels.RandomData(new Random(17), 256 * 256);
        var reference = session.Run([new OnnxTensor("pressure", [1, 1, 256, 256], input)]);
        var garbage = new List<float[]>();
        for (var run = 0; run < 12; run++)
        {
            garbage.Add(new float[1 + run * 3]); // shift where the next arrays land
            var offset = run % 4;
            var buffer = new float[input.Length + offset];
            input.CopyTo(buffer, offset);
            var outputs = session.Run([new OnnxInput("pressure", [1, 1, 256, 256], buffer.AsMemory(offset, input.Length))]);
            for (var i = 0; i < outputs.Count; i++)
                Assert.True(reference[i].Data.AsSpan().SequenceEqual(outputs[i].Data), $"run {run}: output {outputs[i].Name} differs from the first run");
        }
        GC.KeepAlive(garbage);
    }
}
