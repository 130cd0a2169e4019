using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace KeypointService.Api.Apis.Oip;

/// <summary>
/// The REST body of an inference request and response: the JSON object, and with the binary tensor
/// extension (Triton's extension_binary_data) the JSON header of Inference-Header-Content-Length
/// bytes followed by each binary tensor in order.
/// </summary>
public static class OipRestCodec
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    /// <summary>A response body: JSON only, or JSON header + binary tails (<paramref name="HeaderLength"/> set).</summary>
    public sealed record Body(byte[] Bytes, int? HeaderLength);

    public static OipInferRequest ParseRequest(string model, string? version, ReadOnlyMemory<byte> body, string? headerLengthValue)
    {
        var headerLength = body.Length;
        if (headerLengthValue is not null)
        {
            if (!int.TryParse(headerLengthValue, NumberStyles.None, CultureInfo.InvariantCulture, out headerLength) || headerLength > body.Length)
                throw OipException.BadRequest($"{HeaderLengthHeader} is '{headerLengthValue}'; it must be the JSON header's length in bytes, at most the body's {body.Length}");
            if (headerLength == 0)
                throw OipException.BadRequest($"{HeaderLengthHeader}: 0 (a raw binary request without a JSON header) is not supported: " +
                                              "an image's height and width cannot be deduced from its byte count; send the JSON header with the input's shape");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body[..headerLength]);
        }
        catch (JsonException e)
        {
            throw OipException.BadRequest($"the inference request is not valid JSON{(headerLengthValue is null ? "" : $" (its first {headerLength} bytes, per {HeaderLengthHeader})")}: {e.Message}");
        }
        using (document)
            return Read(model, version, document.RootElement, body[headerLength..]);
    }

    private static OipInferRequest Read(string model, string? version, JsonElement root, ReadOnlyMemory<byte> binary)
    {
        if (root.ValueKind != JsonValueKind.Object) throw OipException.BadRequest("the inference request must be a JSON object");
        var id = root.TryGetProperty("id", out var idElement)
            ? idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : throw OipException.BadRequest("id must be a string")
            : null;
        var binaryOutput = Bool(Parameters(root, "request"), "binary_data_output", "request parameters") ?? false;
        if (!root.TryGetProperty("inputs", out var inputsElement) || inputsElement.ValueKind != JsonValueKind.Array || inputsElement.GetArrayLength() == 0)
            throw OipException.BadRequest("inputs must be a non-empty array of tensors");

        var inputs = new List<OipInput>();
        var offset = 0;
        foreach (var (element, index) in inputsElement.EnumerateArray().Select((e, i) => (e, i)))
        {
            var what = $"inputs[{index}]";
            if (element.ValueKind != JsonValueKind.Object) throw OipException.BadRequest($"{what} must be an object");
            var name = String(element, "name", what);
            what = $"input '{name}'";
            var datatype = String(element, "datatype", what);
            var shape = Shape(element, what);
            TensorData data;
            if (Int64(Parameters(element, what), "binary_data_size", what) is { } size)
            {
                if (size < 0 || size > binary.Length - offset)
                    throw OipException.BadRequest($"{what}: binary_data_size {size} overruns the body: {binary.Length - offset} bytes of binary data are left after the JSON header and the inputs before it");
                data = new RawTensorData(binary.Slice(offset, (int)size));
                offset += (int)size;
            }
            else if (element.TryGetProperty("data", out var values))
                data = new JsonTensorData(values.Clone());
            else
                throw OipException.BadRequest($"{what} has neither data nor parameters.binary_data_size");
            inputs.Add(new OipInput(name, datatype, shape, data));
        }
        if (offset != binary.Length)
            throw OipException.BadRequest($"{binary.Length} bytes follow the JSON header but the inputs' binary_data_size add up to {offset}");

        List<OipRequestedOutput>? outputs = null;
        if (root.TryGetProperty("outputs", out var outputsElement))
        {
            if (outputsElement.ValueKind != JsonValueKind.Array) throw OipException.BadRequest("outputs must be an array");
            outputs = outputsElement.EnumerateArray().Select((o, i) =>
            {
                if (o.ValueKind != JsonValueKind.Object) throw OipException.BadRequest($"outputs[{i}] must be an object");
                var name = String(o, "name", $"outputs[{i}]");
                return new OipRequestedOutput(name, Bool(Parameters(o, $"output '{name}'"), "binary_data", $"output '{name}'"));
            }).ToList();
        }
        return new OipInferRequest(model, version, id, inputs, outputs) { BinaryByDefault = binaryOutput };
    }

    private static JsonElement? Parameters(JsonElement element, string what)
    {
        if (!element.TryGetProperty("parameters", out var p)) return null;
        return p.ValueKind == JsonValueKind.Object ? p : throw OipException.BadRequest($"{what}: parameters must be an object");
    }

    private static string String(JsonElement element, string property, string what) =>
        element.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw OipException.BadRequest($"{what}: {property} must be a non-empty string");

    private static long[] Shape(JsonElement element, string what)
    {
        if (!element.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
            throw OipException.BadRequest($"{what}: shape must be an array of non-negative integers");
        return shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var v) && v >= 0
            ? v
            : throw OipException.BadRequest($"{what}: shape must be an array of non-negative integers, got {shape.GetRawText()}")).ToArray();
    }

    private static bool? Bool(JsonElement? parameters, string name, string what)
    {
        if (parameters is not { } p || !p.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OipException.BadRequest($"{what}: parameter {name} must be true or false"),
        };
    }

    private static long? Int64(JsonElement? parameters, string name, string what)
    {
        if (parameters is not { } p || !p.TryGetProperty(name, out var v)) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : throw OipException.BadRequest($"{what}: parameter {name} must be an integer");
    }

    /// <summary>The response body; outputs asked for as binary (or all, with binary_data_output) follow the JSON header.</summary>
    public static Body WriteResponse(OipInferResult result, OipInferRequest request)
    {
        var binary = result.Outputs.Select(o => request.Outputs?.FirstOrDefault(r => r.Name == o.Name)?.Binary ?? request.BinaryByDefault).ToList();
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name", result.ModelName);
            writer.WriteString("model_version", result.ModelVersion);
            if (result.Id is not null) writer.WriteString("id", result.Id);
            writer.WriteStartArray("outputs");
            for (var i = 0; i < result.Outputs.Count; i++)
            {
                var output = result.Outputs[i];
                writer.WriteStartObject();
                writer.WriteString("name", output.Name);
                writer.WriteString("datatype", OipDataTypes.Name(output.Datatype));
                writer.WriteStartArray("shape");
                foreach (var d in output.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                if (binary[i])
                {
                    writer.WriteStartObject("parameters");
                    writer.WriteNumber("binary_data_size", OipTensorCodec.ByteSize(output));
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WritePropertyName("data");
                    OipTensorCodec.WriteJsonData(writer, output);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        if (!binary.Contains(true)) return new Body(json.WrittenSpan.ToArray(), null);
        var tails = result.Outputs.Where((_, i) => binary[i]).Select(OipTensorCodec.ToBytes).ToList();
        var bytes = new byte[json.WrittenCount + tails.Sum(t => t.Length)];
        json.WrittenSpan.CopyTo(bytes);
        var at = json.WrittenCount;
        foreach (var tail in tails) { tail.CopyTo(bytes, at); at += tail.Length; }
        return new Body(bytes, json.WrittenCount);
    }
}
