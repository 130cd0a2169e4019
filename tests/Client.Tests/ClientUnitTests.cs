using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace KeypointService.Client.Tests;

/// <summary>Client behaviour that the real service does not show on demand: dropped notices, Retry-After, non-problem errors, registration.</summary>
public sealed class ClientUnitTests
{
    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(answer(request));
        }
    }

    private static (KeypointServiceClient Client, StubHandler Handler) Stub(Func<HttpRequestMessage, HttpResponseMessage> answer, string baseAddress = "http://kps.test/api")
    {
        var handler = new StubHandler(answer);
        return (new KeypointServiceClient(new HttpClient(handler), new Uri(baseAddress)), handler);
    }

    [Fact]
    public async Task The_stream_parses_events_exposes_dropped_notices_and_skips_unknown_items()
    {
        const string sse =
            "event: event\nid: 41\ndata: {\"id\":41,\"bed_id\":\"b\",\"type\":\"posture_changed\",\"at\":\"2026-12-01T22:15:30.000Z\",\"data\":{\"to\":\"supine\"}}\n\n" +
            ": a comment\n\n" +
            "event: dropped\ndata: {\"dropped\":7}\n\n" +
            "event: something_new\ndata: {}\n\n" +
            "event: event\nid: 45\ndata: {\"id\":45,\"bed_id\":\"b\",\"type\":\"sensor_gap\",\n" +
            "data: \"at\":\"2026-12-01T22:20:00.000Z\",\"data\":{\"gap_seconds\":90}}\n\n";
        var (client, handler) = Stub(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent(sse, Encoding.UTF8, "text/event-stream"),
        });

        var items = new List<BedEvent>();
        await foreach (var e in client.StreamEventsAsync("b", lastEventId: 40)) items.Add(e);

        Assert.Equal(["posture_changed", "dropped", "sensor_gap"], items.Select(e => e.Type));
        Assert.Equal((41L, new DateTimeOffset(2026, 12, 1, 22, 15, 30, TimeSpan.Zero)), (items[0].Id, items[0].At));
        Assert.Equal("supine", items[0].Data.GetProperty("to").GetString());
        Assert.True(items[1].IsDropped);
        Assert.Equal(7, items[1].DroppedCount);
        Assert.Null(items[0].DroppedCount);
        Assert.Equal(90, items[2].Data.GetProperty("gap_seconds").GetInt32()); // data split over two data: lines
        var request = Assert.Single(handler.Requests);
        Assert.Equal("http://kps.test/api/v1/beds/b/events/stream", request.RequestUri!.ToString());
        Assert.Equal("40", Assert.Single(request.Headers.GetValues("Last-Event-ID")));
    }

    [Fact]
    public async Task An_overload_problem_carries_retry_after()
    {
        var (client, _) = Stub(_ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            {
                Content = new StringContent("{\"type\":\"https://httpstatuses.io/503\",\"title\":\"Overloaded\",\"status\":503,\"detail\":\"queue full\",\"traceId\":\"t-1\"}",
                    Encoding.UTF8, "application/problem+json"),
            };
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(2));
            return response;
        });
        var e = await Assert.ThrowsAsync<KeypointServiceException>(() => client.ListBedsAsync());
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Overloaded", "queue full", "t-1"), (e.StatusCode, e.Title, e.Detail, e.TraceId));
        Assert.Equal(TimeSpan.FromSeconds(2), e.RetryAfter);
        Assert.Equal("503 Overloaded: queue full (trace t-1)", e.Message);
        Assert.IsAssignableFrom<HttpRequestException>(e);
    }

    [Fact]
    public async Task A_non_problem_error_keeps_the_status_and_the_body()
    {
        var (client, _) = Stub(_ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>proxy</html>"), ReasonPhrase = "Bad Gateway" });
        var e = await Assert.ThrowsAsync<KeypointServiceException>(() => client.GetBedAsync("b"));
        Assert.Equal((502, "Bad Gateway", null), (e.Problem.Status, e.Title, e.Detail));
        Assert.Equal("<html>proxy</html>", e.ResponseBody);
        Assert.Null(e.RetryAfter);
    }

    [Fact]
    public async Task Frames_and_queries_are_addressed_with_escaped_values()
    {
        var (client, handler) = Stub(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"bed_id\":\"b\",\"events\":[]}") });
        var page = await client.GetEventsAsync("ward 1/bed", since: new DateTimeOffset(2026, 12, 1, 23, 0, 0, TimeSpan.FromHours(1)), afterId: 5, limit: 10);
        Assert.Empty(page.Events);
        Assert.Equal("/api/v1/beds/ward%201%2Fbed/events?since=2026-12-01T22%3A00%3A00.000Z&after_id=5&limit=10",
            handler.Requests[0].RequestUri!.PathAndQuery);
        Assert.Throws<ArgumentException>(() => { _ = client.PredictPressureMapAsync("spmkd", new float[5], 2, 2); });
        await Assert.ThrowsAsync<ArgumentException>(() => client.PredictImageAsync("heatmap", [1, 2, 3]));
    }

    [Fact]
    public async Task The_service_collection_extension_registers_a_typed_client()
    {
        using var factory = new ServiceFactory();
        var services = new ServiceCollection();
        services.AddKeypointServiceClient(new Uri("http://localhost/"))
            .ConfigurePrimaryHttpMessageHandler(() => factory.Server.CreateHandler());
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<KeypointServiceClient>();
        var result = await client.PredictPressureMapAsync("spmkd", ServiceFactory.PressureMap());
        Assert.Equal("left_side", result.Posture?.Label);
        Assert.Empty(await client.ListBedsAsync());
    }
}
