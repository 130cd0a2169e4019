using System.Runtime.InteropServices;

namespace KeypointService.Models.Onnx;

/// <summary>
/// The part of the ONNX Runtime C API function table (struct OrtApi in onnxruntime_c_api.h) that this
/// binding uses, read once from the table returned by OrtApiBase::GetApi(ApiVersion).
/// </summary>
/// <remarks>
/// OrtApi is append-only, so an entry's index never changes between releases. Each field below carries
/// the C signature and its zero-based index in the table; the indexes were counted in the header and
/// checked against the order of ONNX Runtime's own C# binding (NativeMethods.shared.cs). Opaque ORT
/// objects are passed as IntPtr, char* as byte* (UTF-8), size_t as nuint.
/// </remarks>
internal sealed unsafe partial class OrtNativeApi
{
    /// <summary>The C API version requested from GetApi: ONNX Runtime 1.30 (1.30 or newer is accepted).</summary>
    public const uint ApiVersion = 30;

    // OrtStatus* CreateStatus(OrtErrorCode code, const char* msg)                                      [0]
    public readonly delegate* unmanaged<OrtErrorCode, byte*, IntPtr> CreateStatus;
    // OrtErrorCode GetErrorCode(const OrtStatus* status)                                               [1]
    public readonly delegate* unmanaged<IntPtr, OrtErrorCode> GetErrorCode;
    // const char* GetErrorMessage(const OrtStatus* status)                                             [2]
    public readonly delegate* unmanaged<IntPtr, byte*> GetErrorMessage;
    // OrtStatus* CreateEnv(OrtLoggingLevel log_severity_level, const char* logid, OrtEnv** out)        [3]
    public readonly delegate* unmanaged<int, byte*, IntPtr*, IntPtr> CreateEnv;
    // OrtStatus* CreateSession(const OrtEnv* env, const ORTCHAR_T* model_path,
    //                          const OrtSessionOptions* options, OrtSession** out)                     [7]
    public readonly delegate* unmanaged<IntPtr, void*, IntPtr, IntPtr*, IntPtr> CreateSession;
    // OrtStatus* Run(OrtSession* session, const OrtRunOptions* run_options,
    //                const char* const* input_names, const OrtValue* const* inputs, size_t input_len,
    //                const char* const* output_names, size_t output_names_len, OrtValue** outputs)     [9]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr*, nuint, byte**, nuint, IntPtr*, IntPtr> Run;
    // OrtStatus* CreateSessionOptions(OrtSessionOptions** options)                                     [10]
    public readonly delegate* unmanaged<IntPtr*, IntPtr> CreateSessionOptions;
    // OrtStatus* SetSessionGraphOptimizationLevel(OrtSessionOptions* options,
    //                                             GraphOptimizationLevel graph_optimization_level)     [23]
    public readonly delegate* unmanaged<IntPtr, int, IntPtr> SetSessionGraphOptimizationLevel;
    // OrtStatus* SetIntraOpNumThreads(OrtSessionOptions* options, int intra_op_num_threads)            [24]
    public readonly delegate* unmanaged<IntPtr, int, IntPtr> SetIntraOpNumThreads;
    // OrtStatus* SetInterOpNumThreads(OrtSessionOptions* options, int inter_op_num_threads)            [25]
    public readonly delegate* unmanaged<IntPtr, int, IntPtr> SetInterOpNumThreads;
    // OrtStatus* SessionGetInputCount(const OrtSession* session, size_t* out)                          [30]
    public readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> SessionGetInputCount;
    // OrtStatus* SessionGetOutputCount(const OrtSession* session, size_t* out)                         [31]
    public readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> SessionGetOutputCount;
    // OrtStatus* SessionGetInputTypeInfo(const OrtSession* session, size_t index, OrtTypeInfo** type_info)  [33]
    public readonly delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr> SessionGetInputTypeInfo;
    // OrtStatus* SessionGetOutputTypeInfo(const OrtSession* session, size_t index, OrtTypeInfo** type_info) [34]
    public readonly delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr> SessionGetOutputTypeInfo;
    // OrtStatus* SessionGetInputName(const OrtSession* session, size_t index, OrtAllocator* allocator, char** value)  [36]
    public readonly delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr> SessionGetInputName;
    // OrtStatus* SessionGetOutputName(const OrtSession* session, size_t index, OrtAllocator* allocator, char** value) [37]
    public readonly delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr> SessionGetOutputName;
    // OrtStatus* CreateTensorWithDataAsOrtValue(const OrtMemoryInfo* info, void* p_data, size_t p_data_len,
    //                                           const int64_t* shape, size_t shape_len,
    //                                           ONNXTensorElementDataType type, OrtValue** out)        [49]
    public readonly delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, OrtElementType, IntPtr*, IntPtr> CreateTensorWithDataAsOrtValue;
    // OrtStatus* GetTensorMutableData(OrtValue* value, void** out)                                     [51]
    public readonly delegate* unmanaged<IntPtr, void**, IntPtr> GetTensorMutableData;
    // OrtStatus* CastTypeInfoToTensorInfo(const OrtTypeInfo* type_info,
    //                                     const OrtTensorTypeAndShapeInfo** out)   (out not owned)    [55]
    public readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr> CastTypeInfoToTensorInfo;
    // OrtStatus* GetTensorElementType(const OrtTensorTypeAndShapeInfo* info, ONNXTensorElementDataType* out)  [60]
    public readonly delegate* unmanaged<IntPtr, OrtElementType*, IntPtr> GetTensorElementType;
    // OrtStatus* GetDimensionsCount(const OrtTensorTypeAndShapeInfo* info, size_t* out)                [61]
    public readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> GetDimensionsCount;
    // OrtStatus* GetDimensions(const OrtTensorTypeAndShapeInfo* info, int64_t* dim_values, size_t dim_values_length)  [62]
    public readonly delegate* unmanaged<IntPtr, long*, nuint, IntPtr> GetDimensions;
    // OrtStatus* GetTensorShapeElementCount(const OrtTensorTypeAndShapeInfo* info, size_t* out)        [64]
    public readonly delegate* unmanaged<IntPtr, nuint*, IntPtr> GetTensorShapeElementCount;
    // OrtStatus* GetTensorTypeAndShape(const OrtValue* value, OrtTensorTypeAndShapeInfo** out)         [65]
    public readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr> GetTensorTypeAndShape;
    // OrtStatus* CreateCpuMemoryInfo(OrtAllocatorType type, OrtMemType mem_type, OrtMemoryInfo** out)  [69]
    public readonly delegate* unmanaged<int, int, IntPtr*, IntPtr> CreateCpuMemoryInfo;
    // OrtStatus* AllocatorFree(OrtAllocator* ort_allocator, void* p)                                   [76]
    public readonly delegate* unmanaged<IntPtr, void*, IntPtr> AllocatorFree;
    // OrtStatus* GetAllocatorWithDefaultOptions(OrtAllocator** out)   (out must not be freed)          [78]
    public readonly delegate* unmanaged<IntPtr*, IntPtr> GetAllocatorWithDefaultOptions;
    // void ReleaseEnv(OrtEnv* input)                                                                   [92]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseEnv;
    // void ReleaseStatus(OrtStatus* input)                                                             [93]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseStatus;
    // void ReleaseMemoryInfo(OrtMemoryInfo* input)                                                     [94]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseMemoryInfo;
    // void ReleaseSession(OrtSession* input)                                                           [95]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseSession;
    // void ReleaseValue(OrtValue* input)                                                               [96]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseValue;
    // void ReleaseTypeInfo(OrtTypeInfo* input)                                                         [98]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseTypeInfo;
    // void ReleaseTensorTypeAndShapeInfo(OrtTensorTypeAndShapeInfo* input)                             [99]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseTensorTypeAndShapeInfo;
    // void ReleaseSessionOptions(OrtSessionOptions* input)                                             [100]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseSessionOptions;
    // OrtStatus* SessionGetModelMetadata(const OrtSession* session, OrtModelMetadata** out)            [111]
    public readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr> SessionGetModelMetadata;
    // OrtStatus* ModelMetadataGetProducerName(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)  [112]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr> ModelMetadataGetProducerName;
    // OrtStatus* ModelMetadataGetGraphName(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)     [113]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr> ModelMetadataGetGraphName;
    // OrtStatus* ModelMetadataGetDomain(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)        [114]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr> ModelMetadataGetDomain;
    // OrtStatus* ModelMetadataGetDescription(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)   [115]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr> ModelMetadataGetDescription;
    // OrtStatus* ModelMetadataLookupCustomMetadataMap(const OrtModelMetadata* model_metadata, OrtAllocator* allocator,
    //                                                 const char* key, char** value)   (value null if absent)  [116]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte*, byte**, IntPtr> ModelMetadataLookupCustomMetadataMap;
    // OrtStatus* ModelMetadataGetVersion(const OrtModelMetadata* model_metadata, int64_t* value)       [117]
    public readonly delegate* unmanaged<IntPtr, long*, IntPtr> ModelMetadataGetVersion;
    // void ReleaseModelMetadata(OrtModelMetadata* input)                                               [118]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseModelMetadata;
    // OrtStatus* ModelMetadataGetCustomMetadataMapKeys(const OrtModelMetadata* model_metadata, OrtAllocator* allocator,
    //                                                  char*** keys, int64_t* num_keys)                 [123]
    public readonly delegate* unmanaged<IntPtr, IntPtr, byte***, long*, IntPtr> ModelMetadataGetCustomMetadataMapKeys;
    // OrtStatus* GetAvailableProviders(char*** out_ptr, int* provider_length)                          [125]
    public readonly delegate* unmanaged<byte***, int*, IntPtr> GetAvailableProviders;
    // OrtStatus* ReleaseAvailableProviders(char** ptr, int providers_length)                           [126]
    public readonly delegate* unmanaged<byte**, int, IntPtr> ReleaseAvailableProviders;
    // OrtStatus* SessionOptionsAppendExecutionProvider_CUDA_V2(OrtSessionOptions* options,
    //                                                          const OrtCUDAProviderOptionsV2* cuda_options)  [204]
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr> SessionOptionsAppendExecutionProvider_CUDA_V2;
    // OrtStatus* CreateCUDAProviderOptions(OrtCUDAProviderOptionsV2** out)                             [205]
    public readonly delegate* unmanaged<IntPtr*, IntPtr> CreateCUDAProviderOptions;
    // OrtStatus* UpdateCUDAProviderOptions(OrtCUDAProviderOptionsV2* cuda_options,
    //                                      const char* const* provider_options_keys,
    //                                      const char* const* provider_options_values, size_t num_keys)  [206]
    public readonly delegate* unmanaged<IntPtr, byte**, byte**, nuint, IntPtr> UpdateCUDAProviderOptions;
    // void ReleaseCUDAProviderOptions(OrtCUDAProviderOptionsV2* input)                                 [208]
    public readonly delegate* unmanaged<IntPtr, void> ReleaseCUDAProviderOptions;

    /// <summary>Reads the entries above from the OrtApi table at <paramref name="apiTable"/>.</summary>
    public OrtNativeApi(IntPtr apiTable)
    {
        if (apiTable == IntPtr.Zero) throw new ArgumentNullException(nameof(apiTable));
        var t = (IntPtr*)apiTable;
        CreateStatus = (delegate* unmanaged<OrtErrorCode, byte*, IntPtr>)t[0];
        GetErrorCode = (delegate* unmanaged<IntPtr, OrtErrorCode>)t[1];
        GetErrorMessage = (delegate* unmanaged<IntPtr, byte*>)t[2];
        CreateEnv = (delegate* unmanaged<int, byte*, IntPtr*, IntPtr>)t[3];
        CreateSession = (delegate* unmanaged<IntPtr, void*, IntPtr, IntPtr*, IntPtr>)t[7];
        Run = (delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr*, nuint, byte**, nuint, IntPtr*, IntPtr>)t[9];
        CreateSessionOptions = (delegate* unmanaged<IntPtr*, IntPtr>)t[10];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<IntPtr, int, IntPtr>)t[23];
        SetIntraOpNumThreads = (delegate* unmanaged<IntPtr, int, IntPtr>)t[24];
        SetInterOpNumThreads = (delegate* unmanaged<IntPtr, int, IntPtr>)t[25];
        SessionGetInputCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[30];
        SessionGetOutputCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[31];
        SessionGetInputTypeInfo = (delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)t[33];
        SessionGetOutputTypeInfo = (delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)t[34];
        SessionGetInputName = (delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr>)t[36];
        SessionGetOutputName = (delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr>)t[37];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, OrtElementType, IntPtr*, IntPtr>)t[49];
        GetTensorMutableData = (delegate* unmanaged<IntPtr, void**, IntPtr>)t[51];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)t[55];
        GetTensorElementType = (delegate* unmanaged<IntPtr, OrtElementType*, IntPtr>)t[60];
        GetDimensionsCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[61];
        GetDimensions = (delegate* unmanaged<IntPtr, long*, nuint, IntPtr>)t[62];
        GetTensorShapeElementCount = (delegate* unmanaged<IntPtr, nuint*, IntPtr>)t[64];
        GetTensorTypeAndShape = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)t[65];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, IntPtr*, IntPtr>)t[69];
        AllocatorFree = (delegate* unmanaged<IntPtr, void*, IntPtr>)t[76];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<IntPtr*, IntPtr>)t[78];
        ReleaseEnv = (delegate* unmanaged<IntPtr, void>)t[92];
        ReleaseStatus = (delegate* unmanaged<IntPtr, void>)t[93];
        ReleaseMemoryInfo = (delegate* unmanaged<IntPtr, void>)t[94];
        ReleaseSession = (delegate* unmanaged<IntPtr, void>)t[95];
        ReleaseValue = (delegate* unmanaged<IntPtr, void>)t[96];
        ReleaseTypeInfo = (delegate* unmanaged<IntPtr, void>)t[98];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<IntPtr, void>)t[99];
        ReleaseSessionOptions = (delegate* unmanaged<IntPtr, void>)t[100];
        SessionGetModelMetadata = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)t[111];
        ModelMetadataGetProducerName = (delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr>)t[112];
        ModelMetadataGetGraphName = (delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr>)t[113];
        ModelMetadataGetDomain = (delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr>)t[114];
        ModelMetadataGetDescription = (delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr>)t[115];
        ModelMetadataLookupCustomMetadataMap = (delegate* unmanaged<IntPtr, IntPtr, byte*, byte**, IntPtr>)t[116];
        ModelMetadataGetVersion = (delegate* unmanaged<IntPtr, long*, IntPtr>)t[117];
        ReleaseModelMetadata = (delegate* unmanaged<IntPtr, void>)t[118];
        ModelMetadataGetCustomMetadataMapKeys = (delegate* unmanaged<IntPtr, IntPtr, byte***, long*, IntPtr>)t[123];
        GetAvailableProviders = (delegate* unmanaged<byte***, int*, IntPtr>)t[125];
        ReleaseAvailableProviders = (delegate* unmanaged<byte**, int, IntPtr>)t[126];
        SessionOptionsAppendExecutionProvider_CUDA_V2 = (delegate* unmanaged<IntPtr, IntPtr, IntPtr>)t[204];
        CreateCUDAProviderOptions = (delegate* unmanaged<IntPtr*, IntPtr>)t[205];
        UpdateCUDAProviderOptions = (delegate* unmanaged<IntPtr, byte**, byte**, nuint, IntPtr>)t[206];
        ReleaseCUDAProviderOptions = (delegate* unmanaged<IntPtr, void>)t[208];

        SelfCheck();
        IntPtr allocator;
        Check(GetAllocatorWithDefaultOptions(&allocator));
        DefaultAllocator = allocator;
    }

    /// <summary>ORT's default CPU allocator (never freed); strings ORT allocates with it are freed with it.</summary>
    public IntPtr DefaultAllocator { get; }
}
