using System.Threading.Channels;

namespace KeypointService.Api.Beds.Live;

/// <summary>One push to a live consumer: a frame result or an event (as the object to serialise) with its kind and event id.</summary>
public sealed record LivePush(string Kind, object Payload, long? EventId = null);

/// <summary>
/// One live consumer (an SSE stream or a WebSocket): a bounded outgoing queue that drops the oldest
/// push when full, and counts what it dropped so the writer can tell the consumer.
/// </summary>
public sealed class LiveConnection
{
    private long _dropped;

    public LiveConnection(string bedId, int capacity, bool wantsFrames)
    {
        BedId = bedId;
        WantsFrames = wantsFrames;
        Queue = Channel.CreateBounded<LivePush>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public string BedId { get; }
    /// <summary>WebSocket connections also get every frame result of the bed; SSE streams only events.</summary>
    public bool WantsFrames { get; }
    public Channel<LivePush> Queue { get; }
    /// <summary>Pushes dropped so far because the consumer was slower than the bed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Push(LivePush push) => Queue.Writer.TryWrite(push);

    /// <summary>The bed stopped being monitored (or the service is stopping): the writer ends after what is queued.</summary>
    public void Complete() => Queue.Writer.TryComplete();
}
