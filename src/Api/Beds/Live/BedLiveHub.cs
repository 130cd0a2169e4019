using System.Collections.Concurrent;

namespace KeypointService.Api.Beds.Live;

/// <summary>
/// Fans a bed's frame results and events out to its live connections in this process. Pushes go
/// into each connection's bounded queue and never wait for a consumer.
/// </summary>
public sealed class BedLiveHub
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<LiveConnection, byte>> _beds = new();

    public IDisposable Subscribe(LiveConnection connection)
    {
        _beds.GetOrAdd(connection.BedId, _ => new()).TryAdd(connection, 0);
        return new Subscription(this, connection);
    }

    public void Publish(string bedId, LivePush push)
    {
        if (!_beds.TryGetValue(bedId, out var connections)) return;
        foreach (var connection in connections.Keys)
            if (push.Kind != LiveKinds.Frame || connection.WantsFrames) connection.Push(push);
    }

    /// <summary>Ends every live connection of a bed (DELETE /v1/beds/{bedId}).</summary>
    public void Close(string bedId)
    {
        if (_beds.TryGetValue(bedId, out var connections))
            foreach (var connection in connections.Keys) connection.Complete();
    }

    private void Remove(LiveConnection connection)
    {
        if (_beds.TryGetValue(connection.BedId, out var connections)) connections.TryRemove(connection, out _);
    }

    private sealed class Subscription(BedLiveHub hub, LiveConnection connection) : IDisposable
    {
        public void Dispose() => hub.Remove(connection);
    }
}

public static class LiveKinds
{
    public const string Frame = "frame";
    public const string Event = "event";
    public const string Dropped = "dropped";
    public const string Error = "error";
}
