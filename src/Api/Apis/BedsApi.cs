using KeypointService.Models.Inference.Batching;
using System.Text.Json;
using KeypointService.Api.Beds;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Infrastructure;
using KeypointService.Api.Inputs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Apis;

/// <summary>Per-bed monitoring: frames in, posture over time, repositioning alerts and events (docs/beds.md).</summary>
public static class BedsApi
{
    public static RouteGroupBuilder MapBedsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/beds").WithTags("Beds");
        group.MapPost("/{bedId}/frames", PostFrameAsync).WithName("PostBedFrame")
            .WithSummary("Post one pressure frame of a bed; returns its joints and posture and the bed's state")
            .WithDescription(BedDocs.PostFrame).DisableAntiforgery();
        group.MapGet("/", ListAsync).WithName("ListBeds").WithSummary("Every monitored bed's state");
        group.MapGet("/{bedId}", GetAsync).WithName("GetBed").WithSummary("One bed's state: posture, since when, alert, limit");
        group.MapPut("/{bedId}", PutAsync).WithName("PutBed").WithSummary("Set a bed's repositioning limit (creates the bed if needed)")
            .WithDescription(BedDocs.PutBed);
        group.MapDelete("/{bedId}", DeleteAsync).WithName("DeleteBed").WithSummary("Stop monitoring a bed: its state and events are deleted");
        group.MapGet("/{bedId}/events", EventsAsync).WithName("GetBedEvents").WithSummary("A bed's events in order")
            .WithDescription(BedDocs.Events);
        BedsLiveApi.Map(group);
        return group;
    }

    /// <summary>Query parameters of a frame.</summary>
    public sealed class FrameQuery
    {
        /// <summary>The frame's time: RFC 3339 with a time zone, or Unix milliseconds (or the JSON field timestamp).</summary>
        [FromQuery(Name = "timestamp")] public string? Timestamp { get; init; }
        /// <summary>Optional caller id of the frame: a repeated id gets the first answer again and counts once.</summary>
        [FromQuery(Name = "frame_id")] public string? FrameId { get; init; }
    }

    public static async Task<Results<Ok<BedFrameResponse>, ProblemHttpResult>> PostFrameAsync(string bedId, HttpContext context,
        [AsParameters] FrameQuery query, [AsParameters] RawSizeQuery rawSize, [FromServices] BedService beds,
        [FromServices] RequestBodyReader reader, CancellationToken cancellation)
    {
        FrameOutcome outcome;
        try
        {
            if (BedService.CheckId(bedId, "bed id") is { } bad) return Problem(context, StatusCodes.Status400BadRequest, "Invalid input", bad);
            var frame = await BedFrameReader.ReadAsync(context.Request, reader, query.Timestamp, query.FrameId, rawSize, cancellation);
            outcome = await beds.SubmitAsync(bedId, frame.Map, frame.TimestampMs, frame.FrameId, cancellation);
        }
        catch (RequestProblemException e) { return Problems.Result(context, e); }
        catch (OverloadException e) { return Problems.Result(context, e); }
        switch (outcome)
        {
            case FrameAnswered answered:
                if (answered.Repeated) context.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Ok(answered.Response);
            case FrameProblem p:
                return Problem(context, p.Status, p.Title, p.Detail);
            default:
                throw new InvalidOperationException("unknown frame outcome");
        }
    }

    public static async Task<Ok<IReadOnlyList<BedStateDto>>> ListAsync([FromServices] BedService beds, CancellationToken cancellation) =>
        TypedResults.Ok<IReadOnlyList<BedStateDto>>((await beds.Store.ListAsync(cancellation)).Select(b => BedMapper.ToDto(b, beds.Options)).ToList());

    public static async Task<Results<Ok<BedStateDto>, ProblemHttpResult>> GetAsync(string bedId, HttpContext context, [FromServices] BedService beds,
        CancellationToken cancellation) =>
        await beds.Store.GetAsync(bedId, cancellation) is { } bed ? TypedResults.Ok(BedMapper.ToDto(bed, beds.Options)) : UnknownBed(context, bedId);

    public static async Task<Results<Ok<BedStateDto>, ProblemHttpResult>> PutAsync(string bedId, HttpContext context, [FromServices] BedService beds,
        [FromServices] RequestBodyReader reader, CancellationToken cancellation)
    {
        double? limit;
        try
        {
            if (BedService.CheckId(bedId, "bed id") is { } bad) throw RequestProblemException.BadInput(bad);
            if (!context.Request.HasJsonContentType())
                return Problem(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "bed settings are application/json: {\"reposition_limit_minutes\": 90}");
            using var document = await reader.ReadJsonAsync(context.Request, cancellation);
            limit = ReadLimit(document.RootElement);
        }
        catch (RequestProblemException e) { return Problems.Result(context, e); }
        return TypedResults.Ok(BedMapper.ToDto(await beds.SetLimitAsync(bedId, limit, cancellation), beds.Options));
    }

    private static double? ReadLimit(JsonElement root)
    {
        const string field = "reposition_limit_minutes";
        if (root.ValueKind != JsonValueKind.Object) throw RequestProblemException.BadInput($"expected {{\"{field}\": minutes or null}}");
        foreach (var p in root.EnumerateObject())
            if (p.Name != field) throw RequestProblemException.BadInput($"unknown property '{p.Name}' (expected {field})");
        if (!root.TryGetProperty(field, out var v)) throw RequestProblemException.BadInput($"{field} is missing (a number of minutes, or null for the default)");
        if (v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var minutes) && minutes > 0 && minutes <= 7 * 24 * 60
            ? minutes : throw RequestProblemException.BadInput($"{field}: expected a number of minutes in (0, 10080] or null, got {v.GetRawText()}");
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string bedId, HttpContext context, [FromServices] BedService beds,
        CancellationToken cancellation)
    {
        if (!await beds.Store.DeleteAsync(bedId, cancellation)) return UnknownBed(context, bedId);
        beds.Hub.Close(bedId);
        return TypedResults.NoContent();
    }

    /// <summary>Query parameters of the event list.</summary>
    public sealed class EventsQuery
    {
        /// <summary>Only events at or after this time (RFC 3339 or Unix milliseconds).</summary>
        [FromQuery(Name = "since")] public string? Since { get; init; }
        /// <summary>Only events with a larger id (resume where the last page ended).</summary>
        [FromQuery(Name = "after_id")] public string? AfterId { get; init; }
        /// <summary>At most this many events (1-1000, default 100).</summary>
        [FromQuery(Name = "limit")] public string? Limit { get; init; }
    }

    public static async Task<Results<Ok<BedEventsResponse>, ProblemHttpResult>> EventsAsync(string bedId, HttpContext context,
        [AsParameters] EventsQuery query, [FromServices] BedService beds, CancellationToken cancellation)
    {
        long? since = null;
        if (query.Since is not null)
        {
            if (!Times.TryParse(query.Since, out var ms, out var error)) return Problem(context, StatusCodes.Status400BadRequest, "Invalid input", $"since: {error}");
            since = ms;
        }
        if (!TryParseLong(query.AfterId, 0, 0, long.MaxValue, out var afterId))
            return Problem(context, StatusCodes.Status400BadRequest, "Invalid input", $"after_id: expected a non-negative integer, got '{query.AfterId}'");
        if (!TryParseLong(query.Limit, 100, 1, 1000, out var limit))
            return Problem(context, StatusCodes.Status400BadRequest, "Invalid input", $"limit: expected an integer in 1-1000, got '{query.Limit}'");
        if (await beds.Store.GetAsync(bedId, cancellation) is null) return UnknownBed(context, bedId);
        var events = await beds.Store.EventsAsync(bedId, afterId, since, (int)limit, cancellation);
        return TypedResults.Ok(new BedEventsResponse(bedId, events.Select(BedMapper.ToDto).ToList()));
    }

    private static bool TryParseLong(string? text, long fallback, long min, long max, out long value)
    {
        value = fallback;
        return text is null || (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= min && value <= max);
    }

    public static ProblemHttpResult UnknownBed(HttpContext context, string bedId) =>
        Problem(context, StatusCodes.Status404NotFound, "Unknown bed", $"no bed '{(bedId.Length > 40 ? bedId[..40] + "…" : bedId)}' is monitored; GET /v1/beds lists the beds, a frame starts monitoring one");

    public static ProblemHttpResult Problem(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(Problems.Create(context, status, title, detail));
}
