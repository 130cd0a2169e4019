using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using static KeypointService.Api.Tests.Beds.BedTestHost;

namespace KeypointService.Api.Tests.Beds;

/// <summary>The /v1/beds endpoints over HTTP: frames in every body type, state, events, idempotency and every bad input as a problem.</summary>
public sealed class BedsApiTests : IDisposable
{
    private readonly BedTestHost _host = new();
    private HttpClient Client => _host.Client;

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_csv_frame_with_a_query_timestamp_returns_joints_posture_and_the_bed_state()
    {
        var r = await ReadJson(await _host.PostCsv("bed-1", $"?timestamp={T0}"), HttpStatusCode.OK);
        Assert.Equal("bed-1", r["bed_id"]!.GetValue<string>());
        Assert.Equal("2027-01-15T08:00:00.000Z", r["timestamp"]!.GetValue<string>());
        Assert.Equal(14, r["joints"]!.AsArray().Count);
        var label = r["posture"]!["label"]!.GetValue<string>();
        Assert.Contains(label, new[] { "supine", "left_side", "right_side", "prone" });
        var state = r["state"]!;
        Assert.Equal((label, 1L), (state["posture"]!.GetValue<string>(), state["frames"]!.GetValue<long>())); // dwell 0 in this host
        Assert.Equal(120.0, state["reposition_limit_minutes"]!.GetValue<double>());
        Assert.Equal("default", state["limit_source"]!.GetValue<string>());
        Assert.False(state["alert"]!["active"]!.GetValue<bool>());
        Assert.Equal("posture_changed", Assert.Single(r["events"]!.AsArray())!["type"]!.GetValue<string>());

        var got = await ReadJson(await Client.GetAsync("/v1/beds/bed-1"), HttpStatusCode.OK);
        Assert.Equal(state.ToJsonString(), got.ToJsonString());
        var all = await ReadJson(await Client.GetAsync("/v1/beds"), HttpStatusCode.OK);
        Assert.Equal("bed-1", Assert.Single(all.AsArray())!["bed_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_json_frame_takes_timestamp_and_frame_id_as_fields_and_a_repeated_frame_id_is_answered_again_counted_once()
    {
        var body = new JsonObject { ["timestamp"] = "2027-01-15T08:00:00Z", ["frame_id"] = "f-1", ["data"] = Rows() };
        var first = await _host.PostJson("bed-2", body);
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var again = await _host.PostJson("bed-2", new JsonObject { ["timestamp"] = T0 + 5000, ["frame_id"] = "f-1", ["data"] = Rows(shift: 8) });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(firstBody, await again.Content.ReadAsStringAsync());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        var state = await ReadJson(await Client.GetAsync("/v1/beds/bed-2"), HttpStatusCode.OK);
        Assert.Equal(1, state["frames"]!.GetValue<long>());
        Assert.Equal("2027-01-15T08:00:00.000Z", state["last_frame_at"]!.GetValue<string>());
    }

    [Fact]
    public async Task Frames_not_newer_than_the_last_accepted_one_are_a_409_problem()
    {
        await ReadJson(await _host.PostCsv("bed-3", $"?timestamp={T0 + 10_000}"), HttpStatusCode.OK);
        await Problem(await _host.PostCsv("bed-3", $"?timestamp={T0}"), HttpStatusCode.Conflict, "not newer");
        await Problem(await _host.PostCsv("bed-3", $"?timestamp={T0 + 10_000}&frame_id=x"), HttpStatusCode.Conflict, "2027-01-15T08:00:10.000Z");
        var state = await ReadJson(await Client.GetAsync("/v1/beds/bed-3"), HttpStatusCode.OK);
        Assert.Equal(1, state["frames"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("?timestamp=yesterday", "neither RFC 3339")]
    [InlineData("?timestamp=2027-01-15T08:00:00", "time zone")]
    [InlineData("", "timestamp is missing")]
    [InlineData("?timestamp=1800000000000&frame_id=has%20space", "frame_id")]
    public async Task A_bad_timestamp_or_frame_id_is_a_400_problem(string query, string detail) =>
        await Problem(await _host.PostCsv("bed-4", query), HttpStatusCode.BadRequest, detail);

    [Fact]
    public async Task Bad_json_frames_are_400_problems()
    {
        await Problem(await _host.PostJson("bed-5", new JsonObject { ["timestamp"] = true, ["data"] = Rows() }), HttpStatusCode.BadRequest, "body.timestamp");
        await Problem(await _host.PostJson("bed-5", new JsonObject { ["timestamp"] = T0 }), HttpStatusCode.BadRequest, "body");
        await Problem(await _host.PostJson("bed-5", new JsonObject { ["timestamp"] = T0, ["data"] = Rows(), ["extra"] = 1 }), HttpStatusCode.BadRequest, "extra");
        await Problem(await _host.PostJson("bed-5", new JsonObject { ["timestamp"] = T0, ["data"] = Rows() }, "?timestamp=5"), HttpStatusCode.BadRequest, "twice");
        await Problem(await Client.PostAsync("/v1/beds/bed-5/frames", new StringContent("[1,", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "malformed JSON");
        await Problem(await _host.PostCsv("bad%20bed", $"?timestamp={T0}"), HttpStatusCode.BadRequest, "bed id");
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/beds/bed-5")).StatusCode); // nothing was stored
    }

    [Fact]
    public async Task An_oversize_frame_is_a_413_problem() =>
        await Problem(await Client.PostAsync($"/v1/beds/bed-6/frames?timestamp={T0}",
            new StringContent(new string('1', 2 * 1024 * 1024), Encoding.UTF8, "text/csv")), HttpStatusCode.RequestEntityTooLarge, "limit");

    [Fact]
    public async Task An_unknown_bed_is_a_404_problem_everywhere()
    {
        await Problem(await Client.GetAsync("/v1/beds/nobody"), HttpStatusCode.NotFound, "no bed 'nobody'");
        await Problem(await Client.GetAsync("/v1/beds/nobody/events"), HttpStatusCode.NotFound, "no bed");
        await Problem(await Client.GetAsync("/v1/beds/nobody/events/stream"), HttpStatusCode.NotFound, "no bed");
        await Problem(await Client.DeleteAsync("/v1/beds/nobody"), HttpStatusCode.NotFound, "no bed");
    }

    [Fact]
    public async Task Delete_stops_monitoring_the_bed()
    {
        await ReadJson(await _host.PostCsv("bed-7", $"?timestamp={T0}"), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/v1/beds/bed-7")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/beds/bed-7")).StatusCode);
        var fresh = await ReadJson(await _host.PostCsv("bed-7", $"?timestamp={T0 - 1000}"), HttpStatusCode.OK); // a new bed: older times are fine
        Assert.Equal(1, fresh["state"]!["frames"]!.GetValue<long>());
    }

    [Fact]
    public async Task Events_list_posture_changes_and_sensor_gaps_filtered_by_time_and_id()
    {
        await ReadJson(await _host.PostCsv("bed-8", $"?timestamp={T0}"), HttpStatusCode.OK);
        var later = await ReadJson(await _host.PostCsv("bed-8", $"?timestamp={T0 + 120_000}"), HttpStatusCode.OK);
        var gap = Assert.Single(later["events"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "sensor_gap")!;
        Assert.Equal(120.0, gap["data"]!["gap_seconds"]!.GetValue<double>());

        var all = (await ReadJson(await Client.GetAsync("/v1/beds/bed-8/events"), HttpStatusCode.OK))["events"]!.AsArray();
        Assert.Equal("posture_changed", all[0]!["type"]!.GetValue<string>());
        Assert.Contains(all, e => e!["id"]!.GetValue<long>() == gap["id"]!.GetValue<long>());
        var since = (await ReadJson(await Client.GetAsync($"/v1/beds/bed-8/events?since={T0 + 120_000}"), HttpStatusCode.OK))["events"]!.AsArray();
        Assert.All(since, e => Assert.Equal("2027-01-15T08:02:00.000Z", e!["at"]!.GetValue<string>()));
        var after = (await ReadJson(await Client.GetAsync($"/v1/beds/bed-8/events?after_id={all[0]!["id"]}"), HttpStatusCode.OK))["events"]!.AsArray();
        Assert.Equal(all.Count - 1, after.Count);
        await Problem(await Client.GetAsync("/v1/beds/bed-8/events?since=soon"), HttpStatusCode.BadRequest, "since");
        await Problem(await Client.GetAsync("/v1/beds/bed-8/events?limit=0"), HttpStatusCode.BadRequest, "limit");
        await Problem(await Client.GetAsync("/v1/beds/bed-8/events?after_id=-1"), HttpStatusCode.BadRequest, "after_id");
    }

    [Fact]
    public async Task Put_sets_a_bed_limit_null_returns_it_to_the_default_and_the_alert_follows_the_limit()
    {
        var put = await Client.PutAsync("/v1/beds/bed-9", new StringContent("{\"reposition_limit_minutes\": 1}", Encoding.UTF8, "application/json"));
        var state = await ReadJson(put, HttpStatusCode.OK);
        Assert.Equal((1.0, "bed"), (state["reposition_limit_minutes"]!.GetValue<double>(), state["limit_source"]!.GetValue<string>()));
        await ReadJson(await _host.PostCsv("bed-9", $"?timestamp={T0}"), HttpStatusCode.OK);
        var late = await ReadJson(await _host.PostCsv("bed-9", $"?timestamp={T0 + 59_000}"), HttpStatusCode.OK);
        Assert.False(late["state"]!["alert"]!["active"]!.GetValue<bool>());
        var overdue = await ReadJson(await _host.PostCsv("bed-9", $"?timestamp={T0 + 61_000}"), HttpStatusCode.OK);
        Assert.True(overdue["state"]!["alert"]!["active"]!.GetValue<bool>());
        Assert.Contains(overdue["events"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "alert_raised");

        var reset = await ReadJson(await Client.PutAsync("/v1/beds/bed-9", new StringContent("{\"reposition_limit_minutes\": null}", Encoding.UTF8, "application/json")), HttpStatusCode.OK);
        Assert.Equal("default", reset["limit_source"]!.GetValue<string>());
        Assert.False(reset["alert"]!["active"]!.GetValue<bool>()); // 61 s in posture is within the default 120 min
        var cleared = JsonNode.Parse(await Client.GetStringAsync("/v1/beds/bed-9/events"))!["events"]!.AsArray().Last()!;
        Assert.Equal(("alert_cleared", "limit_changed"), (cleared["type"]!.GetValue<string>(), cleared["data"]!["reason"]!.GetValue<string>()));
        await Problem(await Client.PutAsync("/v1/beds/bed-9", new StringContent("{\"reposition_limit_minutes\": -3}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "minutes");
        await Problem(await Client.PutAsync("/v1/beds/bed-9", new StringContent("{\"limit\": 3}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "unknown property");
        await Problem(await Client.PutAsync("/v1/beds/bed-9", new StringContent("3", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Fact]
    public async Task A_bed_that_stops_sending_is_reported_offline_live_and_online_by_its_next_frame()
    {
        using var host = new BedTestHost(new Dictionary<string, string?> { ["Beds:SensorTimeoutSeconds"] = "1", ["Beds:SensorWatchSeconds"] = "0.2" });
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hung test, not a timing assertion
        await ReadJson(await host.PostCsv("bed-quiet", $"?timestamp={T0}"), HttpStatusCode.OK);
        var offline = await FirstLiveEvent(host, "bed-quiet", "sensor_offline", guard.Token);
        Assert.True(offline["data"]!["silent_seconds"]!.GetValue<double>() > 1);
        Assert.True((await ReadJson(await host.Client.GetAsync("/v1/beds/bed-quiet"), HttpStatusCode.OK))["sensor_offline"]!.GetValue<bool>());

        var back = await ReadJson(await host.PostCsv("bed-quiet", $"?timestamp={T0 + 10_000}"), HttpStatusCode.OK);
        Assert.Equal("sensor_online", back["events"]!.AsArray()[0]!["type"]!.GetValue<string>());
        Assert.False(back["state"]!["sensor_offline"]!.GetValue<bool>());
        var events = JsonNode.Parse(await host.Client.GetStringAsync("/v1/beds/bed-quiet/events"))!["events"]!.AsArray();
        Assert.Single(events, e => e!["type"]!.GetValue<string>() == "sensor_offline"); // reported once while silent
    }

    [Fact]
    public async Task An_alert_that_comes_due_between_frames_is_pushed_live_without_waiting_for_a_frame()
    {
        using var host = new BedTestHost(new Dictionary<string, string?> { ["Beds:RepositionLimitMinutes"] = "0.02", ["Beds:SensorWatchSeconds"] = "0.2" });
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hung test, not a timing assertion
        var first = await ReadJson(await host.PostCsv("bed-rare", $"?timestamp={T0}"), HttpStatusCode.OK);
        Assert.False(first["state"]!["alert"]!["active"]!.GetValue<bool>());
        var raised = await FirstLiveEvent(host, "bed-rare", "alert_raised", guard.Token);
        Assert.Equal("2027-01-15T08:00:00.000Z", raised["data"]!["last_frame_at"]!.GetValue<string>());
        Assert.True(raised["data"]!["time_in_posture_seconds"]!.GetValue<double>() > 1.2);
        Assert.True((await ReadJson(await host.Client.GetAsync("/v1/beds/bed-rare"), HttpStatusCode.OK))["alert"]!["active"]!.GetValue<bool>());

        var next = await ReadJson(await host.PostCsv("bed-rare", $"?timestamp={T0 + 5_000}"), HttpStatusCode.OK);
        Assert.DoesNotContain(next["events"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "alert_raised"); // raised once
        var events = JsonNode.Parse(await host.Client.GetStringAsync("/v1/beds/bed-rare/events"))!["events"]!.AsArray();
        Assert.Single(events, e => e!["type"]!.GetValue<string>() == "alert_raised");
    }

    /// <summary>Follows a bed's event stream until the first event of <paramref name="type"/>.</summary>
    private static async Task<JsonNode> FirstLiveEvent(BedTestHost host, string bedId, string type, CancellationToken cancellation)
    {
        using var response = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/beds/{bedId}/events/stream"),
            HttpCompletionOption.ResponseHeadersRead, cancellation);
        using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
        while (await stream.ReadLineAsync(cancellation) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal) && JsonNode.Parse(line[6..]) is { } e && e["type"]!.GetValue<string>() == type)
                return e;
        throw new InvalidOperationException($"the stream of {bedId} ended before a {type} event");
    }
}
