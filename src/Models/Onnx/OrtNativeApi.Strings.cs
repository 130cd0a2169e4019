using System.Runtime.InteropServices;

namespace KeypointService.Models.Onnx;

internal sealed unsafe partial class OrtNativeApi
{
    /// <summary>Copies a UTF-8 string that ORT allocated with the default allocator, then frees it there.</summary>
    public string TakeAllocatedString(byte* value)
    {
        if (value == null) return "";
        try
        {
            return Marshal.PtrToStringUTF8((IntPtr)value) ?? "";
        }
        finally
        {
            FreeAllocated(value);
        }
    }

    /// <summary>Frees memory that ORT allocated with the default allocator.</summary>
    public void FreeAllocated(void* p)
    {
        if (p != null) Check(AllocatorFree(DefaultAllocator, p));
    }
}

/// <summary>
/// Null-terminated UTF-8 copies of strings in native memory, and the char* array pointing at them,
/// for the C API's const char* const* parameters. Owns the memory; free it with Dispose.
/// </summary>
internal sealed unsafe class Utf8StringArray : IDisposable
{
    private byte** _items;
    private readonly int _count;

    public Utf8StringArray(IReadOnlyList<string> values)
    {
        _count = values.Count;
        _items = (byte**)NativeMemory.AllocZeroed((nuint)Math.Max(1, _count), (nuint)sizeof(byte*));
        try
        {
            for (var i = 0; i < _count; i++) _items[i] = Utf8.Allocate(values[i]);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public byte** Pointer => _items != null ? _items : throw new ObjectDisposedException(nameof(Utf8StringArray));
    public int Count => _count;

    public void Dispose()
    {
        if (_items == null) return;
        for (var i = 0; i < _count; i++) NativeMemory.Free(_items[i]);
        NativeMemory.Free(_items);
        _items = null;
    }
}

/// <summary>UTF-8 marshalling of strings passed to ORT.</summary>
internal static unsafe class Utf8
{
    /// <summary>A null-terminated UTF-8 copy for use with <c>fixed</c>; rejects embedded NULs.</summary>
    public static byte[] Terminated(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0')) throw new ArgumentException($"String contains a NUL character: '{value.Replace("\0", "\\0")}'", nameof(value));
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(value) + 1];
        System.Text.Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    /// <summary>A null-terminated UTF-8 copy in native memory; free it with NativeMemory.Free.</summary>
    public static byte* Allocate(string value)
    {
        var bytes = Terminated(value);
        var p = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        return p;
    }
}
