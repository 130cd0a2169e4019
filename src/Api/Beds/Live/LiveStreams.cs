using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using KeypointService.Api.Beds.Storage;

namespace KeypointService.Api.Beds.Live;

/// <summary>What live consumers receive, in one form for SSE and WebSocket.</summary>
public static class LiveStreams
{
    /// <summary>Events per page while replaying stored events to a new stream.</summary>
    public const int ReplayPage = 500;

    /// <summary>
    /// A bed's SSE stream: the stored events after <paramref name="afterId"/>, then live events from
    /// <paramref name="connection"/> (already subscribed, so nothing falls between replay and live);
    /// a <c>dropped</c> item reports the running count of pushes lost to a full queue before the next push.
    /// </summary>
    public static async IAsyncEnumerable<SseItem<string>> EventStream(IBedStore store, string bedId, long afterId, LiveConnection connection,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        var last = afterId;
        while (true)
        {
            var page = await store.EventsAsync(bedId, last, null, ReplayPage, cancellation);
            foreach (var e in page)
            {
                last = e.Id;
                yield return Item(LiveKinds.Event, BedMapper.ToDto(e), e.Id);
            }
            if (page.Count < ReplayPage) break;
        }
        long reported = 0;
        await foreach (var push in connection.Queue.Reader.ReadAllAsync(cancellation))
        {
            if (DroppedSince(connection, ref reported) is { } dropped) yield return Item(LiveKinds.Dropped, dropped, null);
            if (push.EventId is { } id)
            {
                if (id <= last) continue; // replayed already
                last = id;
            }
            yield return Item(push.Kind, push.Payload, push.EventId);
        }
    }

    /// <summary>A WebSocket message: <c>{"type", "dropped", "data"}</c>.</summary>
    public static string Envelope(LivePush push, long dropped) =>
        JsonSerializer.Serialize(new { type = push.Kind, dropped, data = push.Payload }, BedJson.Options);

    /// <summary>The running dropped count if it grew since the last report.</summary>
    public static DroppedReport? DroppedSince(LiveConnection connection, ref long reported)
    {
        var dropped = connection.Dropped;
        if (dropped <= reported) return null;
        reported = dropped;
        return new DroppedReport(dropped);
    }

    private static SseItem<string> Item(string kind, object payload, long? id) =>
        new(JsonSerializer.Serialize(payload, BedJson.Options), kind) { EventId = id?.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}

/// <summary>Pushes lost so far on this connection because its consumer was slower than the bed.</summary>
public sealed record DroppedReport(long Dropped);
