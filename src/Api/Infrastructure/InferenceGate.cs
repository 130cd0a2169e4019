using System.Diagnostics;
using KeypointService.Api.Infrastructure.Metrics;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Infrastructure;

/// <summary>Thrown when the service is saturated; becomes 503 with Retry-After.</summary>
public sealed class OverloadedException(string detail, int retryAfterSeconds) : Exception(detail)
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}

/// <summary>
/// Bounds concurrent inferences so that overload queues (up to a limit and a timeout) instead of
/// thrashing the CPU; beyond that, requests are refused with 503 at once.
/// </summary>
public sealed class InferenceGate
{
    private readonly SemaphoreSlim _slots;
    private readonly int _maxQueue;
    private readonly TimeSpan _timeout;
    private readonly ServiceMetrics? _metrics;
    private int _waiting;

    public InferenceGate(IOptions<InferenceOptions> options, ServiceMetrics? metrics = null)
    {
        _metrics = metrics;
        var o = options.Value;
        Concurrency = o.MaxConcurrency > 0 ? o.MaxConcurrency : Environment.ProcessorCount;
        _slots = new SemaphoreSlim(Concurrency, Concurrency);
        _maxQueue = Math.Max(0, o.MaxQueueLength);
        _timeout = TimeSpan.FromMilliseconds(Math.Max(0, o.QueueTimeoutMs));
    }

    public int Concurrency { get; }
    public int Waiting => Volatile.Read(ref _waiting);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellation)
    {
        if (_slots.Wait(0))
        {
            _metrics?.QueueWait.Observe(0); // observed for every admission, so the histogram's count is the number of gated inferences
            return new Slot(_slots);
        }
        if (Interlocked.Increment(ref _waiting) > _maxQueue)
        {
            Interlocked.Decrement(ref _waiting);
            throw new OverloadedException($"the inference queue is full ({_maxQueue} waiting); retry shortly", 1);
        }
        var start = Stopwatch.GetTimestamp();
        _metrics?.QueueDepth.Inc();
        try
        {
            if (!await _slots.WaitAsync(_timeout, cancellation))
                throw new OverloadedException($"no inference slot became free within {_timeout.TotalMilliseconds:0} ms; retry shortly", 1);
            return new Slot(_slots);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            _metrics?.QueueDepth.Dec();
            _metrics?.QueueWait.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;
        public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release(); }
    }
}
