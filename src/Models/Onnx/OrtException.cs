namespace KeypointService.Models.Onnx;

/// <summary>ONNX Runtime's error codes (enum OrtErrorCode in onnxruntime_c_api.h).</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
    ModelLoadCanceled = 12,
    ModelRequiresCompilation = 13,
    NotFound = 14,
    DeviceReset = 15,
}

/// <summary>An ONNX Runtime call failed. <see cref="OrtMessage"/> is ORT's own message, unchanged.</summary>
public class OrtException : Exception
{
    public OrtException(OrtErrorCode code, string ortMessage)
        : this(code, ortMessage, context: null)
    {
    }

    internal OrtException(OrtErrorCode code, string ortMessage, string? context)
        : base(context is null ? ortMessage.TrimEnd() : $"{context}: {ortMessage.TrimEnd()}")
    {
        Code = code;
        OrtMessage = ortMessage;
    }

    /// <summary>ORT's error code.</summary>
    public OrtErrorCode Code { get; }

    /// <summary>ORT's message verbatim; <see cref="Exception.Message"/> is the same, after any context this binding adds.</summary>
    public string OrtMessage { get; }
}

/// <summary>
/// The ONNX Runtime native library is missing, cannot be loaded, is not ONNX Runtime, or is too old.
/// The message names the path tried and says how to fix it.
/// </summary>
public sealed class OrtLibraryException : Exception
{
    public OrtLibraryException(string message)
        : base(message)
    {
    }

    public OrtLibraryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The library path that was tried, when one was resolved.</summary>
    public string? LibraryPath { get; init; }
}
