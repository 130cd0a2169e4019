using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using KeypointService.Api.Beds.Live;
using KeypointService.Api.Beds.Storage;
using static KeypointService.Api.Tests.Beds.BedTestHost;

namespace KeypointService.Api.Tests.Beds;

/// <summary>Server-Sent Events and the WebSocket, end to end through the in-process server, and the bounded queues behind them.</summary>
public sealed class BedsLiveTests : IDisposable
{
    private readonly BedTestHost _host = new();
    // A guard against a hung test, not a timing assertion: no test here waits on a clock.
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(2));

    public void Dispose()
    {
        _guard.Dispose();
        _host.Dispose();
    }

    private static async Task<(string? Event, string? Id, string Data)> ReadSseItem(StreamReader reader, CancellationToken cancellation)
    {
        string? type = null, id = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0 && data.Length > 0) return (type, id, data.ToString());
            if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
        }
        throw new EndOfStreamException("the SSE stream ended");
    }

    [Fact]
    public async Task The_event_stream_replays_stored_events_then_pushes_new_ones_live()
    {
        await ReadJson(await _host.PostCsv("bed-s", $"?timestamp={T0}"), HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/beds/bed-s/events/stream");
        using var response = await _host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _guard.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_guard.Token));

        var replayed = await ReadSseItem(reader, _guard.Token);
        Assert.Equal("event", replayed.Event);
        var first = JsonNode.Parse(replayed.Data)!;
        Assert.Equal(("posture_changed", replayed.Id), (first["type"]!.GetValue<string>(), first["id"]!.GetValue<long>().ToString()));

        var later = await ReadJson(await _host.PostCsv("bed-s", $"?timestamp={T0 + 120_000}"), HttpStatusCode.OK);
        foreach (var expected in later["events"]!.AsArray())
        {
            var live = await ReadSseItem(reader, _guard.Token);
            Assert.Equal("event", live.Event);
            Assert.Equal(expected!.ToJsonString(), JsonNode.Parse(live.Data)!.ToJsonString());
        }
    }

    [Fact]
    public async Task The_event_stream_resumes_after_last_event_id_and_rejects_a_bad_one()
    {
        var r = await ReadJson(await _host.PostCsv("bed-r", $"?timestamp={T0}"), HttpStatusCode.OK);
        var later = await ReadJson(await _host.PostCsv("bed-r", $"?timestamp={T0 + 120_000}"), HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/beds/bed-r/events/stream");
        request.Headers.Add("Last-Event-ID", r["events"]![0]!["id"]!.ToJsonString());
        using var response = await _host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _guard.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_guard.Token));
        var next = await ReadSseItem(reader, _guard.Token);
        Assert.Equal(later["events"]![0]!["id"]!.ToJsonString(), next.Id);

        using var bad = new HttpRequestMessage(HttpMethod.Get, "/v1/beds/bed-r/events/stream?after_id=x");
        await Problem(await _host.Client.SendAsync(bad, _guard.Token), HttpStatusCode.BadRequest, "after_id");
    }

    [Fact]
    public async Task A_slow_consumer_loses_the_oldest_pushes_and_is_told_how_many()
    {
        var dir = Directory.CreateTempSubdirectory("kps-beds-live-").FullName;
        try
        {
            var store = new SqlBedStore(new SqliteDialect(dir), TimeProvider.System);
            await store.InitializeAsync(_guard.Token);
            var connection = new LiveConnection("bed-x", capacity: 2, wantsFrames: false);
            for (var id = 1; id <= 5; id++) connection.Push(new LivePush(LiveKinds.Event, new { n = id }, id));
            connection.Complete();
            Assert.Equal(3, connection.Dropped);
            var items = new List<(string Type, string Data, string? Id)>();
            await foreach (var item in LiveStreams.EventStream(store, "bed-x", 0, connection, _guard.Token))
                items.Add((item.EventType!, item.Data, item.EventId));
            Assert.Equal([("dropped", "{\"dropped\":3}", null), ("event", "{\"n\":4}", "4"), ("event", "{\"n\":5}", "5")], items);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_websocket_envelope_carries_the_running_dropped_count() =>
        Assert.Equal("{\"type\":\"event\",\"dropped\":7,\"data\":{\"n\":1}}", LiveStreams.Envelope(new LivePush(LiveKinds.Event, new { n = 1 }, 1), 7));

    private async Task<WebSocket> Connect(string bed) =>
        await _host.Factory.Server.CreateWebSocketClient().ConnectAsync(new Uri($"ws://localhost/v1/beds/{bed}/ws"), _guard.Token);

    private async Task Send(WebSocket socket, string text) =>
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, _guard.Token);

    /// <summary>The next message, or null once the server has closed.</summary>
    private async Task<JsonNode?> Receive(WebSocket socket)
    {
        var buffer = new byte[1 << 20];
        var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, _guard.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return JsonNode.Parse(message.ToArray());
        }
    }

    private async Task<JsonNode> ReceiveType(WebSocket socket, string type)
    {
        while (await Receive(socket) is { } m)
            if (m["type"]!.GetValue<string>() == type) return m;
        throw new InvalidOperationException($"the socket closed before a '{type}' message ({socket.CloseStatus} {socket.CloseStatusDescription})");
    }

    [Fact]
    public async Task The_websocket_takes_frames_and_pushes_results_events_and_errors()
    {
        using var socket = await Connect("bed-w");
        await Send(socket, new JsonObject { ["timestamp"] = T0, ["frame_id"] = "w-1", ["data"] = Rows() }.ToJsonString());
        var evt = await ReceiveType(socket, "event");
        Assert.Equal("posture_changed", evt["data"]!["type"]!.GetValue<string>());
        var frame = await ReceiveType(socket, "frame");
        Assert.Equal((0L, "bed-w", "w-1"), (frame["dropped"]!.GetValue<long>(), frame["data"]!["bed_id"]!.GetValue<string>(), frame["data"]!["frame_id"]!.GetValue<string>()));
        Assert.Equal(14, frame["data"]!["joints"]!.AsArray().Count);

        // a frame posted over HTTP to the same bed is pushed too
        await ReadJson(await _host.PostCsv("bed-w", $"?timestamp={T0 + 1000}"), HttpStatusCode.OK);
        Assert.Equal("2027-01-15T08:00:01.000Z", (await ReceiveType(socket, "frame"))["data"]!["timestamp"]!.GetValue<string>());

        // a repeated frame id is answered again; an out-of-order frame is an error, and the socket stays open
        await Send(socket, new JsonObject { ["timestamp"] = T0, ["frame_id"] = "w-1", ["data"] = Rows() }.ToJsonString());
        Assert.Equal(frame["data"]!.ToJsonString(), (await ReceiveType(socket, "frame"))["data"]!.ToJsonString());
        await Send(socket, new JsonObject { ["timestamp"] = T0 + 500, ["data"] = Rows() }.ToJsonString());
        var error = await ReceiveType(socket, "error");
        Assert.Equal(409, error["data"]!["status"]!.GetValue<int>());
        Assert.Equal(WebSocketState.Open, socket.State);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", _guard.Token);
    }

    [Theory]
    [InlineData("hello", "not a frame")]
    [InlineData("{\"data\": [[1, 2], [3, 4]]}", "timestamp")]
    [InlineData("{\"timestamp\": \"soon\", \"data\": [[1, 2], [3, 4]]}", "timestamp")]
    [InlineData("[1, 2, 3]", "JSON object")]
    public async Task A_message_that_is_not_a_frame_closes_the_websocket_with_a_reason(string message, string reason)
    {
        using var socket = await Connect("bed-c");
        await Send(socket, message);
        Assert.Null(await Receive(socket));
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, socket.CloseStatus);
        Assert.Contains(reason, socket.CloseStatusDescription);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client.GetAsync("/v1/beds/bed-c", _guard.Token)).StatusCode);
    }

    [Fact]
    public async Task A_binary_message_closes_the_websocket_with_a_reason()
    {
        using var socket = await Connect("bed-b");
        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, _guard.Token);
        Assert.Null(await Receive(socket));
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, socket.CloseStatus);
        Assert.Contains("binary", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_plain_get_on_the_websocket_path_is_a_400_problem() =>
        await Problem(await _host.Client.GetAsync("/v1/beds/bed-w/ws", _guard.Token), HttpStatusCode.BadRequest, "WebSocket upgrade");
}
