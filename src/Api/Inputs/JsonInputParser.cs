using System.Text.Json;
using KeypointService.Models.Inputs;

namespace KeypointService.Api.Inputs;

/// <summary>
/// Parses the JSON input forms ({"data"}, {"image"}, {"data_b64", "width", "height"}) element by element,
/// so that every error names the exact place that is wrong.
/// </summary>
public static class JsonInputParser
{
    private static readonly HashSet<string> KnownProperties = ["data", "image", "data_b64", "width", "height", "include", "map_format"];

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

    /// <summary>Reads one input object; <paramref name="path"/> prefixes error messages (e.g. "items[3]").</summary>
    public static (InputMap Map, OutputSelection Outputs) ReadInput(JsonElement element, string path, OutputSelection querySelection)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw RequestProblemException.BadInput($"{path}: expected a JSON object, got {element.ValueKind.ToString().ToLowerInvariant()}");
        foreach (var property in element.EnumerateObject())
            if (!KnownProperties.Contains(property.Name))
                throw RequestProblemException.BadInput($"{path}: unknown property '{property.Name}' (expected one of: {string.Join(", ", KnownProperties)})");

        var given = new[] { "data", "image", "data_b64" }.Where(p => element.TryGetProperty(p, out _)).ToArray();
        if (given.Length != 1)
            throw RequestProblemException.BadInput(given.Length == 0
                ? $"{path}: give one of 'data' (rows of numbers), 'image' (base64 PNG/JPEG) or 'data_b64' with 'width' and 'height'"
                : $"{path}: give only one of {string.Join(", ", given.Select(g => $"'{g}'"))}");

        var map = Decode(given[0], element, path);
        var outputs = ReadOutputs(element, path, querySelection);
        return (map, outputs);
    }

    private static InputMap Decode(string kind, JsonElement element, string path)
    {
        try
        {
            return kind switch
            {
                "data" => ReadRows(element.GetProperty("data"), $"{path}.data"),
                "image" => InputDecoders.DecodeImage(ReadBase64(element.GetProperty("image"), $"{path}.image")),
                _ => ReadRawFloats(element, path),
            };
        }
        catch (InputFormatException e)
        {
            throw RequestProblemException.BadInput($"{path}.{kind}: {e.Message}");
        }
    }

    private static InputMap ReadRows(JsonElement data, string path)
    {
        if (data.ValueKind != JsonValueKind.Array)
            throw RequestProblemException.BadInput($"{path}: expected an array of rows");
        var rows = new List<IReadOnlyList<double>>(data.GetArrayLength());
        var r = 0;
        foreach (var row in data.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw RequestProblemException.BadInput($"{path}[{r}]: expected an array of numbers, got {row.ValueKind.ToString().ToLowerInvariant()}");
            var values = new double[row.GetArrayLength()];
            var c = 0;
            foreach (var cell in row.EnumerateArray())
            {
                if (cell.ValueKind != JsonValueKind.Number || !cell.TryGetDouble(out var value) || !double.IsFinite(value) || Math.Abs(value) > float.MaxValue)
                    throw RequestProblemException.BadInput($"{path}[{r}][{c}]: expected a finite number, got {cell.GetRawText()}");
                values[c++] = value;
            }
            if (r > 0 && values.Length != rows[0].Count)
                throw RequestProblemException.BadInput($"{path}[{r}]: row has {values.Length} values, expected {rows[0].Count} (the length of row 0)");
            rows.Add(values);
            r++;
        }
        return InputDecoders.FromRows(rows);
    }

    private static InputMap ReadRawFloats(JsonElement element, string path)
    {
        var bytes = ReadBase64(element.GetProperty("data_b64"), $"{path}.data_b64");
        var width = ReadDimension(element, "width", path);
        var height = ReadDimension(element, "height", path);
        return InputDecoders.ParseRawFloat32(bytes, width, height);
    }

    private static int ReadDimension(JsonElement element, string name, string path)
    {
        if (!element.TryGetProperty(name, out var value))
            throw RequestProblemException.BadInput($"{path}: 'data_b64' needs '{name}'");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n <= 0)
            throw RequestProblemException.BadInput($"{path}.{name}: expected a positive integer, got {value.GetRawText()}");
        return n;
    }

    private static byte[] ReadBase64(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.String)
            throw RequestProblemException.BadInput($"{path}: expected a base64 string");
        try { return value.GetBytesFromBase64(); }
        catch (FormatException) { throw RequestProblemException.BadInput($"{path}: not valid base64"); }
    }

    private static OutputSelection ReadOutputs(JsonElement element, string path, OutputSelection querySelection)
    {
        var include = new List<string?>();
        if (element.TryGetProperty("include", out var inc))
        {
            if (inc.ValueKind != JsonValueKind.Array || inc.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw RequestProblemException.BadInput($"{path}.include: expected an array of strings");
            include.AddRange(inc.EnumerateArray().Select(e => e.GetString()));
        }
        string? format = null;
        if (element.TryGetProperty("map_format", out var f))
        {
            if (f.ValueKind != JsonValueKind.String) throw RequestProblemException.BadInput($"{path}.map_format: expected a string");
            format = f.GetString();
        }
        return OutputSelection.Parse(include, format, querySelection);
    }
}
