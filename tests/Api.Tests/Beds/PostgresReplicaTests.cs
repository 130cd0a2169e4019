using System.Collections.Concurrent;
using KeypointService.Api.Beds;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Beds.Storage;
using KeypointService.Models.Inference;

namespace KeypointService.Api.Tests.Beds;

/// <summary>
/// Several API replicas share one PostgreSQL bed store: ordering and frame-id dedup must hold in the
/// database, not in one process. Each "replica" here is its own <see cref="SqlBedStore"/> over its own
/// connection pool, as in deploy/local-topology.sh. Runs under scripts/with-postgres.sh (KPS_TEST_POSTGRES).
/// </summary>
public sealed class PostgresReplicaTests : IDisposable
{
    private const int Replicas = 3;
    private static readonly BedOptions Options = new() { DwellSeconds = 0, SensorTimeoutSeconds = 60 };
    private readonly List<PostgresDialect> _pools = [];

    // the test server's connection slots are shared by every test: give them back
    public void Dispose() { foreach (var pool in _pools) pool.Dispose(); }

    private async Task<SqlBedStore[]> ReplicasAsync()
    {
        var database = PostgresTestDatabase.Create();
        _pools.AddRange(Enumerable.Range(0, Replicas).Select(_ => new PostgresDialect(database)));
        var stores = _pools.Select(pool => new SqlBedStore(pool, TimeProvider.System)).ToArray();
        foreach (var store in stores) await store.InitializeAsync(CancellationToken.None);
        return stores;
    }

    /// <summary>Commits a frame; the answer records the frame count and time the commit saw, so commit order can be read back.</summary>
    private static Task<FrameCommit> Commit(IBedStore store, string bed, long ms, string frameId) =>
        store.CommitFrameAsync(bed, frameId,
            current => BedMonitor.Apply(current, bed, new FrameObservation(ms, frameId, "supine",
                [new KeypointResult("thorax", 10, 20, 0.1, 0.1, null)], 84, 192), Options, 1),
            (accepted, _) => $"{accepted.Next.Frames}:{accepted.Next.LastFrameMs}", CancellationToken.None);

    [Fact]
    public async Task The_same_frame_id_sent_to_every_replica_at_once_is_stored_once()
    {
        var stores = await ReplicasAsync();
        const string bed = "ward-1.bed-1";
        for (var k = 1; k <= 20; k++)
        {
            // four copies of frame k race on three replicas
            var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Commit(stores[i % Replicas], bed, k * 1000L, $"f{k}")));
            Assert.Single(results.OfType<FrameCommitted>());
            Assert.Equal(3, results.OfType<FrameRepeated>().Count());
            Assert.All(results, r => Assert.Equal($"{k}:{k * 1000L}", Answer(r)));
        }
        Assert.Equal(20, (await stores[1].GetAsync(bed, CancellationToken.None))!.Frames);
    }

    [Fact]
    public async Task Frames_racing_across_replicas_are_committed_in_time_order_without_lost_updates()
    {
        var stores = await ReplicasAsync();
        const string bed = "ward-1.bed-2";
        var committed = new ConcurrentBag<(long Count, long Ms)>();
        // 60 frames, sent all at once and spread over the replicas: some are refused as out of order,
        // every accepted one must see the state its predecessor committed.
        var results = await Task.WhenAll(Enumerable.Range(1, 60).Select(async k =>
        {
            var result = await Commit(stores[k % Replicas], bed, k * 1000L, $"f{k}");
            if (result is FrameCommitted c) committed.Add((c.Bed.Frames, c.Bed.LastFrameMs!.Value));
            return result;
        }));
        var order = committed.OrderBy(c => c.Count).ToList();
        Assert.Equal(Enumerable.Range(1, order.Count).Select(i => (long)i), order.Select(c => c.Count)); // 1, 2, 3, ...: no two commits saw the same state
        Assert.True(order.Zip(order.Skip(1)).All(p => p.First.Ms < p.Second.Ms), "accepted frames are in time order");
        Assert.Equal(60, order.Count + results.Count(r => r is FrameRefused));
        var stored = await stores[2].GetAsync(bed, CancellationToken.None);
        Assert.Equal((order.Count, order[^1].Ms), (stored!.Frames, stored.LastFrameMs!.Value));
    }

    private static string Answer(FrameCommit commit) => commit switch
    {
        FrameCommitted c => c.ResponseJson,
        FrameRepeated r => r.ResponseJson,
        _ => throw new InvalidOperationException($"unexpected {commit}"),
    };
}
