using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace KeypointService.Models.Inputs.Native;

/// <summary>P/Invoke declarations of the TurboJPEG 2.x API of libjpeg-turbo (runtime package libturbojpeg0).</summary>
internal static unsafe partial class TurboJpeg
{
    public const string Library = "libturbojpeg.so.0";
    public const string Package = "libturbojpeg0";

    // enum TJPF
    public const int PixelFormatRgb = 0;   // TJPF_RGB
    public const int PixelFormatGray = 6;  // TJPF_GRAY
    // enum TJCS
    public const int ColorspaceRgb = 0;    // TJCS_RGB
    public const int ColorspaceYCbCr = 1;  // TJCS_YCbCr
    public const int ColorspaceGray = 2;   // TJCS_GRAY
    public const int ColorspaceCmyk = 3;   // TJCS_CMYK
    public const int ColorspaceYcck = 4;   // TJCS_YCCK
    // enum TJSAMP
    public const int Subsampling444 = 0;   // TJSAMP_444
    public const int SubsamplingGray = 3;  // TJSAMP_GRAY
    // flags
    public const int FlagStopOnWarning = 8192; // TJFLAG_STOPONWARNING
    public const int FlagLimitScans = 32768;   // TJFLAG_LIMITSCANS (libjpeg-turbo >= 2.1)

    // tjhandle tjInitDecompress(void);
    [LibraryImport(Library)]
    public static partial nint tjInitDecompress();

    // int tjDecompressHeader3(tjhandle handle, const unsigned char *jpegBuf, unsigned long jpegSize,
    //                         int *width, int *height, int *jpegSubsamp, int *jpegColorspace);
    [LibraryImport(Library)]
    public static partial int tjDecompressHeader3(nint handle, byte* jpegBuf, CULong jpegSize,
        int* width, int* height, int* jpegSubsamp, int* jpegColorspace);

    // int tjDecompress2(tjhandle handle, const unsigned char *jpegBuf, unsigned long jpegSize,
    //                   unsigned char *dstBuf, int width, int pitch, int height, int pixelFormat, int flags);
    [LibraryImport(Library)]
    public static partial int tjDecompress2(nint handle, byte* jpegBuf, CULong jpegSize, byte* dstBuf,
        int width, int pitch, int height, int pixelFormat, int flags);

    // tjhandle tjInitCompress(void);
    [LibraryImport(Library)]
    public static partial nint tjInitCompress();

    // int tjCompress2(tjhandle handle, const unsigned char *srcBuf, int width, int pitch, int height,
    //                 int pixelFormat, unsigned char **jpegBuf, unsigned long *jpegSize,
    //                 int jpegSubsamp, int jpegQual, int flags);
    [LibraryImport(Library)]
    public static partial int tjCompress2(nint handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat,
        byte** jpegBuf, CULong* jpegSize, int jpegSubsamp, int jpegQual, int flags);

    // void tjFree(unsigned char *buffer);
    [LibraryImport(Library)]
    public static partial void tjFree(byte* buffer);

    // int tjDestroy(tjhandle handle);
    [LibraryImport(Library)]
    public static partial int tjDestroy(nint handle);

    // char *tjGetErrorStr2(tjhandle handle);  (handle may be NULL for tjInit* failures)
    [LibraryImport(Library)]
    public static partial byte* tjGetErrorStr2(nint handle);

    public static string ErrorText(nint handle)
    {
        byte* s = tjGetErrorStr2(handle);
        string text = s == null ? "" : Marshal.PtrToStringUTF8((nint)s) ?? "";
        return text.Trim();
    }
}

/// <summary>
/// A small pool of TurboJPEG decompressor handles. A handle is used by one call at a time; a handle
/// whose call failed is destroyed rather than reused, so a decoder left in an error state is never
/// handed to another request.
/// </summary>
internal static class TurboJpegDecompressorPool
{
    private static readonly ConcurrentQueue<nint> Idle = new();
    private static readonly int Capacity = Math.Max(4, Environment.ProcessorCount * 2);
    private static int _idleCount;

    public static nint Rent()
    {
        if (Idle.TryDequeue(out nint handle))
        {
            Interlocked.Decrement(ref _idleCount);
            return handle;
        }
        handle = TurboJpeg.tjInitDecompress();
        if (handle == 0)
            throw new InvalidOperationException("TurboJPEG could not create a decompressor: " + TurboJpeg.ErrorText(0));
        return handle;
    }

    /// <summary>Returns a handle after a successful call, or destroys it when the pool is full.</summary>
    public static void Return(nint handle)
    {
        if (Interlocked.Increment(ref _idleCount) <= Capacity)
        {
            Idle.Enqueue(handle);
            return;
        }
        Interlocked.Decrement(ref _idleCount);
        TurboJpeg.tjDestroy(handle);
    }

    /// <summary>Destroys a handle whose last call failed.</summary>
    public static void Discard(nint handle) => TurboJpeg.tjDestroy(handle);
}
