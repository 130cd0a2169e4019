namespace KeypointService.Models.Inference.Batching;

/// <summary>
/// How one model's requests are batched, as Triton's dynamic batcher: a batch closes when it reaches
/// <see cref="MaxBatchSize"/> or a preferred size, or when its oldest request has waited
/// <see cref="MaxQueueDelay"/> for company.
/// </summary>
public sealed record BatchingPolicy
{
    /// <summary>Largest batch; 1 runs every request alone (a model without a dynamic batch dimension).</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>Longest a request waits for others to join its batch while the queue is short.</summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMicroseconds(500);

    /// <summary>Sizes at which a batch is dispatched at once, without waiting out the delay.</summary>
    public IReadOnlyList<int> PreferredBatchSizes { get; init; } = [];

    /// <summary>Requests that may wait; one more is refused at once (503 with Retry-After).</summary>
    public int MaxQueueLength { get; init; } = 256;

    /// <summary>Longest a request may wait in the queue before it is refused (503).</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Batches of one model running at once (each uses the session's intra-op threads).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad setting.</summary>
    public BatchingPolicy Validated(string model)
    {
        if (MaxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, $"model '{model}': MaxBatchSize must be at least 1");
        if (MaxQueueDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxQueueDelay), MaxQueueDelay, $"model '{model}': MaxQueueDelay must not be negative");
        if (MaxQueueLength < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueueLength), MaxQueueLength, $"model '{model}': MaxQueueLength must be at least 1");
        if (QueueTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(QueueTimeout), QueueTimeout, $"model '{model}': QueueTimeout must be positive");
        if (Workers < 1) throw new ArgumentOutOfRangeException(nameof(Workers), Workers, $"model '{model}': Workers must be at least 1");
        if (PreferredBatchSizes.Any(s => s < 1 || s > MaxBatchSize))
            throw new ArgumentOutOfRangeException(nameof(PreferredBatchSizes), string.Join(",", PreferredBatchSizes), $"model '{model}': preferred batch sizes must lie in 1..MaxBatchSize ({MaxBatchSize})");
        return this;
    }
}

/// <summary>The queue is full: the request was not accepted. Retry after <see cref="RetryAfterSeconds"/>.</summary>
public sealed class QueueFullException(string message, int retryAfterSeconds = 1) : Exception(message)
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}

/// <summary>The request waited longer than the queue timeout and was not run. Retry after <see cref="RetryAfterSeconds"/>.</summary>
public sealed class QueueTimeoutException(string message, int retryAfterSeconds = 1) : Exception(message)
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}
