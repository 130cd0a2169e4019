using KeypointService.Api.Beds.Monitoring;

namespace KeypointService.Api.Beds.Storage;

/// <summary>What committing a frame came to.</summary>
public abstract record FrameCommit;

/// <summary>Stored: the bed's new state, its new events (with ids) and the response that was stored with the frame.</summary>
public sealed record FrameCommitted(BedState Bed, IReadOnlyList<StoredEvent> Events, string ResponseJson) : FrameCommit;

/// <summary>The frame_id was seen before: the response stored then, unchanged; nothing was written.</summary>
public sealed record FrameRepeated(string ResponseJson) : FrameCommit;

/// <summary>The monitor refused the frame (out of order); nothing was written.</summary>
public sealed record FrameRefused(string Detail) : FrameCommit;

/// <summary>A settings change as stored: the bed's new state and the events it caused (with ids).</summary>
public sealed record BedUpdated(BedState Bed, IReadOnlyList<StoredEvent> Events);

/// <summary>
/// Durable bed state and events (SQLite by default, PostgreSQL for several replicas). Every write is
/// one transaction that is committed before the caller answers; frames of one bed are serialised
/// (across processes on PostgreSQL by an advisory lock, on SQLite by its write lock).
/// </summary>
public interface IBedStore
{
    /// <summary>Creates the tables if they are missing.</summary>
    Task InitializeAsync(CancellationToken cancellation);

    /// <summary>
    /// Under the bed's lock: answers a repeated <paramref name="frameId"/> from storage; otherwise runs
    /// <paramref name="step"/> on the stored state and, if it accepts the frame, stores the new state,
    /// the events and (with the frame id) the response <paramref name="respond"/> builds from the stored events.
    /// </summary>
    Task<FrameCommit> CommitFrameAsync(string bedId, string? frameId, Func<BedState?, FrameStep> step,
        Func<FrameAccepted, IReadOnlyList<StoredEvent>, string> respond, CancellationToken cancellation);

    Task<BedState?> GetAsync(string bedId, CancellationToken cancellation);
    Task<IReadOnlyList<BedState>> ListAsync(CancellationToken cancellation);
    /// <summary>
    /// Under the bed's lock: changes the bed (creating it if the change does) and stores the events the change
    /// causes; <paramref name="update"/> returning null writes nothing and gives null.
    /// </summary>
    Task<BedUpdated?> UpdateAsync(string bedId, Func<BedState?, BedChange?> update, CancellationToken cancellation);
    /// <summary>Deletes the bed, its events and its remembered frame ids; false if it did not exist.</summary>
    Task<bool> DeleteAsync(string bedId, CancellationToken cancellation);
    /// <summary>The bed's events with id &gt; <paramref name="afterId"/> and time ≥ <paramref name="sinceMs"/>, in id order.</summary>
    Task<IReadOnlyList<StoredEvent>> EventsAsync(string bedId, long afterId, long? sinceMs, int limit, CancellationToken cancellation);
    /// <summary>Deletes events and frame ids stored before <paramref name="beforeMs"/> (server time); returns how many rows went.</summary>
    Task<int> PruneAsync(long beforeMs, CancellationToken cancellation);
}
