using System.Text.Json;

namespace KeypointService.Api.Apis.Oip;

// Open Inference Protocol v2 messages, shared by the REST and gRPC front ends. The REST ones are the
// JSON objects of the specification (snake_case through the service's JSON options).

public sealed record OipError(string Error);

public sealed record OipServerLive(bool Live);

public sealed record OipServerReady(bool Ready);

public sealed record OipModelReady(string Name, bool Ready);

public sealed record OipServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

public sealed record OipTensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

/// <summary>
/// $metadata_model_response. <see cref="Properties"/> is the gRPC message's optional properties map,
/// also sent over REST: it documents the input's accepted forms, the pre-processing and each output.
/// </summary>
public sealed record OipModelMetadata(
    string Name,
    IReadOnlyList<string> Versions,
    string Platform,
    IReadOnlyList<OipTensorMetadata> Inputs,
    IReadOnlyList<OipTensorMetadata> Outputs,
    IReadOnlyDictionary<string, string> Properties);

/// <summary>Where an input tensor's values are, before decoding (one decoder per form: <see cref="OipTensorCodec"/>).</summary>
public abstract record TensorData;

/// <summary>REST "data": a JSON array, flat or nested.</summary>
public sealed record JsonTensorData(JsonElement Data) : TensorData;

/// <summary>Little-endian, row-major bytes: the binary tensor extension's tail or gRPC raw_input_contents.</summary>
public sealed record RawTensorData(ReadOnlyMemory<byte> Bytes) : TensorData;

/// <summary>gRPC InferTensorContents (the typed repeated fields).</summary>
public sealed record GrpcTensorData(Inference.InferTensorContents Contents) : TensorData;

/// <summary>An input tensor as the request states it; the values are decoded once shape and type are checked.</summary>
public sealed record OipInput(string Name, string Datatype, long[] Shape, TensorData Data);

/// <summary>A requested output; <paramref name="Binary"/> is the binary extension's "binary_data" (REST only).</summary>
public sealed record OipRequestedOutput(string Name, bool? Binary = null);

public sealed record OipInferRequest(
    string ModelName,
    string? ModelVersion,
    string? Id,
    IReadOnlyList<OipInput> Inputs,
    IReadOnlyList<OipRequestedOutput>? Outputs)
{
    /// <summary>The binary extension's request parameter "binary_data_output": outputs without their own "binary_data" come back binary.</summary>
    public bool BinaryByDefault { get; init; }
}

/// <summary>An output tensor: FP32 or INT32, row-major.</summary>
public sealed record OipOutput(string Name, OipDataType Datatype, long[] Shape, float[]? Fp32 = null, int[]? Int32 = null)
{
    public static OipOutput Float(string name, long[] shape, float[] data) => new(name, OipDataType.Fp32, shape, Fp32: data);
    public static OipOutput Int(string name, long[] shape, int[] data) => new(name, OipDataType.Int32, shape, Int32: data);
}

public sealed record OipInferResult(string ModelName, string ModelVersion, string? Id, IReadOnlyList<OipOutput> Outputs);

public enum OipErrorKind { BadRequest, NotFound, Unavailable }

/// <summary>
/// A request the protocol answers with an error: REST 400/404/503, gRPC INVALID_ARGUMENT/NOT_FOUND/UNAVAILABLE.
/// An overload carries when to try again: REST's Retry-After, gRPC's <c>grpc-retry-pushback-ms</c> trailer.
/// </summary>
public sealed class OipException(OipErrorKind kind, string message, int? retryAfterSeconds = null) : Exception(message)
{
    public OipErrorKind Kind { get; } = kind;
    public int? RetryAfterSeconds { get; } = retryAfterSeconds;
    public static OipException BadRequest(string message) => new(OipErrorKind.BadRequest, message);
}
