using System.Runtime.InteropServices;

namespace KeypointService.Models.Inputs.Native;

/// <summary>
/// The <c>png_image</c> structure of libpng's simplified API (png.h, libpng 1.6.x;
/// checked against 1.6.39 on x86-64: 104 bytes, <c>width</c> at offset 12, <c>message</c> at 36).
/// It must stay at one address from <c>png_image_begin_read_*</c> until <c>png_image_free</c>
/// (libpng keeps a pointer to it for error reporting), so callers keep it in a local variable.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PngImage
{
    public nint Opaque;             // png_controlp opaque: NULL before use, freed by png_image_free
    public uint Version;            // png_uint_32 version = PNG_IMAGE_VERSION (1)
    public uint Width;              // png_uint_32 width
    public uint Height;             // png_uint_32 height
    public uint Format;             // png_uint_32 format (PNG_FORMAT_*)
    public uint Flags;              // png_uint_32 flags (PNG_IMAGE_FLAG_*)
    public uint ColormapEntries;    // png_uint_32 colormap_entries
    public uint WarningOrError;     // png_uint_32 warning_or_error (PNG_IMAGE_WARNING 1 | PNG_IMAGE_ERROR 2)
    public fixed byte Message[64];  // char message[64], NUL-terminated

    public const uint ImageVersion = 1;       // PNG_IMAGE_VERSION
    public const uint FormatFlagAlpha = 0x01;   // PNG_FORMAT_FLAG_ALPHA
    public const uint FormatFlagColor = 0x02;   // PNG_FORMAT_FLAG_COLOR
    public const uint FormatFlagLinear = 0x04;  // PNG_FORMAT_FLAG_LINEAR (16-bit components)
    public const uint FormatFlagColormap = 0x08; // PNG_FORMAT_FLAG_COLORMAP
    public const uint FormatGray = 0;            // PNG_FORMAT_GRAY
    public const uint FormatLinearY = FormatFlagLinear; // PNG_FORMAT_LINEAR_Y
    public const uint FlagFast = 0x02;           // PNG_IMAGE_FLAG_FAST (write: speed over size)

    /// <summary>The NUL-terminated <c>message</c> field as text ("" when empty).</summary>
    public readonly string MessageText
    {
        get
        {
            fixed (byte* m = Message)
            {
                var span = new ReadOnlySpan<byte>(m, 64);
                int end = span.IndexOf((byte)0);
                return System.Text.Encoding.ASCII.GetString(end < 0 ? span : span[..end]).Trim();
            }
        }
    }
}

/// <summary>P/Invoke declarations of libpng 1.6's simplified API (runtime package libpng16-16).</summary>
internal static unsafe partial class LibPng
{
    public const string Library = "libpng16.so.16";
    public const string Package = "libpng16-16";

    // int png_image_begin_read_from_memory(png_imagep image, png_const_voidp memory, size_t size);
    [LibraryImport(Library, EntryPoint = "png_image_begin_read_from_memory")]
    public static partial int png_image_begin_read_from_memory(PngImage* image, void* memory, nuint size);

    // int png_image_finish_read(png_imagep image, png_const_colorp background, void *buffer,
    //                           png_int_32 row_stride, void *colormap);
    [LibraryImport(Library, EntryPoint = "png_image_finish_read")]
    public static partial int png_image_finish_read(PngImage* image, void* background, void* buffer, int rowStride, void* colormap);

    // void png_image_free(png_imagep image);
    [LibraryImport(Library, EntryPoint = "png_image_free")]
    public static partial void png_image_free(PngImage* image);

    // int png_image_write_to_memory(png_imagep image, void *memory, png_alloc_size_t *memory_bytes,
    //                               int convert_to_8_bit, const void *buffer, png_int_32 row_stride,
    //                               const void *colormap);
    [LibraryImport(Library, EntryPoint = "png_image_write_to_memory")]
    public static partial int png_image_write_to_memory(PngImage* image, void* memory, nuint* memoryBytes, int convertTo8Bit,
        void* buffer, int rowStride, void* colormap);

    // png_uint_32 png_access_version_number(void);  e.g. 10639 for 1.6.39
    [LibraryImport(Library, EntryPoint = "png_access_version_number")]
    public static partial uint png_access_version_number();
}
