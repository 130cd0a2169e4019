using System.Buffers;

namespace KeypointService.Models.Onnx;

/// <summary>
/// A loaded model. <see cref="Run(IReadOnlyList{OrtTensor}, IReadOnlyList{string})"/> is thread-safe
/// (ORT's Run is); metadata is read once at creation. Dispose is safe while other threads run: the
/// native session is released when the last call in progress returns.
/// </summary>
public sealed class OrtSession : IDisposable
{
    private const int OrtArenaAllocator = 1; // OrtAllocatorType
    private const int OrtMemTypeDefault = 0; // OrtMemType

    private readonly OrtNativeApi _api;
    private readonly OrtSessionHandle _session;
    private readonly OrtMemoryInfoHandle _cpuMemory;
    private readonly string[] _outputNames;

    internal unsafe OrtSession(OrtNativeApi api, OrtSessionHandle session, string modelPath, string executionProvider, string? providerFallbackReason)
    {
        _api = api;
        _session = session;
        ModelPath = modelPath;
        ExecutionProvider = executionProvider;
        ProviderFallbackReason = providerFallbackReason;

        var raw = session.DangerousGetHandle(); // owned by this constructor's caller until it returns
        Inputs = OrtSessionMetadata.ReadInputs(api, raw);
        Outputs = OrtSessionMetadata.ReadOutputs(api, raw);
        var metadata = OrtSessionMetadata.ReadModelMetadata(api, raw);
        CustomMetadata = metadata.Custom;
        ProducerName = metadata.ProducerName;
        GraphName = metadata.GraphName;
        Domain = metadata.Domain;
        Description = metadata.Description;
        ModelVersion = metadata.Version;
        _outputNames = Outputs.Select(o => o.Name).ToArray();

        IntPtr memoryInfo;
        api.Check(api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memoryInfo));
        _cpuMemory = new OrtMemoryInfoHandle(api, memoryInfo);
    }

    /// <summary>Absolute path of the model file.</summary>
    public string ModelPath { get; }

    /// <summary>The model's inputs in graph order.</summary>
    public IReadOnlyList<OrtNodeInfo> Inputs { get; }

    /// <summary>The model's outputs in graph order.</summary>
    public IReadOnlyList<OrtNodeInfo> Outputs { get; }

    /// <summary>The model's metadata_props (custom metadata map).</summary>
    public IReadOnlyDictionary<string, string> CustomMetadata { get; }

    /// <summary>ModelProto.producer_name ("" when absent).</summary>
    public string ProducerName { get; }

    /// <summary>GraphProto.name ("" when absent).</summary>
    public string GraphName { get; }

    /// <summary>ModelProto.domain ("" when absent).</summary>
    public string Domain { get; }

    /// <summary>ModelProto.doc_string ("" when absent).</summary>
    public string Description { get; }

    /// <summary>ModelProto.model_version (0 when absent).</summary>
    public long ModelVersion { get; }

    /// <summary>"CPUExecutionProvider" or "CUDAExecutionProvider": the provider the session was created with.</summary>
    public string ExecutionProvider { get; }

    /// <summary>ORT's message when CUDA was asked for and the session fell back to CPU; otherwise null.</summary>
    public string? ProviderFallbackReason { get; }

    /// <summary>
    /// Runs the model. Inputs are float32 tensors handed to ORT without copying (pinned for the call);
    /// outputs come back as float32 tensors in the order of <paramref name="outputNames"/>, copied into new
    /// arrays. Throws <see cref="OrtException"/> with ORT's message when ORT rejects the call (unknown
    /// input or output name, wrong shape or type), <see cref="NotSupportedException"/> when a requested
    /// output is not float32, <see cref="ObjectDisposedException"/> after Dispose.
    /// </summary>
    public unsafe IReadOnlyList<OrtTensor> Run(IReadOnlyList<OrtTensor> inputs, IReadOnlyList<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (outputNames.Count == 0) throw new ArgumentException("At least one output name is required.", nameof(outputNames));
        var inputNames = new string[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
            inputNames[i] = inputs[i]?.Name ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
        for (var i = 0; i < outputNames.Count; i++)
            if (outputNames[i] is null) throw new ArgumentException($"Output name {i} is null.", nameof(outputNames));

        var pins = new MemoryHandle[inputs.Count];
        try
        {
            using var nativeInputNames = new Utf8StringArray(inputNames);
            using var nativeOutputNames = new Utf8StringArray(outputNames);
            using var inputValues = new OrtValueList(_api, inputs.Count);
            using var outputValues = new OrtValueList(_api, outputNames.Count);
            var sessionAdded = false;
            var memoryAdded = false;
            try
            {
                _session.DangerousAddRef(ref sessionAdded); // ObjectDisposedException once disposed
                _cpuMemory.DangerousAddRef(ref memoryAdded);
                var memoryInfo = _cpuMemory.DangerousGetHandle();
                for (var i = 0; i < inputs.Count; i++)
                {
                    var tensor = inputs[i];
                    pins[i] = tensor.Data.AsMemory().Pin();
                    IntPtr value;
                    fixed (long* shape = tensor.Shape)
                        _api.Check(_api.CreateTensorWithDataAsOrtValue(memoryInfo, pins[i].Pointer, (nuint)tensor.Data.LongLength * sizeof(float),
                            shape, (nuint)tensor.Shape.Length, OrtElementType.Float, &value));
                    inputValues.Values[i] = value;
                }

                fixed (IntPtr* inputPointers = inputValues.Values)
                fixed (IntPtr* outputPointers = outputValues.Values)
                    _api.Check(_api.Run(_session.DangerousGetHandle(), IntPtr.Zero, nativeInputNames.Pointer, inputPointers, (nuint)inputs.Count,
                        nativeOutputNames.Pointer, (nuint)outputNames.Count, outputPointers));

                var results = new OrtTensor[outputNames.Count];
                for (var i = 0; i < results.Length; i++) results[i] = CopyOut(outputNames[i], outputValues.Values[i]);
                return results;
            }
            finally
            {
                if (memoryAdded) _cpuMemory.DangerousRelease();
                if (sessionAdded) _session.DangerousRelease();
            }
        }
        finally
        {
            foreach (var pin in pins) pin.Dispose();
        }
    }

    /// <summary>Runs the model and returns all of its outputs, in graph order.</summary>
    public IReadOnlyList<OrtTensor> Run(IReadOnlyList<OrtTensor> inputs) => Run(inputs, _outputNames);

    private unsafe OrtTensor CopyOut(string name, IntPtr value)
    {
        IntPtr info;
        _api.Check(_api.GetTensorTypeAndShape(value, &info));
        using var infoHandle = new OrtTensorTypeAndShapeInfoHandle(_api, info);
        var (elementType, shape) = OrtSessionMetadata.ReadTensorInfo(_api, info);
        if (elementType != OrtElementType.Float)
            throw new NotSupportedException($"Output '{name}' is a {elementType} tensor; this binding returns float32 outputs only.");
        nuint count;
        _api.Check(_api.GetTensorShapeElementCount(info, &count));
        if (count > (nuint)Array.MaxLength)
            throw new NotSupportedException($"Output '{name}' with shape [{string.Join(",", shape)}] is too large for one array.");
        var data = new float[(int)count];
        if (count > 0)
        {
            void* source;
            _api.Check(_api.GetTensorMutableData(value, &source));
            new ReadOnlySpan<float>(source, data.Length).CopyTo(data);
        }
        return new OrtTensor(name, shape, data);
    }

    /// <summary>Releases the native session (after any Run still in progress). Safe to call more than once.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _cpuMemory.Dispose();
    }
}
