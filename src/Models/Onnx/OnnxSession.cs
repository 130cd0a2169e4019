using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KeypointService.Models.Onnx;

/// <summary>
/// One loaded ONNX model: owns its <see cref="InferenceSession"/> and one <see cref="RunOptions"/>.
/// <see cref="Run(IReadOnlyList{OnnxInput}, IReadOnlyList{string})"/> is thread-safe (ORT's Run is; the run options are only read). Inputs are wrapped as
/// OrtValues over the caller's memory (no copy). Outputs whose shapes follow from the inputs are
/// pre-allocated by ORT's allocator before the run, others are allocated by ORT during it; each is copied
/// once into the caller's array. Not into managed arrays directly: ORT's CPU kernels vectorise by address,
/// and with outputs at whatever alignment the GC gives, the same request answered spmkd keypoints that
/// differed in the last bits from call to call (about one call in three); ORT's buffers are 64-byte aligned.
/// Dispose is safe while other threads run: the native session is released when the last Run returns.
/// </summary>
public sealed class OnnxSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly Dictionary<string, OnnxNodeInfo> _inputsByName;
    private readonly Dictionary<string, OnnxNodeInfo> _outputsByName;
    private readonly string[] _outputNames;
    private static int s_open;
    private int _references = 1; // the owner's; each Run holds one more while it uses the native session
    private int _disposed;
    private int _released;

    /// <summary>
    /// Native sessions of this process not yet released (created and not disposed, or disposed while a Run was
    /// still using them). Served as <c>kps_onnx_sessions_open</c>: after a hot reload has drained, it falls back
    /// to the number of sessions the served versions need.
    /// </summary>
    public static int OpenSessions => Volatile.Read(ref s_open);

    private OnnxSession(InferenceSession session, string modelPath, string executionProvider, string? providerFallbackReason)
    {
        _session = session;
        ModelPath = modelPath;
        ExecutionProvider = executionProvider;
        ProviderFallbackReason = providerFallbackReason;
        Inputs = session.InputMetadata.Select(p => NodeInfo(p.Key, p.Value)).ToArray();
        Outputs = session.OutputMetadata.Select(p => NodeInfo(p.Key, p.Value)).ToArray();
        _inputsByName = Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        _outputsByName = Outputs.ToDictionary(o => o.Name, StringComparer.Ordinal);
        _outputNames = Outputs.Select(o => o.Name).ToArray();
        _runOptions = new RunOptions();
        Interlocked.Increment(ref s_open);
    }

    /// <summary>Absolute path of the model file.</summary>
    public string ModelPath { get; }

    /// <summary>The model's inputs in graph order.</summary>
    public IReadOnlyList<OnnxNodeInfo> Inputs { get; }

    /// <summary>The model's outputs in graph order.</summary>
    public IReadOnlyList<OnnxNodeInfo> Outputs { get; }

    /// <summary>"CPUExecutionProvider" or "CUDAExecutionProvider": the provider the session was created with.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why the session runs on CPU although CUDA was asked for (names the missing library where ORT says); otherwise null.</summary>
    public string? ProviderFallbackReason { get; }

    /// <summary>
    /// Creates a session for the model at <paramref name="modelPath"/>. Asked for CUDA, it appends the CUDA
    /// provider; when that fails it falls back to CPU recording <see cref="ProviderFallbackReason"/>, or throws
    /// <see cref="OnnxProviderUnavailableException"/> with <see cref="OnnxSessionSettings.ProviderRequired"/>.
    /// A bad model throws <see cref="OnnxRuntimeException"/> with ORT's message; a missing native library
    /// <see cref="OnnxRuntimeUnavailableException"/>.
    /// </summary>
    public static OnnxSession Create(string modelPath, OnnxSessionSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        OnnxRuntimeEnvironment.EnsureLoaded();
        var path = Path.GetFullPath(modelPath);
        string? fallbackReason = null;
        if (settings.Provider == OnnxExecutionProvider.Cuda)
        {
            using var options = settings.CreateCpuOptions();
            fallbackReason = OnnxProviders.TryAppendCuda(options, settings);
            if (fallbackReason is null)
            {
                try
                {
                    return Open(path, options, OnnxProviders.CudaProvider, null);
                }
                catch (OnnxRuntimeException e) when (IsProviderFailure(e))
                {
                    fallbackReason = OnnxProviders.Explain(e.Message); // e.g. no device or driver: the provider loaded but cannot run
                }
            }
            if (settings.ProviderRequired)
                throw new OnnxProviderUnavailableException(
                    $"the CUDA execution provider (device {settings.CudaDeviceId}) is required but cannot be used: {fallbackReason}");
        }
        using var cpuOptions = settings.CreateCpuOptions();
        return Open(path, cpuOptions, OnnxProviders.CpuProvider, fallbackReason);
    }

    /// <summary>A session-creation failure with the CUDA provider that CPU would not have (not the model's fault).</summary>
    private static bool IsProviderFailure(OnnxRuntimeException e) =>
        e.Message.Contains("CUDA", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("cudnn", StringComparison.OrdinalIgnoreCase);

    private static OnnxSession Open(string path, SessionOptions options, string provider, string? fallbackReason)
    {
        var session = new InferenceSession(path, options);
        try
        {
            return new OnnxSession(session, path, provider, fallbackReason);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model and returns the float32 outputs named in <paramref name="outputNames"/>, in that order.
    /// Throws <see cref="OnnxRuntimeException"/> with ORT's message when ORT rejects the call (unknown input or
    /// output name, wrong shape), <see cref="NotSupportedException"/> when a requested output is not float32,
    /// <see cref="ObjectDisposedException"/> after Dispose.
    /// </summary>
    public IReadOnlyList<OnnxTensor> Run(IReadOnlyList<OnnxInput> inputs, IReadOnlyList<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (outputNames.Count == 0) throw new ArgumentException("At least one output name is required.", nameof(outputNames));
        var inputNames = new string[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
            inputNames[i] = inputs[i].Name ?? throw new ArgumentException($"Input {i} is empty.", nameof(inputs));
        var names = new string[outputNames.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = outputNames[i] ?? throw new ArgumentException($"Output name {i} is null.", nameof(outputNames));
            if (_outputsByName.TryGetValue(names[i], out var output) && !output.IsFloat)
                throw new NotSupportedException($"Output '{names[i]}' is a {output.ElementType} tensor; only float32 outputs are returned.");
        }

        AddReference();
        var inputValues = new OrtValue[inputs.Count];
        var outputValues = new OrtValue[names.Length];
        try
        {
            for (var i = 0; i < inputs.Count; i++)
                inputValues[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, inputs[i].Data, inputs[i].Shape);

            if (OutputShapes(inputs, names) is { } shapes)
            {
                for (var i = 0; i < names.Length; i++)
                    outputValues[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, shapes[i]);
                _session.Run(_runOptions, inputNames, inputValues, names, outputValues);
                return outputValues.Select((value, i) => CopyOut(names[i], value)).ToArray();
            }
            using var allocated = _session.Run(_runOptions, inputNames, inputValues, names);
            return allocated.Select((value, i) => CopyOut(names[i], value)).ToArray();
        }
        finally
        {
            foreach (var value in inputValues) value?.Dispose();
            foreach (var value in outputValues) value?.Dispose();
            Release();
        }
    }

    /// <summary>Runs the model and returns all of its outputs, in graph order.</summary>
    public IReadOnlyList<OnnxTensor> Run(IReadOnlyList<OnnxInput> inputs) => Run(inputs, _outputNames);

    /// <summary>
    /// Each output's shape when every dimension is fixed or a symbolic dimension also found on an input
    /// (e.g. "batch"), whose size the inputs give; null when any is unknown or the inputs do not fit the model
    /// (ORT then allocates, and reports any mismatch with its own message).
    /// </summary>
    private long[][]? OutputShapes(IReadOnlyList<OnnxInput> inputs, string[] names)
    {
        Dictionary<string, long>? symbols = null;
        foreach (var input in inputs)
        {
            if (!_inputsByName.TryGetValue(input.Name, out var info) || info.Shape.Length != input.Shape.Length) return null;
            for (var d = 0; d < info.Shape.Length; d++)
            {
                if (info.Shape[d] >= 0 || info.SymbolicShape[d].Length == 0) continue;
                symbols ??= new Dictionary<string, long>(StringComparer.Ordinal);
                if (symbols.TryGetValue(info.SymbolicShape[d], out var seen) && seen != input.Shape[d]) return null;
                symbols[info.SymbolicShape[d]] = input.Shape[d];
            }
        }
        var shapes = new long[names.Length][];
        for (var i = 0; i < names.Length; i++)
        {
            if (!_outputsByName.TryGetValue(names[i], out var info)) return null;
            var shape = new long[info.Shape.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                if (info.Shape[d] >= 0) shape[d] = info.Shape[d];
                else if (symbols is not null && symbols.TryGetValue(info.SymbolicShape[d], out var size)) shape[d] = size;
                else return null;
            }
            shapes[i] = shape;
        }
        return shapes;
    }

    private static OnnxTensor CopyOut(string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        if (info.ElementDataType != TensorElementType.Float)
            throw new NotSupportedException($"Output '{name}' is a {info.ElementDataType} tensor; only float32 outputs are returned.");
        return new OnnxTensor(name, info.Shape, value.GetTensorDataAsSpan<float>().ToArray());
    }

    private static OnnxNodeInfo NodeInfo(string name, NodeMetadata metadata) =>
        metadata.IsTensor
            ? new OnnxNodeInfo(name, metadata.ElementDataType.ToString(), metadata.Dimensions.Select(d => (long)d).ToArray(),
                metadata.SymbolicDimensions.Select(s => s ?? "").ToArray())
            : new OnnxNodeInfo(name, "", [], []);

    private void AddReference()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0 || Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(OnnxSession));
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return;
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        _session.Dispose();
        _runOptions.Dispose();
        Volatile.Write(ref _released, 1);
        Interlocked.Decrement(ref s_open);
    }

    /// <summary>True once the native session has been released (Dispose called and no Run in progress).</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>Releases the native session (after any Run still in progress). Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Release();
    }
}
