using KeypointService.Models.Inference.Batching;
using Microsoft.Extensions.Time.Testing;

namespace KeypointService.Models.Tests.Inference;

/// <summary>
/// The scheduling rules of the dynamic batcher, with a fake model (results = request × 10) whose first
/// batch can be held open, so that what queues behind it is known exactly (no timing assumptions).
/// </summary>
public class DynamicBatcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed class FakeModel
    {
        public readonly List<int[]> Batches = [];
        public readonly ManualResetEventSlim Release = new(true);
        public readonly ManualResetEventSlim Entered = new(false);

        public IReadOnlyList<int> Run(IReadOnlyList<int> requests)
        {
            lock (Batches) Batches.Add(requests.ToArray());
            Entered.Set();
            Release.Wait(Patience);
            if (requests.Contains(-1)) throw new InvalidOperationException("poison");
            return requests.Select(r => r * 10).ToList();
        }

        /// <summary>Starts a request that holds the worker until <see cref="Release"/> is set.</summary>
        public Task<int> Block(DynamicBatcher<int, int> batcher, int request = 0)
        {
            Release.Reset();
            Entered.Reset();
            var task = batcher.RunAsync(request);
            Assert.True(Entered.Wait(Patience), "the worker never started the blocking batch");
            return task;
        }
    }

    private static BatchingPolicy Policy(int maxBatch = 8, int queue = 64, double delayMs = 0, int[]? preferred = null, double timeoutMs = 30_000) => new()
    {
        MaxBatchSize = maxBatch,
        MaxQueueLength = queue,
        MaxQueueDelay = TimeSpan.FromMilliseconds(delayMs),
        PreferredBatchSizes = preferred ?? [],
        QueueTimeout = TimeSpan.FromMilliseconds(timeoutMs),
    };

    [Fact]
    public async Task Requests_that_queue_behind_a_running_batch_run_together_and_each_gets_its_own_result()
    {
        var model = new FakeModel();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(), model.Run);
        var first = model.Block(batcher);
        var queued = Enumerable.Range(1, 5).Select(i => batcher.RunAsync(i)).ToArray();
        Assert.Equal(5, batcher.QueueDepth);
        model.Release.Set();
        Assert.Equal(0, await first.WaitAsync(Patience));
        Assert.Equal(new[] { 10, 20, 30, 40, 50 }, await Task.WhenAll(queued).WaitAsync(Patience));
        Assert.Equal([[0], [1, 2, 3, 4, 5]], model.Batches);
    }

    [Fact]
    public async Task Batches_never_exceed_the_maximum_and_keep_the_order()
    {
        var model = new FakeModel();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(maxBatch: 4), model.Run);
        var first = model.Block(batcher);
        var queued = Enumerable.Range(1, 10).Select(i => batcher.RunAsync(i)).ToArray();
        model.Release.Set();
        await Task.WhenAll(queued.Append(first)).WaitAsync(Patience);
        Assert.Equal([[0], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10]], model.Batches);
    }

    [Fact]
    public async Task A_preferred_size_dispatches_without_waiting_out_the_delay()
    {
        var model = new FakeModel();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(delayMs: 3_600_000, preferred: [2]), model.Run);
        // With an hour's delay, only the preferred size can dispatch these two.
        var first = batcher.RunAsync(7);
        var partner = batcher.RunAsync(8);
        Assert.Equal(new[] { 70, 80 }, await Task.WhenAll(first, partner).WaitAsync(Patience));
        Assert.Equal([[7, 8]], model.Batches);
    }

    [Fact]
    public async Task A_failing_request_does_not_fail_the_others_in_its_batch()
    {
        var model = new FakeModel();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(), model.Run);
        var first = model.Block(batcher);
        var good = batcher.RunAsync(1);
        var poison = batcher.RunAsync(-1);
        var other = batcher.RunAsync(2);
        model.Release.Set();
        Assert.Equal(10, await good.WaitAsync(Patience));
        Assert.Equal(20, await other.WaitAsync(Patience));
        Assert.Equal("poison", (await Assert.ThrowsAsync<InvalidOperationException>(() => poison.WaitAsync(Patience))).Message);
        await first;
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_and_a_late_request_times_out()
    {
        var model = new FakeModel();
        // A clock that moves only when told: how long the worker takes to start cannot time anything out.
        var clock = new FakeTimeProvider();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(queue: 2, timeoutMs: 500), model.Run, time: clock);
        var first = model.Block(batcher);
        var a = batcher.RunAsync(1);
        var b = batcher.RunAsync(2);
        var refused = await Assert.ThrowsAsync<QueueFullException>(() => batcher.RunAsync(3));
        Assert.Contains("queue of model 'fake' is full (2 waiting)", refused.Message);
        clock.Advance(TimeSpan.FromMilliseconds(700)); // past the queue timeout while the first batch runs
        model.Release.Set();
        await first;
        Assert.Contains("waited 700 ms", (await Assert.ThrowsAsync<QueueTimeoutException>(() => a.WaitAsync(Patience))).Message);
        await Assert.ThrowsAsync<QueueTimeoutException>(() => b.WaitAsync(Patience));
        Assert.Equal([[0]], model.Batches); // the late ones never ran
    }

    [Fact]
    public async Task A_request_within_the_queue_timeout_still_runs()
    {
        var model = new FakeModel();
        var clock = new FakeTimeProvider();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(timeoutMs: 500), model.Run, time: clock);
        var first = model.Block(batcher);
        var waiting = batcher.RunAsync(1);
        clock.Advance(TimeSpan.FromMilliseconds(499));
        model.Release.Set();
        Assert.Equal(10, await waiting.WaitAsync(Patience));
        await first;
        Assert.Equal([[0], [1]], model.Batches);
    }

    [Fact]
    public async Task An_incompatible_request_opens_the_next_batch()
    {
        var model = new FakeModel();
        // Compatible = same parity (think: the same loaded model version).
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(), model.Run, compatible: (a, b) => a % 2 == b % 2);
        var first = model.Block(batcher);
        var queued = new[] { 1, 3, 4, 5, 6 }.Select(i => batcher.RunAsync(i)).ToArray();
        model.Release.Set();
        await Task.WhenAll(queued.Append(first)).WaitAsync(Patience);
        Assert.Equal([[0], [1, 3], [4], [5], [6]], model.Batches);
    }

    [Fact]
    public async Task A_cancelled_request_is_not_run()
    {
        var model = new FakeModel();
        await using var batcher = new DynamicBatcher<int, int>("fake", Policy(), model.Run);
        var first = model.Block(batcher);
        using var cancel = new CancellationTokenSource();
        var left = batcher.RunAsync(1, cancel.Token);
        var stays = batcher.RunAsync(2);
        cancel.Cancel();
        model.Release.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left.WaitAsync(Patience));
        Assert.Equal(20, await stays.WaitAsync(Patience));
        await first;
        Assert.Equal([[0], [2]], model.Batches);
    }

    [Fact]
    public async Task Disposing_fails_what_is_queued_and_refuses_new_requests()
    {
        var model = new FakeModel();
        var batcher = new DynamicBatcher<int, int>("fake", Policy(), model.Run);
        var first = model.Block(batcher);
        var queued = batcher.RunAsync(1);
        var disposing = batcher.DisposeAsync().AsTask();
        model.Release.Set();
        await disposing.WaitAsync(Patience);
        Assert.Equal(0, await first);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued.WaitAsync(Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.RunAsync(2));
    }

    [Fact]
    public void Bad_policies_are_refused_with_the_setting_named()
    {
        Assert.Contains("MaxBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => Policy(maxBatch: 0).Validated("m")).Message);
        Assert.Contains("preferred batch sizes", Assert.Throws<ArgumentOutOfRangeException>(() => Policy(maxBatch: 4, preferred: [8]).Validated("m")).Message);
    }
}
