using System.Runtime.InteropServices;

namespace KeypointService.Models.Onnx;

/// <summary>Reads a session's inputs, outputs and model metadata, and tensor type/shape info.</summary>
internal static unsafe class OrtSessionMetadata
{
    public static OrtNodeInfo[] ReadInputs(OrtNativeApi api, IntPtr session) =>
        ReadNodes(api, session, api.SessionGetInputCount, api.SessionGetInputName, api.SessionGetInputTypeInfo);

    public static OrtNodeInfo[] ReadOutputs(OrtNativeApi api, IntPtr session) =>
        ReadNodes(api, session, api.SessionGetOutputCount, api.SessionGetOutputName, api.SessionGetOutputTypeInfo);

    private static OrtNodeInfo[] ReadNodes(OrtNativeApi api, IntPtr session,
        delegate* unmanaged<IntPtr, nuint*, IntPtr> getCount,
        delegate* unmanaged<IntPtr, nuint, IntPtr, byte**, IntPtr> getName,
        delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr> getTypeInfo)
    {
        nuint count;
        api.Check(getCount(session, &count));
        var nodes = new OrtNodeInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            api.Check(getName(session, i, api.DefaultAllocator, &name));
            var nodeName = api.TakeAllocatedString(name);

            IntPtr typeInfo;
            api.Check(getTypeInfo(session, i, &typeInfo));
            using var typeInfoHandle = new OrtTypeInfoHandle(api, typeInfo);
            IntPtr tensorInfo; // owned by typeInfo
            api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
            var (elementType, shape) = tensorInfo == IntPtr.Zero ? (OrtElementType.Undefined, Array.Empty<long>()) : ReadTensorInfo(api, tensorInfo);
            nodes[(int)i] = new OrtNodeInfo(nodeName, elementType, shape);
        }
        return nodes;
    }

    /// <summary>Element type and dimensions (-1 where dynamic) of an OrtTensorTypeAndShapeInfo.</summary>
    public static (OrtElementType ElementType, long[] Shape) ReadTensorInfo(OrtNativeApi api, IntPtr tensorInfo)
    {
        OrtElementType elementType;
        api.Check(api.GetTensorElementType(tensorInfo, &elementType));
        nuint rank;
        api.Check(api.GetDimensionsCount(tensorInfo, &rank));
        var shape = new long[(int)rank];
        fixed (long* dims = shape) api.Check(api.GetDimensions(tensorInfo, dims, rank));
        return (elementType, shape);
    }

    public sealed record ModelMetadata(
        string ProducerName, string GraphName, string Domain, string Description, long Version, IReadOnlyDictionary<string, string> Custom);

    public static ModelMetadata ReadModelMetadata(OrtNativeApi api, IntPtr session)
    {
        IntPtr metadata;
        api.Check(api.SessionGetModelMetadata(session, &metadata));
        using var handle = new OrtModelMetadataHandle(api, metadata);
        long version;
        api.Check(api.ModelMetadataGetVersion(metadata, &version));
        return new ModelMetadata(
            ReadString(api, metadata, api.ModelMetadataGetProducerName),
            ReadString(api, metadata, api.ModelMetadataGetGraphName),
            ReadString(api, metadata, api.ModelMetadataGetDomain),
            ReadString(api, metadata, api.ModelMetadataGetDescription),
            version,
            ReadCustomMetadata(api, metadata));
    }

    private static string ReadString(OrtNativeApi api, IntPtr metadata, delegate* unmanaged<IntPtr, IntPtr, byte**, IntPtr> getter)
    {
        byte* value;
        api.Check(getter(metadata, api.DefaultAllocator, &value));
        return api.TakeAllocatedString(value);
    }

    private static Dictionary<string, string> ReadCustomMetadata(OrtNativeApi api, IntPtr metadata)
    {
        byte** keys;
        long count;
        api.Check(api.ModelMetadataGetCustomMetadataMapKeys(metadata, api.DefaultAllocator, &keys, &count));
        var custom = new Dictionary<string, string>(StringComparer.Ordinal);
        if (keys == null) return custom; // null when the map is empty
        try
        {
            for (long i = 0; i < count; i++)
            {
                var key = Marshal.PtrToStringUTF8((IntPtr)keys[i]) ?? "";
                byte* value;
                api.Check(api.ModelMetadataLookupCustomMetadataMap(metadata, api.DefaultAllocator, keys[i], &value));
                custom[key] = api.TakeAllocatedString(value);
            }
        }
        finally
        {
            // The key strings and the array are all allocated with the allocator.
            for (long i = 0; i < count; i++) api.FreeAllocated(keys[i]);
            api.FreeAllocated(keys);
        }
        return custom;
    }
}
