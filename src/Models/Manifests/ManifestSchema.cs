using System.Reflection;
using System.Text.Json;
using Json.Schema;

namespace KeypointService.Models.Manifests;

/// <summary>
/// The shared manifest schema, <c>schemas/model-manifest.schema.json</c> (embedded in this assembly;
/// draft 2020-12), evaluated by JsonSchema.Net 8. The trainer validates against the same file with
/// python3-jsonschema.
/// </summary>
internal sealed class ManifestSchema
{
    private const string ResourceName = "model-manifest.schema.json";
    private const int MaxShownValue = 60;
    // List output: a flat list of nodes in which only the failing keywords themselves (type, enum,
    // required, ...) carry error messages; the applicators above them ($ref, properties) carry none.
    private static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List };
    private readonly JsonSchema _schema;

    private ManifestSchema(JsonSchema schema) => _schema = schema;

    public static ManifestSchema LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The manifest schema {ResourceName} is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        // A registry of its own: the schema's $id is registered there, not in JsonSchema.Net's global one.
        return new ManifestSchema(JsonSchema.FromText(reader.ReadToEnd(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));
    }

    /// <summary>Every violation as "JSON pointer: message", in document order; empty when the manifest is valid.</summary>
    public IReadOnlyList<string> Validate(JsonElement manifest)
    {
        var results = _schema.Evaluate(manifest, Options);
        if (results.IsValid) return [];
        return (results.Details ?? []).Prepend(results)
            .Where(node => !node.IsValid && node.Errors is { Count: > 0 })
            .SelectMany(node => node.Errors!.Select(error => Describe(node, error.Key, error.Value, manifest)))
            .ToList();
    }

    private static string Describe(EvaluationResults node, string keyword, string message, JsonElement manifest)
    {
        var pointer = node.InstanceLocation.ToString();
        var where = pointer.Length == 0 ? "(root)" : pointer;
        // The false schema under additionalProperties: the library's message does not say what is wrong.
        if (node.EvaluationPath.ToString().EndsWith("/additionalProperties", StringComparison.Ordinal))
            return $"{where}: unknown property (additionalProperties is false)";
        // The library's messages for these keywords do not quote the offending value.
        if (keyword is "type" or "enum" or "const" or "pattern" && node.InstanceLocation.Evaluate(manifest) is { } value)
            return $"{where}: {message} (got {Shorten(value.GetRawText())})";
        return $"{where}: {message}";
    }

    private static string Shorten(string json) => json.Length <= MaxShownValue ? json : json[..MaxShownValue] + "...";
}
