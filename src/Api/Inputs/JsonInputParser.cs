using System.Text.Json;
using KeypointService.Api.Contracts;
using KeypointService.Models.Inputs;

namespace KeypointService.Api.Inputs;

/// <summary>
/// Reads the JSON input body (<see cref="PredictRequest"/>: {"data"}, {"image"} or {"data_b64", "width",
/// "height"}) element by element, so that every error names the exact place that is wrong, then decodes
/// it into an input map. JSON types are checked here; sizes, raggedness and values are checked once,
/// by <see cref="InputDecoders"/>.
/// </summary>
public static class JsonInputParser
{
    /// <summary>The body's property names, from the contract (snake_case on the wire).</summary>
    private static readonly string[] KnownProperties = typeof(PredictRequest).GetProperties()
        .Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)).ToArray();

    public static JsonDocument ParseDocument(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw RequestProblemException.BadInput($"malformed JSON: {e.Message}");
        }
    }

    /// <summary>Reads and decodes one input object; <paramref name="path"/> prefixes error messages (e.g. "items[3]").</summary>
    public static (InputMap Map, OutputSelection Outputs) ReadInput(JsonElement element, string path, OutputSelection querySelection)
    {
        var request = ReadRequest(element, path);
        return (Decode(request, path), OutputSelection.Parse(request.Include ?? [], request.MapFormat, querySelection));
    }

    /// <summary>The body as its contract, with every JSON type checked.</summary>
    private static PredictRequest ReadRequest(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw RequestProblemException.BadInput($"{path}: expected a JSON object, got {Kind(element)}");
        foreach (var property in element.EnumerateObject())
            if (!KnownProperties.Contains(property.Name))
                throw RequestProblemException.BadInput($"{path}: unknown property '{property.Name}' (expected one of: {string.Join(", ", KnownProperties)})");

        var given = new[] { "data", "image", "data_b64" }.Where(p => element.TryGetProperty(p, out _)).ToArray();
        if (given.Length != 1)
            throw RequestProblemException.BadInput(given.Length == 0
                ? $"{path}: give one of 'data' (rows of numbers), 'image' (base64 PNG/JPEG) or 'data_b64' with 'width' and 'height'"
                : $"{path}: give only one of {string.Join(", ", given.Select(g => $"'{g}'"))}");

        return new PredictRequest
        {
            Data = element.TryGetProperty("data", out var data) ? ReadRows(data, $"{path}.data") : null,
            Image = element.TryGetProperty("image", out var image) ? ReadString(image, $"{path}.image", "a base64 string") : null,
            DataB64 = element.TryGetProperty("data_b64", out var raw) ? ReadString(raw, $"{path}.data_b64", "a base64 string") : null,
            Width = ReadDimension(element, "width", path),
            Height = ReadDimension(element, "height", path),
            Include = element.TryGetProperty("include", out var include) ? ReadStrings(include, $"{path}.include") : null,
            MapFormat = element.TryGetProperty("map_format", out var format) ? ReadString(format, $"{path}.map_format", "a string") : null,
        };
    }

    /// <summary>Decodes a checked request; decoder errors are prefixed with the input's path.</summary>
    private static InputMap Decode(PredictRequest request, string path)
    {
        try
        {
            if (request.Data is { } rows) return InputDecoders.FromRows(rows, $"{path}.data"); // names the element itself
            if (request.Image is { } image) return InputDecoders.DecodeImage(FromBase64(image, $"{path}.image"));
            var bytes = FromBase64(request.DataB64!, $"{path}.data_b64");
            if (request.Width is not { } width || request.Height is not { } height)
                throw RequestProblemException.BadInput($"{path}: 'data_b64' needs '{(request.Width is null ? "width" : "height")}'");
            return InputDecoders.ParseRawFloat32(bytes, width, height);
        }
        catch (InputFormatException e)
        {
            if (request.Data is not null) throw RequestProblemException.BadInput(e.Message);
            throw RequestProblemException.BadInput($"{path}.{(request.Image is not null ? "image" : "data_b64")}: {e.Message}");
        }
    }

    // Rows of JSON numbers; their count, lengths and range are InputDecoders.FromRows' to check.
    private static double[][] ReadRows(JsonElement data, string path)
    {
        if (data.ValueKind != JsonValueKind.Array)
            throw RequestProblemException.BadInput($"{path}: expected an array of rows, got {Kind(data)}");
        var rows = new double[data.GetArrayLength()][];
        var r = 0;
        foreach (var row in data.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw RequestProblemException.BadInput($"{path}[{r}]: expected an array of numbers, got {Kind(row)}");
            var values = rows[r] = new double[row.GetArrayLength()];
            var c = 0;
            foreach (var cell in row.EnumerateArray())
            {
                if (cell.ValueKind != JsonValueKind.Number || !cell.TryGetDouble(out values[c]))
                    throw RequestProblemException.BadInput($"{path}[{r}][{c}]: expected a number, got {cell.GetRawText()}");
                c++;
            }
            r++;
        }
        return rows;
    }

    private static int? ReadDimension(JsonElement element, string name, string path)
    {
        if (!element.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n <= 0)
            throw RequestProblemException.BadInput($"{path}.{name}: expected a positive integer, got {value.GetRawText()}");
        return n;
    }

    private static string ReadString(JsonElement value, string path, string expected) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw RequestProblemException.BadInput($"{path}: expected {expected}, got {Kind(value)}");

    private static string[] ReadStrings(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw RequestProblemException.BadInput($"{path}: expected an array of strings");
        return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    private static byte[] FromBase64(string text, string path)
    {
        try { return Convert.FromBase64String(text); }
        catch (FormatException) { throw RequestProblemException.BadInput($"{path}: not valid base64"); }
    }

    private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();
}
