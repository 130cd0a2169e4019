using System.Runtime.InteropServices;
using KeypointService.Models.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KeypointService.Models.Tests.Onnx;

/// <summary>
/// A folder of freshly written test models, shared by the tests of the "onnxruntime" collection. ONNX Runtime
/// is the package's native library beside the test assembly (the CPU package unless built with -p:OnnxRuntimePackage=gpu).
/// </summary>
public sealed class OnnxTestEnvironment : IDisposable
{
    public OnnxTestEnvironment()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"kps-ort-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        AffineRelu = OnnxTestModels.AffineRelu().WriteTo(Path.Combine(Directory, "affine_relu.onnx"));
        TwoInputs = OnnxTestModels.TwoInputs().WriteTo(Path.Combine(Directory, "two_inputs.onnx"));
        ShapeOf = OnnxTestModels.ShapeOf().WriteTo(Path.Combine(Directory, "shape_of.onnx"));
    }

    public string Directory { get; }

    /// <summary>input [N,1,4,4] -> output = Relu(2 * input - 1) [N,1,4,4], mean = GlobalAveragePool(output) [N,1,1,1].</summary>
    public string AffineRelu { get; }

    /// <summary>a [2,3], b [2,3] -> diff = a - b [2,3]; no custom metadata.</summary>
    public string TwoInputs { get; }

    /// <summary>x [N,3] -> y = Relu(x) float [N,3], shape = Shape(x) int64 [2].</summary>
    public string ShapeOf { get; }

    /// <summary>
    /// True when CUDA cannot work here, decided without the code under test: no CUDA provider library beside
    /// the tests (the CPU package), or CUDA 13's cuBLASLt or a GPU device missing (a GPU build on a CPU machine).
    /// </summary>
    public bool CudaCannotWork =>
        !File.Exists(Path.Combine(AppContext.BaseDirectory, "libonnxruntime_providers_cuda.so"))
        || !NativeLibrary.TryLoad("libcublasLt.so.13", out _)
        || !File.Exists("/dev/nvidia0");

    public string NewPath(string fileName) => Path.Combine(Directory, $"{Guid.NewGuid():N}-{fileName}");

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class OnnxCollection : ICollectionFixture<OnnxTestEnvironment>
{
    public const string Name = "onnxruntime";
}

/// <summary>The test models and what they compute.</summary>
internal static class OnnxTestModels
{
    public static OnnxModelBuilder AffineRelu() =>
        new OnnxModelBuilder
        {
            GraphName = "affine_relu",
            Domain = "ai.keypointservice.tests",
            DocString = "Relu(2x - 1) and its spatial mean",
            ModelVersion = 7,
        }
        .Input("input", ["N", 1, 4, 4])
        .Initializer("scale", [], [2f])
        .Initializer("bias", [], [-1f])
        .Node("Mul", ["input", "scale"], ["scaled"])
        .Node("Add", ["scaled", "bias"], ["shifted"])
        .Node("Relu", ["shifted"], ["output"])
        .Node("GlobalAveragePool", ["output"], ["mean"])
        .Output("output", ["N", 1, 4, 4])
        .Output("mean", ["N", 1, 1, 1])
        .Metadata("keypointservice.task", "heatmap")
        .Metadata("note", "grüße ✓")
        .Metadata("empty", "");

    public static OnnxModelBuilder TwoInputs() =>
        new OnnxModelBuilder { GraphName = "two_inputs" }
        .Input("a", [2, 3])
        .Input("b", [2, 3])
        .Node("Sub", ["a", "b"], ["diff"])
        .Output("diff", [2, 3]);

    public static OnnxModelBuilder ShapeOf() =>
        new OnnxModelBuilder { GraphName = "shape_of" }
        .Input("x", ["batch", 3])
        .Node("Relu", ["x"], ["y"])
        .Node("Shape", ["x"], ["shape"])
        .Output("y", ["batch", 3])
        .Output("shape", [2], TensorElementType.Int64);

    /// <summary>AffineRelu's outputs, computed in C#.</summary>
    public static (float[] Output, float[] Mean) AffineReluExpected(float[] input, int batch)
    {
        var output = input.Select(x => MathF.Max(0f, 2f * x - 1f)).ToArray();
        var mean = new float[batch];
        for (var n = 0; n < batch; n++) mean[n] = output.AsSpan(n * 16, 16).ToArray().Average();
        return (output, mean);
    }

    public static float[] RandomData(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 0.5)).ToArray();
}
