using KeypointService.Models.Inference.Batching;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using KeypointService.Api.Beds;
using KeypointService.Api.Beds.Live;
using KeypointService.Api.Infrastructure;
using KeypointService.Api.Inputs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Apis;

/// <summary>Live bed endpoints: Server-Sent Events of a bed's events and a WebSocket that takes frames and pushes results and events.</summary>
public static class BedsLiveApi
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/{bedId}/events/stream", StreamAsync).WithName("StreamBedEvents")
            .WithSummary("A bed's events as Server-Sent Events (replays after Last-Event-ID or after_id, then live)")
            .WithDescription(BedDocs.Stream);
        group.MapGet("/{bedId}/ws", WebSocketAsync).WithName("BedWebSocket")
            .WithSummary("WebSocket: send JSON frames, receive frame results and events")
            .WithDescription(BedDocs.WebSocket)
            .ExcludeFromDescription(); // OpenAPI cannot describe a WebSocket: README.md and docs/beds.md do
    }

    public static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> StreamAsync(string bedId, HttpContext context,
        [FromQuery(Name = "after_id")] string? afterIdText, [FromServices] BedService beds, CancellationToken cancellation)
    {
        var resume = afterIdText ?? context.Request.Headers["Last-Event-ID"].FirstOrDefault();
        long afterId = 0;
        if (resume is not null && !long.TryParse(resume, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out afterId))
            return BedsApi.Problem(context, StatusCodes.Status400BadRequest, "Invalid input", $"after_id / Last-Event-ID: expected a non-negative integer, got '{resume}'");
        if (await beds.Store.GetAsync(bedId, cancellation) is null) return BedsApi.UnknownBed(context, bedId);
        var connection = new LiveConnection(bedId, beds.Options.LiveQueueCapacity, wantsFrames: false);
        var subscription = beds.Hub.Subscribe(connection);
        context.Response.RegisterForDispose(subscription);
        return TypedResults.ServerSentEvents(LiveStreams.EventStream(beds.Store, bedId, afterId, connection, cancellation));
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> WebSocketAsync(string bedId, HttpContext context,
        [FromServices] BedService beds, [FromServices] RequestBodyReader reader, [FromServices] ILoggerFactory logs)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            return BedsApi.Problem(context, StatusCodes.Status400BadRequest, "WebSocket expected", $"{context.Request.Path} takes a WebSocket upgrade (GET with Upgrade: websocket)");
        if (BedService.CheckId(bedId, "bed id") is { } bad) return BedsApi.Problem(context, StatusCodes.Status400BadRequest, "Invalid input", bad);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await new BedSocketSession(bedId, socket, beds, reader.MaxBodyBytes, logs.CreateLogger("KeypointService.Api.Beds.Socket"))
            .RunAsync(context.RequestAborted);
        return TypedResults.Empty;
    }
}

/// <summary>
/// One bed WebSocket: a reader that takes JSON text frames (the JSON frame body of POST
/// /v1/beds/{bedId}/frames) and a writer that drains this connection's bounded queue. A message that
/// is not a frame closes the socket with a reason; a frame the bed refuses (out of order, overloaded)
/// gets an <c>error</c> push and the socket stays open.
/// </summary>
internal sealed class BedSocketSession(string bedId, WebSocket socket, BedService beds, long maxMessageBytes, ILogger logger)
{
    private readonly LiveConnection _connection = new(bedId, beds.Options.LiveQueueCapacity, wantsFrames: true);

    public async Task RunAsync(CancellationToken aborted)
    {
        using var subscription = beds.Hub.Subscribe(_connection);
        var writer = WriteAsync(aborted);
        var (status, reason) = await ReadAsync(aborted);
        _connection.Complete();
        await writer;
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try { await socket.CloseAsync(status, reason, aborted); }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { logger.LogDebug(e, "bed {BedId}: close failed", bedId); }
        }
    }

    private async Task<(WebSocketCloseStatus, string)> ReadAsync(CancellationToken aborted)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, aborted);
                if (result.MessageType == WebSocketMessageType.Close) return (WebSocketCloseStatus.NormalClosure, "bye");
                if (result.MessageType == WebSocketMessageType.Binary)
                    return (WebSocketCloseStatus.InvalidMessageType, "binary messages are not frames: send JSON text {timestamp, data|data_b64|image}");
                if (message.Length + result.Count > maxMessageBytes)
                    return (WebSocketCloseStatus.MessageTooBig, $"message larger than {maxMessageBytes} bytes (Requests:MaxBodyBytes)");
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var closing = await HandleAsync(message.GetBuffer().AsMemory(0, (int)message.Length), aborted);
                message.SetLength(0);
                if (closing is { } close) return close;
            }
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException e) { logger.LogDebug(e, "bed {BedId}: socket ended", bedId); }
        return (WebSocketCloseStatus.NormalClosure, "");
    }

    // Null to keep reading; a close status and reason when the message is not a frame.
    private async Task<(WebSocketCloseStatus, string)?> HandleAsync(ReadOnlyMemory<byte> message, CancellationToken aborted)
    {
        FrameOutcome outcome;
        try
        {
            using var document = JsonInputParser.ParseDocument(message);
            var frame = BedFrameReader.FromJson(document.RootElement, "message");
            outcome = await beds.SubmitAsync(bedId, frame.Map, frame.TimestampMs, frame.FrameId, aborted);
        }
        catch (RequestProblemException e) when (e.Status == StatusCodes.Status400BadRequest)
        {
            return (WebSocketCloseStatus.InvalidPayloadData, CloseReason($"not a frame: {e.Message}"));
        }
        catch (RequestProblemException e) { outcome = BedService.ToProblem(e); }
        catch (OverloadException e) { outcome = BedService.ToProblem(e); }
        switch (outcome)
        {
            case FrameAnswered { Repeated: true } repeated:
                _connection.Push(new LivePush(LiveKinds.Frame, repeated.Response)); // fresh results arrive through the hub
                break;
            case FrameProblem p when p.Status == StatusCodes.Status400BadRequest:
                return (WebSocketCloseStatus.InvalidPayloadData, CloseReason($"not a frame: {p.Detail}"));
            case FrameProblem p:
                _connection.Push(new LivePush(LiveKinds.Error, new { status = p.Status, title = p.Title, detail = p.Detail }));
                break;
        }
        return null;
    }

    private async Task WriteAsync(CancellationToken aborted)
    {
        long reported = 0;
        try
        {
            await foreach (var push in _connection.Queue.Reader.ReadAllAsync(aborted))
            {
                LiveStreams.DroppedSince(_connection, ref reported);
                var bytes = Encoding.UTF8.GetBytes(LiveStreams.Envelope(push, reported));
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, aborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { logger.LogDebug(e, "bed {BedId}: writer ended", bedId); }
    }

    // A close reason is at most 123 UTF-8 bytes.
    private static string CloseReason(string text)
    {
        var s = text;
        while (Encoding.UTF8.GetByteCount(s) > 123) s = s[..^2] + "…";
        return s;
    }
}
