using System.Text.Json;
using KeypointService.Models.Inputs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace KeypointService.Api.Inputs;

/// <summary>Configuration section "Requests".</summary>
public sealed class RequestOptions
{
    public const string Section = "Requests";
    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;
}

/// <summary>One decoded input: the map, the outputs asked for, and the media type it came as.</summary>
public sealed record ReadInput(InputMap Map, OutputSelection Outputs, string MediaType);

/// <summary>
/// Turns a predict request of any supported media type into an input map: JSON, PNG, JPEG, CSV,
/// .npy, raw float32 and multipart/form-data with one file of those types.
/// </summary>
public sealed class RequestBodyReader(IOptions<RequestOptions> options)
{
    public static readonly string[] SupportedMediaTypes =
        ["application/json", "image/png", "image/jpeg", "text/csv", "application/x-npy", "application/octet-stream", "multipart/form-data"];

    private readonly long _limit = options.Value.MaxBodyBytes;

    public long MaxBodyBytes => _limit;

    /// <summary>
    /// Reads one input of any supported media type. The outputs come from <paramref name="outputs"/>,
    /// overridden by a JSON body's own include/map_format; <paramref name="rawSize"/> sizes raw float32 bodies.
    /// </summary>
    public async Task<ReadInput> ReadSingleAsync(HttpRequest request, OutputQuery outputs, RawSizeQuery rawSize, CancellationToken cancellation)
    {
        var query = outputs.ToSelection();
        var mediaType = MediaTypeOf(request.ContentType);
        if (mediaType == "multipart/form-data")
        {
            var (fileType, map) = await ReadMultipartAsync(request, rawSize, cancellation);
            return new ReadInput(map, query, fileType);
        }

        var body = await ReadBodyAsync(request, cancellation);
        if (IsJson(mediaType))
        {
            using var document = JsonInputParser.ParseDocument(body);
            var (map, selection) = JsonInputParser.ReadInput(document.RootElement, "body", query);
            return new ReadInput(map, selection, "application/json");
        }
        return new ReadInput(DecodeBinary(mediaType, body.Span, rawSize), query, mediaType);
    }

    private static bool IsJson(string mediaType) => mediaType is "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    public async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancellation)
    {
        var mediaType = MediaTypeOf(request.ContentType);
        if (!IsJson(mediaType))
            throw new RequestProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"predict-batch takes application/json, got '{(mediaType.Length == 0 ? "no Content-Type" : mediaType)}'");
        return JsonInputParser.ParseDocument(await ReadBodyAsync(request, cancellation));
    }

    private static string MediaTypeOf(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
            throw new RequestProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"missing Content-Type; supported: {string.Join(", ", SupportedMediaTypes)}");
        return MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType.HasValue
            ? parsed.MediaType.Value!.ToLowerInvariant()
            : throw new RequestProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"unparseable Content-Type '{contentType}'");
    }

    private static InputMap DecodeBinary(string mediaType, ReadOnlySpan<byte> body, RawSizeQuery rawSize)
    {
        try
        {
            return mediaType switch
            {
                "image/png" => InputDecoders.DecodePng(body),
                "image/jpeg" or "image/jpg" => InputDecoders.DecodeJpeg(body),
                "text/csv" or "text/plain" => InputDecoders.ParseCsv(body),
                "application/x-npy" or "application/npy" => InputDecoders.ParseNpy(body),
                "application/octet-stream" => ParseRaw(body, rawSize.Require()),
                _ => throw new RequestProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                    $"'{mediaType}' is not supported; use one of: {string.Join(", ", SupportedMediaTypes)}"),
            };
        }
        catch (InputFormatException e)
        {
            throw RequestProblemException.BadInput($"{mediaType} body: {e.Message}");
        }
    }

    private static InputMap ParseRaw(ReadOnlySpan<byte> body, (int Width, int Height) size) =>
        InputDecoders.ParseRawFloat32(body, size.Width, size.Height);

    private async Task<(string FileType, InputMap Map)> ReadMultipartAsync(HttpRequest request, RawSizeQuery rawSize, CancellationToken cancellation)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = _limit, ValueCountLimit = 16 }, cancellation);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooLarge();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(); // Kestrel's own body limit: a BadHttpRequestException is an IOException too
        }
        catch (InvalidDataException e)
        {
            throw RequestProblemException.BadInput($"malformed multipart body: {e.Message}");
        }
        catch (IOException e)
        {
            throw RequestProblemException.BadInput($"malformed multipart body: {e.Message}");
        }
        if (form.Files.Count != 1)
            throw RequestProblemException.BadInput($"multipart/form-data must carry exactly one file, got {form.Files.Count}");
        var file = form.Files[0];
        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream()) await stream.ReadExactlyAsync(bytes, cancellation);
        var fileType = FileMediaType(file);
        if (fileType == "application/json")
        {
            using var document = JsonInputParser.ParseDocument(bytes);
            return (fileType, JsonInputParser.ReadInput(document.RootElement, $"file '{file.FileName}'", OutputSelection.Default).Map);
        }
        return (fileType, DecodeBinary(fileType, bytes, rawSize));
    }

    // The part's own Content-Type, or its file extension when the client sent a generic one.
    private static string FileMediaType(IFormFile file)
    {
        var declared = string.IsNullOrEmpty(file.ContentType) ? "application/octet-stream" : MediaTypeOf(file.ContentType);
        if (declared != "application/octet-stream") return declared;
        return Path.GetExtension(file.FileName).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".csv" or ".txt" => "text/csv",
            ".npy" => "application/x-npy",
            ".json" => "application/json",
            _ => declared,
        };
    }

    /// <summary>The whole body, at most Requests:MaxBodyBytes (413 beyond it, 400 when empty).</summary>
    public async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellation)
    {
        if (request.ContentLength > _limit) throw TooLarge();
        var buffer = new MemoryStream(request.ContentLength is { } n ? (int)n : 64 * 1024);
        var chunk = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellation)) > 0)
            {
                if (buffer.Length + read > _limit) throw TooLarge();
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }
        if (buffer.Length == 0) throw RequestProblemException.BadInput("the request body is empty");
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private RequestProblemException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"the request body exceeds the limit of {_limit} bytes (Requests:MaxBodyBytes)");
}
