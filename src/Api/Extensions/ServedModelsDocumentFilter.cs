using System.Text.Json.Nodes;
using KeypointService.Models.Serving;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace KeypointService.Api.Extensions;

/// <summary>
/// Makes the OpenAPI document describe this service's store rather than fixed text: the model-name
/// parameter lists the models served, and examples of a served model carry its served version.
/// </summary>
internal sealed class ServedModelsDocumentFilter(ModelStore store) : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var statuses = store.GetStatuses();
        var names = string.Join(", ", statuses.Select(s => s.Name));
        var versions = statuses.Where(s => s.ServingVersion is not null).ToDictionary(s => s.Name, s => s);
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []))
        {
            foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
                if (parameter.Name == "name" && parameter.In == ParameterLocation.Path)
                    parameter.Description = $"Model name; this service serves: {names} (GET /v1/models describes them).";
            foreach (var media in operation.Responses?.Values.SelectMany(r => r.Content?.Values ?? []).OfType<OpenApiMediaType>() ?? [])
                if (media.Example is { } example) UseServedVersions(example, versions);
        }
    }

    // An example object naming a served model ("model" or "name") shows that model's served versions.
    private static void UseServedVersions(JsonNode node, IReadOnlyDictionary<string, ModelStatus> served)
    {
        switch (node)
        {
            case JsonObject obj:
                var model = (obj["model"] ?? obj["name"]) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                if (model is not null && served.TryGetValue(model, out var status))
                {
                    if (obj.ContainsKey("version")) obj["version"] = status.ServingVersion;
                    if (obj.ContainsKey("available_versions")) obj["available_versions"] = new JsonArray(status.AvailableVersions.Select(a => (JsonNode)a!).ToArray());
                }
                foreach (var (_, child) in obj.ToList()) if (child is not null) UseServedVersions(child, served);
                break;
            case JsonArray array:
                foreach (var child in array) if (child is not null) UseServedVersions(child, served);
                break;
        }
    }
}
