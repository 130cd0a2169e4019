using System.Threading.Channels;

namespace KeypointService.Models.Inference.Batching;

/// <summary>What the batcher observed about one dispatched batch (for metrics): each request's wait in the queue.</summary>
public readonly record struct BatchDispatch(IReadOnlyList<TimeSpan> Waits);

/// <summary>
/// A dynamic batcher for one model: requests enter a bounded FIFO queue; workers take the oldest
/// request, gather compatible ones behind it (up to the policy's size, waiting at most its delay
/// while the queue is short), run them as one call and hand each request its own result or its own
/// error. Requests are compatible when <c>compatible(first, other)</c> holds (e.g. the same loaded
/// model version); an incompatible request starts the next batch, so the order is kept. Waits are
/// measured on <c>time</c> (the system clock unless a test brings its own).
/// </summary>
public sealed class DynamicBatcher<TRequest, TResult> : IAsyncDisposable
{
    private sealed record Pending(TRequest Request, TaskCompletionSource<TResult> Result, long EnqueuedAt, CancellationToken Cancellation);

    private readonly string _name;
    private readonly BatchingPolicy _policy;
    private readonly Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> _execute;
    private readonly Func<TRequest, TRequest, bool> _compatible;
    private readonly Action<BatchDispatch>? _observe;
    private readonly TimeProvider _time;
    private readonly Channel<Pending> _queue;
    private readonly SemaphoreSlim _take = new(1, 1); // one worker gathers at a time, so batches stay FIFO
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _stop = new();
    private Pending? _carried; // the incompatible request that opens the next batch (guarded by _take)
    private int _depth;

    public DynamicBatcher(string name, BatchingPolicy policy, Func<IReadOnlyList<TRequest>, IReadOnlyList<TResult>> execute,
        Func<TRequest, TRequest, bool>? compatible = null, Action<BatchDispatch>? observe = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _name = name;
        _policy = policy.Validated(name);
        _execute = execute;
        _compatible = compatible ?? ((_, _) => true);
        _observe = observe;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_policy.MaxQueueLength)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: refused, never dropped
            SingleReader = false,
            SingleWriter = false,
        });
        _workers = Enumerable.Range(0, _policy.Workers).Select(_ => Task.Run(WorkAsync)).ToArray();
    }

    /// <summary>Requests waiting (not yet in a running batch).</summary>
    public int QueueDepth => Volatile.Read(ref _depth);

    public BatchingPolicy Policy => _policy;

    /// <summary>
    /// Queues a request and completes with its result, its own error, <see cref="QueueFullException"/>
    /// (refused at once) or <see cref="QueueTimeoutException"/> (waited too long).
    /// </summary>
    public Task<TResult> RunAsync(TRequest request, CancellationToken cancellation = default)
    {
        var pending = new Pending(request, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously),
            _time.GetTimestamp(), cancellation);
        Interlocked.Increment(ref _depth);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _depth);
            return Task.FromException<TResult>(_stop.IsCancellationRequested
                ? ShutDown()
                : new QueueFullException($"the queue of model '{_name}' is full ({_policy.MaxQueueLength} waiting); retry shortly"));
        }
        return pending.Result.Task;
    }

    private async Task WorkAsync()
    {
        var batch = new List<Pending>(_policy.MaxBatchSize);
        while (!_stop.IsCancellationRequested)
        {
            batch.Clear();
            try
            {
                await _take.WaitAsync(_stop.Token);
                try { await GatherAsync(batch); }
                finally { _take.Release(); }
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException && _stop.IsCancellationRequested)
            {
                foreach (var pending in batch) pending.Result.TrySetException(ShutDown());
                break;
            }
            Execute(batch);
        }
    }

    // Fills the batch: the first live request, then compatible ones until full, a preferred size or the delay.
    private async Task GatherAsync(List<Pending> batch)
    {
        var first = Take() ?? await NextLiveAsync(_stop.Token);
        batch.Add(first);
        var deadline = first.EnqueuedAt + (long)(_policy.MaxQueueDelay.TotalSeconds * _time.TimestampFrequency);
        while (batch.Count < _policy.MaxBatchSize && !_policy.PreferredBatchSizes.Contains(batch.Count))
        {
            var next = Take();
            if (next is null)
            {
                var remaining = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                if (remaining <= TimeSpan.Zero) break;
                using var delay = new CancellationTokenSource(remaining, _time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, delay.Token);
                try { next = await NextLiveAsync(wait.Token); }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested) { break; }
            }
            if (!_compatible(first.Request, next.Request)) { _carried = next; break; }
            batch.Add(next);
        }
    }

    // The carried-over request or one already queued, skipping dead ones; null when none is waiting.
    private Pending? Take()
    {
        if (_carried is { } carried) { _carried = null; return carried; }
        while (_queue.Reader.TryRead(out var pending))
        {
            Interlocked.Decrement(ref _depth);
            if (IsLive(pending)) return pending;
        }
        return null;
    }

    private async Task<Pending> NextLiveAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var pending = await _queue.Reader.ReadAsync(cancellation);
            Interlocked.Decrement(ref _depth);
            if (IsLive(pending)) return pending;
        }
    }

    // A request whose caller left, or that waited past the queue timeout, is answered without running.
    private bool IsLive(Pending pending)
    {
        if (pending.Cancellation.IsCancellationRequested)
        {
            pending.Result.TrySetCanceled(pending.Cancellation);
            return false;
        }
        var waited = _time.GetElapsedTime(pending.EnqueuedAt);
        if (waited > _policy.QueueTimeout)
        {
            pending.Result.TrySetException(new QueueTimeoutException(
                $"the request waited {waited.TotalMilliseconds:0} ms in the queue of model '{_name}' (limit {_policy.QueueTimeout.TotalMilliseconds:0} ms); retry shortly"));
            return false;
        }
        return true;
    }

    private void Execute(List<Pending> batch)
    {
        if (batch.Count == 0) return;
        _observe?.Invoke(new BatchDispatch(batch.Select(p => _time.GetElapsedTime(p.EnqueuedAt)).ToArray()));
        try
        {
            var results = _execute(batch.Select(p => p.Request).ToList());
            if (results.Count != batch.Count)
                throw new InvalidOperationException($"model '{_name}': a batch of {batch.Count} returned {results.Count} results");
            for (var i = 0; i < batch.Count; i++) batch[i].Result.TrySetResult(results[i]);
        }
        catch (Exception) when (batch.Count > 1)
        {
            // One request may have made the batch fail: run each alone so the others still get answers.
            foreach (var pending in batch) ExecuteAlone(pending);
        }
        catch (Exception e)
        {
            batch[0].Result.TrySetException(e);
        }
    }

    private void ExecuteAlone(Pending pending)
    {
        try { pending.Result.TrySetResult(_execute([pending.Request])[0]); }
        catch (Exception e) { pending.Result.TrySetException(e); }
    }

    private ObjectDisposedException ShutDown() => new($"the batcher of model '{_name}' is shut down");

    /// <summary>Stops taking requests, lets running batches finish and fails what is still queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel(); // before completing the queue, so a worker that sees it closed knows why
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        if (_carried is { } carried) carried.Result.TrySetException(ShutDown());
        while (_queue.Reader.TryRead(out var pending)) pending.Result.TrySetException(ShutDown());
        _stop.Dispose();
        _take.Dispose();
    }
}
