using System.Text.Json;
using System.Threading.Channels;
using KeypointService.Api.Beds.Storage;
using Npgsql;

namespace KeypointService.Api.Beds.Live;

/// <summary>
/// Live pushes across replicas sharing a PostgreSQL bed store, with PostgreSQL's own LISTEN/NOTIFY:
/// each replica sends its pushes on one channel (after the commit, from a queue, so no request waits for
/// it) and listens on a dedicated connection, handing on to its local hub what other replicas sent. A
/// notification carries the push itself (the event or the frame result as JSON); one larger than
/// PostgreSQL's payload limit (8000 bytes) is not relayed and counted, and so are pushes lost while the
/// listening connection is re-established: a stream's client recovers events from storage by
/// reconnecting with Last-Event-ID.
/// </summary>
public sealed class PostgresLiveRelay(PostgresDialect database, BedLiveHub hub, ILogger<PostgresLiveRelay> logger) : BackgroundService, ILiveRelay
{
    public const string ChannelName = "kps_bed_live";
    public const int MaxPayloadBytes = 7900; // PostgreSQL refuses 8000 bytes and more

    private readonly string _origin = Guid.NewGuid().ToString("N");
    private readonly Channel<string> _outgoing = System.Threading.Channels.Channel.CreateBounded<string>(
        new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _notRelayed;

    /// <summary>Pushes this replica could not hand on (too large, queue overflow, or the database unreachable).</summary>
    public long NotRelayed => Interlocked.Read(ref _notRelayed);

    /// <summary>Completes once the first LISTEN is in place (tests wait for it before sending).</summary>
    public Task Listening => _listening.Task;

    public void Relay(string bedId, IReadOnlyList<LivePush> pushes)
    {
        foreach (var push in pushes)
        {
            var message = JsonSerializer.Serialize(new RelayedPush(_origin, bedId, push.Kind, push.EventId,
                JsonSerializer.SerializeToElement(push.Payload, BedJson.Options)), BedJson.Options);
            if (System.Text.Encoding.UTF8.GetByteCount(message) > MaxPayloadBytes || !_outgoing.Writer.TryWrite(message))
                Interlocked.Increment(ref _notRelayed);
        }
    }

    /// <summary>Starts listening before the service reports ready, so a replica that is ready also receives.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);
        try { await Listening.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken); }
        catch (TimeoutException) { logger.LogWarning("Live relay: not listening after 10 s; pushes from other replicas arrive once it is"); }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(SendAsync(stoppingToken), ListenAsync(stoppingToken));

    private async Task SendAsync(CancellationToken stoppingToken)
    {
        await foreach (var message in _outgoing.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await using var connection = await database.DataSource.OpenConnectionAsync(stoppingToken);
                await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
                command.Parameters.AddWithValue("channel", ChannelName);
                command.Parameters.AddWithValue("payload", message);
                await command.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Interlocked.Increment(ref _notRelayed);
                logger.LogWarning("Live relay: a push was not sent to the other replicas: {Error}", e.Message);
            }
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, n) => Deliver(n.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection)) await listen.ExecuteNonQueryAsync(stoppingToken);
                _listening.TrySetResult();
                while (true)
                {
                    // a connection that died without a word (a dropped network path) would wait forever:
                    // after 30 s without a notification, a round trip proves it alive or throws
                    if (await connection.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken)) continue;
                    await using var ping = new NpgsqlCommand("SELECT 1", connection);
                    await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                logger.LogWarning("Live relay: listening connection lost ({Error}); reconnecting in 1 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Deliver(string payload)
    {
        try
        {
            var push = JsonSerializer.Deserialize<RelayedPush>(payload, BedJson.Options);
            if (push is null || push.Origin == _origin) return; // this replica's own pushes went to its hub directly
            hub.Publish(push.BedId, new LivePush(push.Kind, push.Payload, push.EventId));
        }
        catch (JsonException e)
        {
            logger.LogWarning("Live relay: a notification on {Channel} was not a push: {Error}", ChannelName, e.Message);
        }
    }

    private sealed record RelayedPush(string Origin, string BedId, string Kind, long? EventId, JsonElement Payload);
}
