using System.Runtime.InteropServices;
using System.Text;

namespace KeypointService.Models.Onnx;

internal sealed unsafe partial class OrtNativeApi
{
    /// <summary>
    /// The one status check: a null OrtStatus* is success; otherwise reads the code and message,
    /// releases the status and throws <see cref="OrtException"/> carrying ORT's message.
    /// </summary>
    /// <param name="status">The OrtStatus* an API call returned.</param>
    /// <param name="context">Optional text put before ORT's message in the exception message.</param>
    public void Check(IntPtr status, string? context = null)
    {
        if (status == IntPtr.Zero) return;
        OrtErrorCode code;
        string message;
        try
        {
            code = GetErrorCode(status);
            message = Marshal.PtrToStringUTF8((IntPtr)GetErrorMessage(status)) ?? "";
        }
        finally
        {
            ReleaseStatus(status);
        }
        throw new OrtException(code, message, context);
    }

    /// <summary>
    /// Round-trips a status through CreateStatus, GetErrorCode, GetErrorMessage and ReleaseStatus, so that
    /// a table that is not laid out as expected is caught at load time rather than at the first failure.
    /// </summary>
    private void SelfCheck()
    {
        const string probe = "keypointservice: OrtApi self-check";
        var bytes = Encoding.UTF8.GetBytes(probe + "\0");
        IntPtr status;
        fixed (byte* p = bytes) status = CreateStatus(OrtErrorCode.InvalidGraph, p);
        if (status == IntPtr.Zero) throw new InvalidDataException("OrtApi::CreateStatus returned null");
        try
        {
            var code = GetErrorCode(status);
            var message = Marshal.PtrToStringUTF8((IntPtr)GetErrorMessage(status));
            if (code != OrtErrorCode.InvalidGraph || message != probe)
                throw new InvalidDataException($"OrtApi status round-trip returned ({code}, '{message}')");
        }
        finally
        {
            ReleaseStatus(status);
        }
    }
}
