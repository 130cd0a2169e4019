using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace KeypointService.Models.Manifests;

/// <summary>
/// Validates JSON against the subset of JSON Schema (2020-12) that the manifest schema uses:
/// type, const, enum, pattern, minLength, minimum, maximum, exclusiveMinimum, required, properties,
/// additionalProperties: false, items, minItems, maxItems and local "$ref": "#/$defs/...".
/// No JSON Schema library restores from the registries reachable here; an unsupported keyword
/// throws so that a schema change cannot silently go unchecked.
/// </summary>
public sealed class JsonSchemaValidator
{
    private static readonly HashSet<string> Annotations = ["$schema", "$id", "title", "description", "$defs", "default", "examples"];
    private readonly JsonObject _root;

    public JsonSchemaValidator(JsonObject schema) => _root = schema;

    /// <summary>Returns every violation as "path: message"; empty when the instance is valid.</summary>
    public IReadOnlyList<string> Validate(JsonNode? instance)
    {
        var errors = new List<string>();
        Check(_root, instance, "$", errors);
        return errors;
    }

    private void Check(JsonObject schema, JsonNode? value, string path, List<string> errors)
    {
        foreach (var (keyword, argument) in schema)
        {
            switch (keyword)
            {
                case "$ref":
                    Check(Resolve(argument!.GetValue<string>()), value, path, errors);
                    break;
                case "type":
                    var allowed = argument is JsonArray a ? a.Select(t => t!.GetValue<string>()).ToArray() : [argument!.GetValue<string>()];
                    if (!allowed.Any(t => HasType(value, t)))
                        errors.Add($"{path}: expected {string.Join(" or ", allowed)}, got {Describe(value)}");
                    break;
                case "const":
                    if (!JsonNode.DeepEquals(argument, value))
                        errors.Add($"{path}: must be {argument!.ToJsonString()}");
                    break;
                case "enum":
                    if (!argument!.AsArray().Any(option => JsonNode.DeepEquals(option, value)))
                        errors.Add($"{path}: must be one of {argument.ToJsonString()}, got {Describe(value)}");
                    break;
                case "pattern":
                    if (value is JsonValue pv && pv.TryGetValue(out string? text) && !Regex.IsMatch(text, argument!.GetValue<string>()))
                        errors.Add($"{path}: '{text}' does not match {argument}");
                    break;
                case "minLength":
                    if (value is JsonValue lv && lv.TryGetValue(out string? s) && s.Length < argument!.GetValue<int>())
                        errors.Add($"{path}: shorter than {argument}");
                    break;
                case "minimum" or "maximum" or "exclusiveMinimum":
                    if (TryNumber(value, out var number))
                    {
                        var bound = argument!.GetValue<double>();
                        var ok = keyword switch { "minimum" => number >= bound, "maximum" => number <= bound, _ => number > bound };
                        if (!ok) errors.Add($"{path}: {number.ToString(CultureInfo.InvariantCulture)} violates {keyword} {bound.ToString(CultureInfo.InvariantCulture)}");
                    }
                    break;
                case "required":
                    if (value is JsonObject ro)
                        foreach (var name in argument!.AsArray().Select(n => n!.GetValue<string>()))
                            if (!ro.ContainsKey(name)) errors.Add($"{path}: missing required property '{name}'");
                    break;
                case "properties":
                    if (value is JsonObject po)
                        foreach (var (name, sub) in argument!.AsObject())
                            if (po.TryGetPropertyValue(name, out var child))
                                Check(sub!.AsObject(), child, $"{path}.{name}", errors);
                    break;
                case "additionalProperties":
                    if (value is JsonObject ao && argument!.GetValueKind() == System.Text.Json.JsonValueKind.False)
                    {
                        var known = schema["properties"]?.AsObject();
                        foreach (var (name, _) in ao)
                            if (known is null || !known.ContainsKey(name)) errors.Add($"{path}: unknown property '{name}'");
                    }
                    break;
                case "items":
                    if (value is JsonArray ia)
                        for (var i = 0; i < ia.Count; i++) Check(argument!.AsObject(), ia[i], $"{path}[{i}]", errors);
                    break;
                case "minItems":
                    if (value is JsonArray mi && mi.Count < argument!.GetValue<int>()) errors.Add($"{path}: fewer than {argument} items");
                    break;
                case "maxItems":
                    if (value is JsonArray ma && ma.Count > argument!.GetValue<int>()) errors.Add($"{path}: more than {argument} items");
                    break;
                default:
                    if (!Annotations.Contains(keyword))
                        throw new NotSupportedException($"JSON Schema keyword '{keyword}' is not supported by {nameof(JsonSchemaValidator)}");
                    break;
            }
        }
    }

    private JsonObject Resolve(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
            throw new NotSupportedException($"Only local $ref is supported, got '{reference}'");
        JsonNode? node = _root;
        foreach (var part in reference[2..].Split('/')) node = node?[part];
        return node as JsonObject ?? throw new InvalidOperationException($"Unresolvable $ref '{reference}'");
    }

    private static bool HasType(JsonNode? value, string type) => type switch
    {
        "null" => value is null,
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String,
        "boolean" => value is JsonValue b && b.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
        "number" => TryNumber(value, out _),
        "integer" => TryNumber(value, out var d) && Math.Floor(d) == d && !double.IsInfinity(d),
        _ => throw new NotSupportedException($"JSON Schema type '{type}' is not supported"),
    };

    private static bool TryNumber(JsonNode? value, out double number)
    {
        number = 0;
        return value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out number);
    }

    private static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        _ => value.GetValueKind().ToString().ToLowerInvariant(),
    };
}
