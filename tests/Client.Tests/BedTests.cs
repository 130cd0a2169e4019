using System.Net;
using System.Text.Json;

namespace KeypointService.Client.Tests;

/// <summary>The bed endpoints and the event stream through the typed client against the real service (SQLite in a temporary directory).</summary>
public sealed class BedTests(ServiceFactory factory) : IClassFixture<ServiceFactory>, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 22, 0, 0, TimeSpan.Zero);
    private readonly KeypointServiceClient _client = factory.Client();
    private readonly float[,] _map = ServiceFactory.PressureMap();
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(60));

    public void Dispose() => _guard.Dispose();

    [Fact]
    public async Task A_frame_sequence_sets_posture_raises_an_alert_reports_a_gap_and_is_listed()
    {
        const string bed = "ward-1.bed-1";
        var limit = await _client.SetRepositionLimitAsync(bed, 1, _guard.Token);
        Assert.Equal((1.0, "bed", 0L), (limit.RepositionLimitMinutes, limit.LimitSource, limit.Frames));

        var first = await _client.PostFrameAsync(bed, _map, T0, "f-1", _guard.Token);
        Assert.Equal((bed, "f-1", T0), (first.BedId, first.FrameId, first.Timestamp));
        Assert.False(first.Replayed);
        Assert.Equal("left_side", first.Posture.Label);
        Assert.Equal(14, first.Joints.Count);
        var changed = Assert.Single(first.Events);
        Assert.Equal(BedEventTypes.PostureChanged, changed.Type);
        Assert.Equal("left_side", changed.Data.GetProperty("to").GetString());
        Assert.Equal(("left_side", T0, 1L), (first.State.Posture, first.State.PostureSince, first.State.Frames));

        var again = await _client.PostFrameAsync(bed, _map, T0, "f-1", _guard.Token);
        Assert.True(again.Replayed);
        Assert.Equal(first.State.Frames, again.State.Frames);

        await _client.PostFrameAsync(bed, _map, T0.AddSeconds(30), "f-2", _guard.Token);
        var late = await _client.PostFrameAsync(bed, _map, T0.AddSeconds(65), "f-3", _guard.Token);
        var raised = Assert.Single(late.Events);
        Assert.Equal(BedEventTypes.AlertRaised, raised.Type);
        Assert.True(late.State.Alert.Active);
        Assert.Equal(T0.AddSeconds(65), late.State.Alert.RaisedAt);
        Assert.Equal(T0.AddMinutes(1), late.State.Alert.DueAt);

        var gap = await _client.PostFrameAsync(bed, _map, T0.AddSeconds(200), cancellationToken: _guard.Token);
        Assert.Equal(BedEventTypes.SensorGap, Assert.Single(gap.Events).Type);

        var state = await _client.GetBedAsync(bed, _guard.Token);
        Assert.Equal((4L, "left_side", 200.0), (state.Frames, state.Posture, state.TimeInPostureSeconds));
        Assert.Equal(T0.AddSeconds(200), state.LastFrameAt);
        Assert.True(state.Alert.Active);
        Assert.Contains(await _client.ListBedsAsync(_guard.Token), b => b.BedId == bed && b.Frames == 4);

        var events = await _client.GetEventsAsync(bed, cancellationToken: _guard.Token);
        Assert.Equal(bed, events.BedId);
        Assert.Equal([BedEventTypes.PostureChanged, BedEventTypes.AlertRaised, BedEventTypes.SensorGap], events.Events.Select(e => e.Type));
        Assert.Equal(events.Events.Select(e => e.Id).Order(), events.Events.Select(e => e.Id));
        Assert.Equal(135.0, events.Events[2].DataAs<GapData>()!.GapSeconds);
        var since = await _client.GetEventsAsync(bed, since: T0.AddSeconds(60), cancellationToken: _guard.Token);
        Assert.Equal([BedEventTypes.AlertRaised, BedEventTypes.SensorGap], since.Events.Select(e => e.Type));
        var after = await _client.GetEventsAsync(bed, afterId: events.Events[0].Id, limit: 1, cancellationToken: _guard.Token);
        Assert.Equal(events.Events[1], Assert.Single(after.Events), EventComparer.Instance);

        var reset = await _client.SetRepositionLimitAsync(bed, null, _guard.Token);
        Assert.Equal("default", reset.LimitSource);

        await _client.DeleteBedAsync(bed, _guard.Token);
        var gone = await Assert.ThrowsAsync<KeypointServiceException>(() => _client.GetBedAsync(bed, _guard.Token));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.DoesNotContain(await _client.ListBedsAsync(_guard.Token), b => b.BedId == bed);
    }

    private sealed record GapData(DateTimeOffset From, DateTimeOffset To, double GapSeconds);

    [Fact]
    public async Task The_event_stream_replays_stored_events_then_delivers_one_a_posted_frame_causes()
    {
        const string bed = "ward-1.bed-2";
        var first = await _client.PostFrameAsync(bed, _map, T0, cancellationToken: _guard.Token);
        var stored = Assert.Single(first.Events);

        await using var stream = _client.StreamEventsAsync(bed, cancellationToken: _guard.Token).GetAsyncEnumerator(_guard.Token);
        Assert.True(await stream.MoveNextAsync());
        Assert.Equal(stored, stream.Current, EventComparer.Instance);

        // The stream is open (the replay came through it): a frame after a long gap causes a live sensor_gap event.
        var next = stream.MoveNextAsync().AsTask();
        var gap = await _client.PostFrameAsync(bed, _map, T0.AddMinutes(5), cancellationToken: _guard.Token);
        var live = Assert.Single(gap.Events);
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(30), _guard.Token), "the stream ended before the live event");
        Assert.Equal(live, stream.Current, EventComparer.Instance);
        Assert.Equal(BedEventTypes.SensorGap, stream.Current.Type);
        Assert.False(stream.Current.IsDropped);

        // Resuming after the first event replays only the later one.
        await using var resumed = _client.StreamEventsAsync(bed, stored.Id, _guard.Token).GetAsyncEnumerator(_guard.Token);
        Assert.True(await resumed.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30), _guard.Token));
        Assert.Equal(live.Id, resumed.Current.Id);
    }

    [Fact]
    public async Task Problems_become_exceptions_with_the_problem_detail()
    {
        const string bed = "ward-1.bed-3";
        await _client.PostFrameAsync(bed, _map, T0, cancellationToken: _guard.Token);

        var outOfOrder = await Assert.ThrowsAsync<KeypointServiceException>(() => _client.PostFrameAsync(bed, _map, T0.AddSeconds(-1), cancellationToken: _guard.Token));
        Assert.Equal(HttpStatusCode.Conflict, outOfOrder.StatusCode);
        Assert.Equal(409, outOfOrder.Problem.Status);
        Assert.Contains("2026-12-01T21:59:59", outOfOrder.Detail);
        Assert.False(string.IsNullOrEmpty(outOfOrder.TraceId));
        Assert.Contains(outOfOrder.Detail!, outOfOrder.Message);

        var unknown = await Assert.ThrowsAsync<KeypointServiceException>(() => _client.GetBedAsync("no-such-bed", _guard.Token));
        Assert.Equal((HttpStatusCode.NotFound, "Unknown bed"), (unknown.StatusCode, unknown.Title));
        Assert.Contains("no bed 'no-such-bed'", unknown.Detail);
        Assert.Equal(JsonValueKind.Object, unknown.Problem.Raw.ValueKind);

        var stream = await Assert.ThrowsAsync<KeypointServiceException>(async () =>
        {
            await foreach (var _ in _client.StreamEventsAsync("no-such-bed", cancellationToken: _guard.Token)) { }
        });
        Assert.Equal(HttpStatusCode.NotFound, stream.StatusCode);

        var badLimit = await Assert.ThrowsAsync<KeypointServiceException>(() => _client.SetRepositionLimitAsync(bed, -5, _guard.Token));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Contains("reposition_limit_minutes", badLimit.Detail);

        var model = await Assert.ThrowsAsync<KeypointServiceException>(() => _client.PredictPressureMapAsync("no-such-model", _map, cancellationToken: _guard.Token));
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        Assert.Contains("no-such-model", model.Detail);

        var media = await Assert.ThrowsAsync<KeypointServiceException>(() => _client.PredictAsync("spmkd", [1, 2, 3], "application/x-unknown", cancellationToken: _guard.Token));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, media.StatusCode);
        Assert.False(string.IsNullOrEmpty(media.Detail));
    }

    /// <summary>Events compared by value (their data is a JsonElement, which compares by reference).</summary>
    private sealed class EventComparer : IEqualityComparer<BedEvent>
    {
        public static readonly EventComparer Instance = new();
        public bool Equals(BedEvent? x, BedEvent? y) =>
            x is not null && y is not null && (x.Id, x.BedId, x.Type, x.At) == (y.Id, y.BedId, y.Type, y.At) && x.Data.GetRawText() == y.Data.GetRawText();
        public int GetHashCode(BedEvent e) => e.Id.GetHashCode();
    }
}
