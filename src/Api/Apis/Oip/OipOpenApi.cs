using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace KeypointService.Api.Apis.Oip;

/// <summary>Examples for the /v2 operations and schemas in the OpenAPI document (the specification's own shapes, our model names).</summary>
public sealed class OipOpenApi : IOperationFilter, ISchemaFilter
{
    private static JsonObject InferRequest() => new()
    {
        ["id"] = "42",
        ["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "image", ["shape"] = new JsonArray(2, 3), ["datatype"] = "UINT8", ["data"] = new JsonArray(new JsonArray(0, 255, 0), new JsonArray(255, 0, 255)),
        }),
        ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }),
    };

    private static JsonObject InferResponse() => new()
    {
        ["model_name"] = "heatmap",
        ["model_version"] = "6",
        ["id"] = "42",
        ["outputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "keypoints", ["datatype"] = "FP32", ["shape"] = new JsonArray(1, 5, 3),
            ["data"] = new JsonArray(1.52, 0.48, 0.21, 0.61, 1.02, 0.18, 2.41, 1.07, 0.2, 1.12, 1.91, 0.19, 1.9, 1.88, 0.17),
        }),
    };

    private static JsonObject Tensor(string name, string datatype, params long[] shape) =>
        new() { ["name"] = name, ["datatype"] = datatype, ["shape"] = new JsonArray(shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()) };

    private static JsonObject ModelMetadata() => new()
    {
        ["name"] = "heatmap",
        ["versions"] = new JsonArray("6"),
        ["platform"] = OipInference.Platform,
        ["inputs"] = new JsonArray(Tensor("image", "FP32", -1, 1, -1, -1)),
        ["outputs"] = new JsonArray(Tensor("keypoints", "FP32", -1, 5, 3), Tensor("heatmaps", "FP32", -1, 5, 64, 64)),
        ["properties"] = new JsonObject { ["task"] = "heatmap", ["keypoints"] = "head,left_hand,right_hand,left_foot,right_foot" },
    };

    private static JsonNode? Success(string? operationId) => operationId switch
    {
        "OipServerMetadata" => new JsonObject { ["name"] = "KeypointService", ["version"] = "1.0.0", ["extensions"] = new JsonArray(OipInference.BinaryExtension) },
        "OipServerLive" => new JsonObject { ["live"] = true },
        "OipServerReady" => new JsonObject { ["ready"] = true },
        "OipModelMetadata" or "OipModelVersionMetadata" => ModelMetadata(),
        "OipModelReady" or "OipModelVersionReady" => new JsonObject { ["name"] = "heatmap", ["ready"] = true },
        "OipInfer" or "OipVersionInfer" => InferResponse(),
        _ => null,
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (Success(operation.OperationId) is not { } example) return;
        foreach (var (status, response) in operation.Responses ?? [])
            foreach (var media in (response as OpenApiResponse)?.Content?.Values.OfType<OpenApiMediaType>() ?? [])
                media.Example = status == "200" ? example.DeepClone() : new JsonObject { ["error"] = status == "404" ? "unknown model 'nosuch'" : "input 'image': data has 3 values, but the shape needs 4" };
        if (operation.RequestBody is OpenApiRequestBody body && body.Content?.TryGetValue("application/json", out var json) == true && json is OpenApiMediaType jsonMedia)
        {
            body.Description = "The inference request JSON; or, with the binary tensor extension, that JSON (Inference-Header-Content-Length bytes) followed by the binary tensors.";
            jsonMedia.Example = InferRequest();
        }
    }

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        JsonNode? example = context.Type.Name switch
        {
            nameof(OipError) => new JsonObject { ["error"] = "unknown output 'output0'; the model's outputs are keypoints, heatmaps" },
            nameof(OipServerMetadata) => Success("OipServerMetadata"),
            nameof(OipServerLive) => Success("OipServerLive"),
            nameof(OipServerReady) => Success("OipServerReady"),
            nameof(OipModelReady) => Success("OipModelReady"),
            nameof(OipModelMetadata) => ModelMetadata(),
            nameof(OipTensorMetadata) => Tensor("keypoints", "FP32", -1, 5, 3),
            _ => null,
        };
        if (schema is OpenApiSchema s && example is not null && context.Type.Namespace == typeof(OipError).Namespace) s.Examples = [example];
    }
}
