using KeypointService.Models.Onnx;

namespace KeypointService.Models.Tests.Onnx;

[Collection(OrtCollection.Name)]
public sealed class OrtRunTests : IDisposable
{
    private readonly OrtTestEnvironment _env;
    private readonly OrtSession _affine;

    public OrtRunTests(OrtTestEnvironment env)
    {
        _env = env;
        _affine = env.Runtime.CreateSession(env.AffineRelu, new OrtSessionSettings { IntraOpThreads = 1 });
    }

    public void Dispose() => _affine.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void Computes_both_outputs_for_any_batch_size(int batch)
    {
        var input = OrtTestModels.RandomData(new Random(batch), batch * 16);
        var (expectedOutput, expectedMean) = OrtTestModels.AffineReluExpected(input, batch);

        var results = _affine.Run([new OrtTensor("input", [batch, 1, 4, 4], input)], ["output", "mean"]);

        Assert.Equal(2, results.Count);
        Assert.Equal("output", results[0].Name);
        Assert.Equal([batch, 1L, 4, 4], results[0].Shape);
        Assert.Equal(expectedOutput, results[0].Data);
        Assert.Equal("mean", results[1].Name);
        Assert.Equal([batch, 1L, 1, 1], results[1].Shape);
        for (var n = 0; n < batch; n++) Assert.Equal(expectedMean[n], results[1].Data[n], 5);
    }

    [Fact]
    public void Returns_outputs_in_the_requested_order_and_only_those_requested()
    {
        var input = OrtTestModels.RandomData(new Random(7), 32);
        var results = _affine.Run([new OrtTensor("input", [2, 1, 4, 4], input)], ["mean"]);
        Assert.Equal("mean", Assert.Single(results).Name);

        var reversed = _affine.Run([new OrtTensor("input", [2, 1, 4, 4], input)], ["mean", "output"]);
        Assert.Equal(["mean", "output"], reversed.Select(r => r.Name));
    }

    [Fact]
    public void Run_without_output_names_returns_every_output()
    {
        var results = _affine.Run([new OrtTensor("input", [1, 1, 4, 4], new float[16])]);
        Assert.Equal(["output", "mean"], results.Select(r => r.Name));
    }

    [Fact]
    public void Inputs_are_matched_by_name_not_position()
    {
        using var session = _env.Runtime.CreateSession(_env.TwoInputs, new OrtSessionSettings());
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [6, 5, 4, 3, 2, 1];
        var diff = session.Run([new OrtTensor("b", [2, 3], b), new OrtTensor("a", [2, 3], a)], ["diff"])[0];
        Assert.Equal([-5f, -3, -1, 1, 3, 5], diff.Data);
    }

    [Fact]
    public void Input_data_is_left_unchanged()
    {
        var input = OrtTestModels.RandomData(new Random(11), 16);
        var copy = input.ToArray();
        _affine.Run([new OrtTensor("input", [1, 1, 4, 4], input)], ["output"]);
        Assert.Equal(copy, input);
    }

    [Fact]
    public void Unknown_input_name_throws_with_orts_message()
    {
        var e = Assert.Throws<OrtException>(() => _affine.Run([new OrtTensor("nope", [1, 1, 4, 4], new float[16])], ["output"]));
        Assert.Equal(OrtErrorCode.InvalidArgument, e.Code);
        Assert.Contains("nope", e.Message);
        Assert.Equal(e.OrtMessage.TrimEnd(), e.Message);
    }

    [Fact]
    public void Missing_input_throws_with_orts_message()
    {
        using var session = _env.Runtime.CreateSession(_env.TwoInputs, new OrtSessionSettings());
        var e = Assert.Throws<OrtException>(() => session.Run([new OrtTensor("a", [2, 3], new float[6])], ["diff"]));
        Assert.Contains("b", e.Message);
    }

    [Fact]
    public void Unknown_output_name_throws_with_orts_message()
    {
        var e = Assert.Throws<OrtException>(() => _affine.Run([new OrtTensor("input", [1, 1, 4, 4], new float[16])], ["heatmaps"]));
        Assert.Contains("heatmaps", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 5, 4 })]
    [InlineData(new long[] { 1, 2, 4, 4 })]
    [InlineData(new long[] { 16 })]
    public void Wrong_shape_throws_with_orts_message(long[] shape)
    {
        var data = new float[OrtTensor.ElementCountOf(shape)];
        var e = Assert.Throws<OrtException>(() => _affine.Run([new OrtTensor("input", shape, data)], ["output"]));
        Assert.Equal(OrtErrorCode.InvalidArgument, e.Code);
        Assert.Contains("input", e.Message);
    }

    [Fact]
    public void Non_float_outputs_are_not_supported_but_float_ones_of_the_same_model_are()
    {
        using var session = _env.Runtime.CreateSession(_env.ShapeOf, new OrtSessionSettings());
        var x = new OrtTensor("x", [2, 3], [-1, 2, -3, 4, -5, 6]);
        Assert.Equal([0f, 2, 0, 4, 0, 6], session.Run([x], ["y"])[0].Data);
        var e = Assert.Throws<NotSupportedException>(() => session.Run([x], ["y", "shape"]));
        Assert.Contains("'shape'", e.Message);
        Assert.Contains("Int64", e.Message);
    }

    [Fact]
    public void Argument_errors_are_reported_before_the_native_call()
    {
        var input = new OrtTensor("input", [1, 1, 4, 4], new float[16]);
        Assert.Throws<ArgumentException>(() => _affine.Run([input], []));
        Assert.Throws<ArgumentNullException>(() => _affine.Run(null!, ["output"]));
        Assert.Throws<ArgumentException>(() => _affine.Run([input, null!], ["output"]));
        Assert.Throws<ArgumentException>(() => _affine.Run([input], ["out\0put"]));
    }
}

public class OrtTensorTests
{
    [Fact]
    public void Data_length_must_match_the_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => new OrtTensor("input", [2, 1, 4, 4], new float[16]));
        Assert.Contains("'input' has 16 values but shape [2,1,4,4] needs 32", e.Message);
    }

    [Fact]
    public void Negative_dimensions_and_empty_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new OrtTensor("input", [-1, 4], new float[4]));
        Assert.Throws<ArgumentException>(() => new OrtTensor("", [4], new float[4]));
        Assert.Throws<ArgumentException>(() => new OrtTensor("input", [long.MaxValue, 4], new float[4]));
    }

    [Fact]
    public void Shape_is_copied_and_data_is_not()
    {
        long[] shape = [2, 2];
        float[] data = [1, 2, 3, 4];
        var tensor = new OrtTensor("t", shape, data);
        shape[0] = 7;
        Assert.Equal([2L, 2], tensor.Shape);
        Assert.Same(data, tensor.Data);
        Assert.Equal(4, tensor.ElementCount);
    }

    [Fact]
    public void Scalars_have_one_element()
    {
        Assert.Equal(1, new OrtTensor("s", [], [3f]).ElementCount);
    }
}
