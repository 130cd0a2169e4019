using System.Runtime.InteropServices;

namespace KeypointService.Models.Serving;

/// <summary>glibc's malloc_trim: gives free pages of every malloc arena back to the OS.</summary>
internal static partial class NativeHeap
{
    private static int s_unavailable;

    /// <summary>Returns false where there is no glibc malloc_trim (another libc, another OS).</summary>
    public static bool Trim()
    {
        if (Volatile.Read(ref s_unavailable) != 0 || !OperatingSystem.IsLinux()) return false;
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref s_unavailable, 1);
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
