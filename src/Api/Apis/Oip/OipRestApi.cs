using System.Text.Json.Nodes;
using KeypointService.Api.Inputs;
using KeypointService.Api.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Apis.Oip;

/// <summary>
/// Open Inference Protocol v2 over HTTP/REST (kserve/open-inference-protocol, inference_rest.md) with
/// the binary tensor data extension. Errors are the protocol's {"error": "..."}: 400 bad request,
/// 404 unknown model or version, 413 body too large, 503 model not loaded or service overloaded.
/// </summary>
public static class OipRestApi
{
    public static RouteGroupBuilder MapOipRestApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v2").WithTags("Open Inference Protocol v2");
        group.MapGet("/", () => TypedResults.Ok(OipInference.ServerMetadata))
            .WithName("OipServerMetadata").WithSummary("Server metadata: name, version, extensions");
        group.MapGet("/health/live", () => TypedResults.Ok(new OipServerLive(true)))
            .WithName("OipServerLive").WithSummary("Server liveness").OpenForProbes();
        group.MapGet("/health/ready", ServerReady)
            .WithName("OipServerReady").WithSummary("Server readiness: every non-optional model is loaded (503 otherwise)")
            .Produces<OipServerReady>().Produces<OipServerReady>(StatusCodes.Status503ServiceUnavailable).OpenForProbes();
        // Routes without {version} pass null explicitly, so that "version" is not read from the query string.
        group.MapGet("/models/{name}", (string name, OipInference oip) => ModelMetadata(name, null, oip))
            .WithName("OipModelMetadata").WithSummary("Model metadata: inputs, outputs and their meaning (properties)")
            .ErrorsAre(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/models/{name}/versions/{version}", ModelMetadata)
            .WithName("OipModelVersionMetadata").WithSummary("Model metadata for a version (404 unless it is the served one)")
            .ErrorsAre(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/models/{name}/ready", (string name, OipInference oip) => ModelReady(name, null, oip))
            .WithName("OipModelReady").WithSummary("Model readiness (503 when not ready)")
            .Produces<OipModelReady>().Produces<OipModelReady>(StatusCodes.Status503ServiceUnavailable).ErrorsAre(StatusCodes.Status404NotFound);
        group.MapGet("/models/{name}/versions/{version}/ready", ModelReady)
            .WithName("OipModelVersionReady").WithSummary("Model version readiness (503 when not ready)")
            .Produces<OipModelReady>().Produces<OipModelReady>(StatusCodes.Status503ServiceUnavailable).ErrorsAre(StatusCodes.Status404NotFound);
        group.MapPost("/models/{name}/infer",
                (string name, HttpRequest request, [FromServices] OipInference oip, [FromServices] RequestBodyReader reader, CancellationToken cancellation) =>
                    InferAsync(name, null, request, oip, reader, cancellation))
            .WithName("OipInfer").WithSummary("Inference: JSON tensors, or a JSON header plus binary tensors (Inference-Header-Content-Length)")
            .DocumentedAsInference();
        group.MapPost("/models/{name}/versions/{version}/infer", InferAsync)
            .WithName("OipVersionInfer").WithSummary("Inference on a version (404 unless it is the served one)")
            .DocumentedAsInference();
        return group;
    }

    public static JsonHttpResult<OipServerReady> ServerReady(OipInference oip) =>
        TypedResults.Json(new OipServerReady(oip.IsReady), statusCode: oip.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);

    public static Results<Ok<OipModelMetadata>, JsonHttpResult<OipError>> ModelMetadata(string name, string? version, [FromServices] OipInference oip)
    {
        try { return TypedResults.Ok(oip.Metadata(name, version)); }
        catch (OipException e) { return Error(e); }
    }

    public static Results<JsonHttpResult<OipModelReady>, JsonHttpResult<OipError>> ModelReady(string name, string? version, [FromServices] OipInference oip)
    {
        try
        {
            var ready = oip.IsModelReady(name, version);
            return TypedResults.Json(new OipModelReady(name, ready), statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }
        catch (OipException e) { return Error(e); }
    }

    public static async Task<Results<OipInferHttpResult, JsonHttpResult<OipError>>> InferAsync(
        string name, string? version, HttpRequest request, [FromServices] OipInference oip, [FromServices] RequestBodyReader reader, CancellationToken cancellation)
    {
        try
        {
            oip.EnsureServed(name, version); // an unknown model is a 404 whatever the body holds
            var body = await reader.ReadBodyAsync(request, cancellation);
            var inferRequest = OipRestCodec.ParseRequest(name, version, body, request.Headers[OipRestCodec.HeaderLengthHeader].FirstOrDefault());
            var result = await oip.InferAsync(inferRequest, cancellation);
            return new OipInferHttpResult(OipRestCodec.WriteResponse(result, inferRequest));
        }
        catch (OipException e)
        {
            if (e.RetryAfterSeconds is { } seconds) request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error(e);
        }
        catch (RequestProblemException e) { return TypedResults.Json(new OipError(e.Message), statusCode: e.Status); } // 413, empty body
    }

    private static RouteHandlerBuilder ErrorsAre(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses) builder.Produces<OipError>(status);
        return builder;
    }

    // The handler reads the body itself (JSON, or JSON + binary tensors), so the OpenAPI document is told what it takes and gives.
    private static RouteHandlerBuilder DocumentedAsInference(this RouteHandlerBuilder builder) => builder
        .Accepts<JsonObject>("application/json", "application/octet-stream")
        .Produces<JsonObject>(StatusCodes.Status200OK, "application/json", "application/octet-stream")
        .ErrorsAre(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status503ServiceUnavailable);

    private static JsonHttpResult<OipError> Error(OipException e) => TypedResults.Json(new OipError(e.Message), statusCode: e.Kind switch
    {
        OipErrorKind.NotFound => StatusCodes.Status404NotFound,
        OipErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    });
}

/// <summary>An inference response: application/json, or with binary outputs application/octet-stream plus Inference-Header-Content-Length.</summary>
public sealed class OipInferHttpResult(OipRestCodec.Body body) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;
    public string ContentType => body.HeaderLength is null ? "application/json" : "application/octet-stream";

    public Task ExecuteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = ContentType;
        context.Response.ContentLength = body.Bytes.Length;
        if (body.HeaderLength is { } length) context.Response.Headers[OipRestCodec.HeaderLengthHeader] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return context.Response.Body.WriteAsync(body.Bytes).AsTask();
    }
}
