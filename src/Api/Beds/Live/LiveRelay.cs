namespace KeypointService.Api.Beds.Live;

/// <summary>
/// Carries a bed's live pushes to the other replicas of the service, whose own connections to that bed
/// then receive them as if the frame had been posted there. Single-process stores need none.
/// </summary>
public interface ILiveRelay
{
    /// <summary>Hands the pushes of one commit over for the other replicas; never waits for them and never fails the caller.</summary>
    void Relay(string bedId, IReadOnlyList<LivePush> pushes);
}

/// <summary>One process (SQLite): every live connection is in this process's hub.</summary>
public sealed class NoLiveRelay : ILiveRelay
{
    public void Relay(string bedId, IReadOnlyList<LivePush> pushes) { }
}
