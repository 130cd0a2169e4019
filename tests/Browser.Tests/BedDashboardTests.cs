using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace KeypointService.Browser.Tests;

/// <summary>
/// The bed dashboard (beds.html) in Chromium against the real API with its own temporary bed store:
/// frames posted through the API show up as beds with the API's posture and alert, a later frame
/// reaches the page live (Server-Sent Events and the selected bed's WebSocket), and a new bed appears.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BedDashboardTests(BrowserFixture fixture) : IAsyncLifetime
{
    private const long T0 = 1_800_000_000_000; // 2027-01-15T08:00:00Z
    private const string BedA = "ward-1.bed-01";
    private const string BedB = "ward-1.bed-02";
    private const string BedC = "ward-1.bed-03";
    // Bounds a wait for something pushed live; it asserts no speed (two shared cores may be busy).
    private const float LiveTimeoutMs = 30_000;

    private readonly string _dataPath = Directory.CreateTempSubdirectory("kps-beds-browser-").FullName;
    private readonly List<string> _consoleErrors = [];
    private LandingPageHost _host = null!;
    private HttpClient _client = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        // A posture counts at once, and a posture held for more than a minute (of frame time) raises the alert.
        _host = new LandingPageHost(new Dictionary<string, string?>
        {
            ["Beds:DataPath"] = _dataPath,
            ["Beds:DwellSeconds"] = "0",
            ["Beds:RepositionLimitMinutes"] = "1",
            ["Beds:SensorTimeoutSeconds"] = "3600",
        });
        _client = new HttpClient { BaseAddress = _host.BaseAddress };
        _context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _host.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1200, Height = 1000 },
        });
        _page = await _context.NewPageAsync();
        _page.SetDefaultTimeout(60_000);
        _page.Console += (_, message) => { if (message.Type == "error") _consoleErrors.Add(message.Text); };
        _page.PageError += (_, error) => _consoleErrors.Add($"uncaught: {error}");
    }

    public async Task DisposeAsync()
    {
        await _context.CloseAsync();
        _client.Dispose();
        await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataPath, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Dashboard_shows_every_bed_with_its_posture_and_alert_and_updates_live()
    {
        await PostFrameAsync(BedA, T0);
        await PostFrameAsync(BedA, T0 + 10_000);
        await PostFrameAsync(BedB, T0);
        using var overdue = await PostFrameAsync(BedB, T0 + 90_000); // 90 s in one posture > the 1 min limit
        Assert.Contains(overdue.RootElement.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == "alert_raised");

        using var list = JsonDocument.Parse(await _client.GetStringAsync("/v1/beds"));
        var states = list.RootElement.EnumerateArray().ToDictionary(b => b.GetProperty("bed_id").GetString()!);
        Assert.Equal([BedA, BedB], states.Keys.Order());

        var response = await _page.GotoAsync("/beds.html");
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        // The landing page's policy: only the service's own scripts and styles (a violation would log a console error).
        Assert.Equal("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            (await response.AllHeadersAsync())["content-security-policy"]);
        await _page.WaitForSelectorAsync("#beds[data-loaded=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

        foreach (var (id, state) in states)
        {
            var row = Row(id);
            var posture = state.GetProperty("posture").GetString()!;
            Assert.Equal(posture, await row.GetAttributeAsync("data-posture"));
            Assert.Equal(posture.Replace('_', ' '), (await row.Locator(".posture").TextContentAsync())?.Trim());
            var active = state.GetProperty("alert").GetProperty("active").GetBoolean();
            Assert.Equal(id == BedB, active);
            Assert.Equal(active ? "active" : "none", await row.GetAttributeAsync("data-alert"));
            Assert.Equal(active, await row.EvaluateAsync<bool>("r => r.classList.contains('alert-active')"));
            Assert.Equal(active, (await row.Locator(".alert").TextContentAsync())!.Contains("Reposition now"));
            Assert.Equal(state.GetProperty("last_frame_at").GetString(), await row.Locator(".last-frame time").GetAttributeAsync("datetime"));
            Assert.Equal("online", await row.GetAttributeAsync("data-sensor")); // frames just came: no offline badge
            Assert.Equal(0, await row.Locator(".offline-badge").CountAsync());
        }
        // Highlighted, not only in words: the alert row's cells have another background than the others.
        var alertBackground = await Row(BedB).Locator(".alert").EvaluateAsync<string>("c => getComputedStyle(c).backgroundColor");
        var plainBackground = await Row(BedA).Locator(".alert").EvaluateAsync<string>("c => getComputedStyle(c).backgroundColor");
        Assert.NotEqual(plainBackground, alertBackground);

        // Select bed A: its stored events, and its WebSocket for the frames to come.
        await Row(BedA).Locator("button.bed-select").ClickAsync();
        Assert.Equal("true", await Row(BedA).Locator("button.bed-select").GetAttributeAsync("aria-pressed"));
        await _page.WaitForSelectorAsync("#events[data-loaded=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.Equal(["posture_changed"], await _page.Locator("#events li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.type)"));
        await _page.WaitForSelectorAsync("#detail[data-socket=open]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.True(await _page.IsVisibleAsync("#map-note"), "the page says why no heat map is drawn");

        // A later frame of bed A (2 min in one posture): the alert, the event and the joints arrive live.
        using var late = await PostFrameAsync(BedA, T0 + 120_000);
        var live = new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = LiveTimeoutMs };
        await _page.WaitForSelectorAsync($"#beds tr[data-bed-id='{BedA}'][data-alert=active]", live);
        await _page.WaitForSelectorAsync("#events li[data-type=alert_raised]", live);
        var frameAt = late.RootElement.GetProperty("timestamp").GetString();
        await _page.WaitForSelectorAsync($"#mat[data-frame-at='{frameAt}']", live);
        Assert.Equal(late.RootElement.GetProperty("joints").GetArrayLength().ToString(System.Globalization.CultureInfo.InvariantCulture),
            await _page.GetAttributeAsync("#mat", "data-joints"));
        Assert.Equal(frameAt, await Row(BedA).Locator(".last-frame time").GetAttributeAsync("datetime"));
        Assert.Equal("3", await Row(BedA).GetAttributeAsync("data-frames"));

        // A new bed appears on the list's periodic refresh.
        await PostFrameAsync(BedC, T0);
        await _page.WaitForSelectorAsync($"#beds tr[data-bed-id='{BedC}']", live);
        Assert.Equal(3, await _page.Locator("#beds tbody tr").CountAsync());

        Assert.True(await _page.IsHiddenAsync("#error"), await _page.TextContentAsync("#error"));
        Assert.Empty(_consoleErrors);
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, "beds-dashboard.png"), FullPage = true });
    }

    [Fact]
    public async Task An_api_problem_is_shown_on_the_page()
    {
        await _page.GotoAsync("/beds.html");
        await _page.WaitForSelectorAsync("#beds[data-loaded=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.True(await _page.IsVisibleAsync("#empty"));
        // Break the event request of a selected bed: the 400 problem's title and detail are shown.
        await _page.RouteAsync("**/events?*", route => route.ContinueAsync(new RouteContinueOptions { Url = route.Request.Url.Replace("limit=1000", "limit=0") }));
        await PostFrameAsync(BedA, T0);
        await _page.WaitForSelectorAsync($"#beds tr[data-bed-id='{BedA}']");
        await Row(BedA).Locator("button.bed-select").ClickAsync();
        await _page.WaitForSelectorAsync("#error:not([hidden])");

        using var problem = JsonDocument.Parse(await (await _client.GetAsync($"/v1/beds/{BedA}/events?limit=0")).Content.ReadAsStringAsync());
        Assert.Equal(problem.RootElement.GetProperty("title").GetString(), await _page.TextContentAsync("#error-title"));
        Assert.Equal(problem.RootElement.GetProperty("detail").GetString(), await _page.TextContentAsync("#error-detail"));
        Assert.All(_consoleErrors, e => Assert.StartsWith("Failed to load resource: the server responded with a status of 400", e));
    }

    private ILocator Row(string id) => _page.Locator($"#beds tr[data-bed-id='{id}']");

    /// <summary>examples/pressure-map.csv as the bed's frame at <paramref name="unixMs"/>.</summary>
    private async Task<JsonDocument> PostFrameAsync(string bed, long unixMs)
    {
        using var content = new StringContent(Encoding.UTF8.GetString(TestFiles.Example("pressure-map.csv")), Encoding.UTF8, "text/csv");
        using var response = await _client.PostAsync($"/v1/beds/{bed}/frames?timestamp={unixMs}", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{bed} @ {unixMs}: HTTP {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }
}
