using System.Text.Json.Nodes;
using KeypointService.Api.Contracts;

namespace KeypointService.Api.Apis;

/// <summary>Examples shown in the OpenAPI document (parameters, bodies, responses, schemas).</summary>
internal static class OpenApiExamples
{
    public sealed record ParameterDoc(string Description, JsonNode Example);

    public static readonly IReadOnlyDictionary<string, ParameterDoc> Parameters = new Dictionary<string, ParameterDoc>
    {
        ["name"] = new("Model name (GET /v1/models lists them).", JsonValue.Create("heatmap")),
        ["include"] = new("Extra outputs, comma-separated or repeated: heatmaps (heatmap, spmkd, multi), reconstruction (spmkd). Asking for one the model lacks is a 400 naming what it can return.", JsonValue.Create("heatmaps")),
        ["map_format"] = new("How heatmaps and reconstructions are returned: array (rows of numbers, default) or png (base64 16-bit PNG with min/max).", JsonValue.Create("array")),
        ["width"] = new("application/octet-stream only: values per row.", JsonValue.Create("84")),
        ["height"] = new("application/octet-stream only: number of rows.", JsonValue.Create("192")),
    };

    private const string TinyPng = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAAAAABX3VL4AAAADElEQVR4nGNg+A+EAAYAAf+T0eSJAAAAAElFTkSuQmCC";

    public static JsonNode DataRequest() => new JsonObject
    {
        ["data"] = new JsonArray(new JsonArray(0, 0.5, 1.2), new JsonArray(0.1, 3.4, 2.0), new JsonArray(0, 2.2, 0.9), new JsonArray(0, 0.2, 0.1)),
        ["include"] = new JsonArray("heatmaps"),
        ["map_format"] = "array",
    };

    public static JsonNode ImageRequest() => new JsonObject { ["image"] = TinyPng };

    public static JsonNode RawRequest() => new JsonObject { ["data_b64"] = "AADAPwAAEEA=", ["width"] = 2, ["height"] = 1 };

    public static JsonNode BatchRequest() => new JsonObject
    {
        ["items"] = new JsonArray(ImageRequest(), new JsonObject { ["data"] = new JsonArray(new JsonArray(0, 1), new JsonArray(1, 0)) }),
    };

    private static JsonObject Keypoint(string name, double x, double y, double w, double h, double? confidence) => new()
    {
        ["name"] = name, ["x"] = x, ["y"] = y, ["x_norm"] = Math.Round(x / w, 4), ["y_norm"] = Math.Round(y / h, 4), ["confidence"] = confidence,
        ["score"] = confidence is { } c ? Math.Clamp(c, 0, 1) : null,
    };

    public static JsonObject PredictResponseExample() => new()
    {
        ["model"] = "heatmap",
        ["version"] = "1",
        ["task"] = "heatmap",
        ["width"] = 128,
        ["height"] = 128,
        ["keypoints"] = new JsonArray(
            Keypoint("head", 64.4, 18.2, 128, 128, 0.97), Keypoint("left_hand", 30.9, 60.3, 128, 128, 0.91),
            Keypoint("right_hand", 97.1, 58.8, 128, 128, 0.93), Keypoint("left_foot", 45.6, 115.0, 128, 128, 0.95),
            Keypoint("right_foot", 82.3, 114.2, 128, 128, 0.94)),
        ["links"] = new JsonArray(new JsonArray(0, 1), new JsonArray(0, 2), new JsonArray(0, 3), new JsonArray(0, 4)),
        ["timings_ms"] = new JsonObject { ["preprocess"] = 0.02, ["inference"] = 2.1, ["postprocess"] = 0.03 },
    };

    public static JsonNode? Success(string? operationId) => operationId switch
    {
        "Predict" => PredictResponseExample(),
        "PredictBatch" => new JsonObject
        {
            ["model"] = "heatmap",
            ["version"] = "1",
            ["items"] = new JsonArray(
                new JsonObject { ["index"] = 0, ["result"] = PredictResponseExample() },
                new JsonObject { ["index"] = 1, ["error"] = Problem(400, "items[1].data[1] has 2 values, expected 3 like items[1].data[0]") }),
        },
        "ListModels" => new JsonArray(ModelInfoExample()),
        "GetModel" => ModelInfoExample(),
        "Live" => new JsonObject { ["status"] = "live" },
        "Ready" => new JsonObject
        {
            ["status"] = "ready",
            ["models"] = new JsonArray(new JsonObject { ["name"] = "heatmap", ["state"] = "loaded", ["version"] = "1", ["optional"] = false }),
        },
        _ => Beds.BedOpenApiExamples.Success(operationId),
    };

    private static JsonObject ModelInfoExample() => new()
    {
        ["name"] = "heatmap",
        ["state"] = "loaded",
        ["optional"] = false,
        ["version"] = "1",
        ["available_versions"] = new JsonArray("1"),
        ["task"] = "heatmap",
        ["input"] = new JsonObject
        {
            ["name"] = "image", ["height"] = 128, ["width"] = 128, ["value_domain"] = "image_u8", ["resize"] = "bilinear",
            ["normalization"] = "affine", ["scale"] = 0.003921569, ["offset"] = 0,
        },
        ["keypoints"] = new JsonArray("head", "left_hand", "right_hand", "left_foot", "right_foot"),
        ["links"] = new JsonArray(new JsonArray(0, 1), new JsonArray(0, 2), new JsonArray(0, 3), new JsonArray(0, 4)),
        ["outputs"] = new JsonArray("keypoints", "heatmaps"),
        ["execution_provider"] = "CPUExecutionProvider",
        ["loaded_at"] = "2026-11-21T10:00:00+00:00",
    };

    public static IEnumerable<(string Status, string Description)> ErrorResponses(string? operationId) => operationId switch
    {
        "Predict" or "PredictBatch" =>
        [
            ("400", "Bad input: malformed JSON, ragged or empty arrays, non-finite numbers, undecodable images, wrong .npy rank or dtype, size mismatch"),
            ("404", "Unknown model"),
            ("413", "Request body larger than Requests:MaxBodyBytes"),
            ("415", "Unsupported media type"),
            ("503", "The model is not loaded, or the service is overloaded (see Retry-After)"),
        ],
        "GetModel" => [("404", "Unknown model")],
        "Ready" => [("503", "Not ready: some non-optional model is not loaded")],
        _ => Beds.BedOpenApiExamples.ErrorResponses(operationId),
    };

    public static JsonObject Problem(int status, string detail) => new()
    {
        ["type"] = $"https://httpstatuses.io/{status}",
        ["title"] = status switch { 400 => "Invalid input", 404 => "Unknown model", 413 => "Payload too large", 415 => "Unsupported media type", _ => "Service unavailable" },
        ["status"] = status,
        ["detail"] = detail,
        ["instance"] = "/v1/models/heatmap/predict",
    };

    public static JsonNode? ForType(Type type) =>
        type == typeof(PredictRequest) ? DataRequest()
        : type == typeof(PredictBatchRequest) ? BatchRequest()
        : type == typeof(PredictResponse) ? PredictResponseExample()
        : type == typeof(KeypointDto) ? Keypoint("head", 64.4, 18.2, 128, 128, 0.97)
        : type == typeof(InstanceDto) ? new JsonObject { ["score"] = 0.82, ["keypoints"] = new JsonArray(Keypoint("head", 40.2, 22.5, 128, 128, 0.91)), ["links"] = new JsonArray(new JsonArray(0, 1)) }
        : type == typeof(PostureDto) ? new JsonObject { ["label"] = "left_side", ["probabilities"] = new JsonObject { ["supine"] = 0.02, ["left_side"] = 0.95, ["right_side"] = 0.02, ["prone"] = 0.01 } }
        : type == typeof(TimingsDto) ? new JsonObject { ["preprocess"] = 0.02, ["inference"] = 2.1, ["postprocess"] = 0.03 }
        : type == typeof(MapDto) ? new JsonObject { ["name"] = "head", ["width"] = 2, ["height"] = 2, ["min"] = 0, ["max"] = 0.9, ["data"] = new JsonArray(new JsonArray(0, 0.9), new JsonArray(0.1, 0.2)) }
        : type == typeof(ModelInfo) ? ModelInfoExample()
        : type == typeof(InputInfo) ? ModelInfoExample()["input"]!.DeepClone()
        : type == typeof(ReadinessReport) ? Success("Ready")
        : type == typeof(LivenessReport) ? Success("Live")
        : type == typeof(ModelReadiness) ? new JsonObject { ["name"] = "spmkd", ["state"] = "failed", ["optional"] = false, ["error"] = "version 2: sha256 mismatch" }
        : type == typeof(BatchItemResult) ? new JsonObject { ["index"] = 0, ["result"] = PredictResponseExample() }
        : type == typeof(PredictBatchResponse) ? Success("PredictBatch")
        : type == typeof(Microsoft.AspNetCore.Mvc.ProblemDetails) ? Problem(400, "body.data[2][1]: expected a number, got \"NaN\"")
        : Beds.BedOpenApiExamples.ForType(type);
}
