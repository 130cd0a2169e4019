using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;

namespace KeypointService.Browser.Tests;

/// <summary>
/// The landing page in Chromium against the real API: the demo draws what the API answers for the
/// same file (compared with a direct request), shows the API's problem documents, and logs no errors.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class LandingPageTests(BrowserFixture fixture) : IAsyncLifetime
{
    private readonly List<string> _consoleErrors = [];
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.Host.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1100, Height = 1000 },
        });
        _page = await _context.NewPageAsync();
        // Generous: two shared cores may be busy building; this bounds a wait, it asserts no speed.
        _page.SetDefaultTimeout(60_000);
        _page.Console += (_, message) => { if (message.Type == "error") _consoleErrors.Add(message.Text); };
        _page.PageError += (_, error) => _consoleErrors.Add($"uncaught: {error}");
    }

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Theory]
    [InlineData("stick-figure.png", "image/png")]
    [InlineData("stick-figure.jpg", "image/jpeg")]
    public async Task Heatmap_demo_draws_the_keypoints_the_api_returns_for_an_image(string name, string mediaType)
    {
        var image = TestFiles.Example(name);
        await OpenAsync();
        // No MIME type from the "browser": the page must pick the body's media type from the extension.
        await _page.SetInputFilesAsync("#file", new FilePayload { Name = name, MimeType = "application/octet-stream", Buffer = image });
        await _page.SelectOptionAsync("#model", "heatmap");
        Assert.Equal("heatmaps", await _page.InputValueAsync("#overlay"));
        await PredictAsync();

        using var expected = await ApiPredictAsync("heatmap", image, mediaType, "heatmaps");
        var keypoints = expected.RootElement.GetProperty("keypoints").EnumerateArray().ToList();
        Assert.Equal(5, keypoints.Count);
        var rows = await DrawnRowsAsync();
        Assert.Equal(keypoints.Count, rows.Length);
        for (var i = 0; i < keypoints.Count; i++)
        {
            Assert.Equal("keypoints", rows[i].Group);
            Assert.Equal(keypoints[i].GetProperty("name").GetString(), rows[i].Name);
            Assert.Equal(keypoints[i].GetProperty("x").GetDouble(), rows[i].X, 9);
            Assert.Equal(keypoints[i].GetProperty("y").GetDouble(), rows[i].Y, 9);
        }
        Assert.Equal(keypoints.Select(k => k.GetProperty("score").GetDouble().ToString("F3", System.Globalization.CultureInfo.InvariantCulture)),
            await _page.Locator("#keypoints tbody tr td:nth-child(6)").AllTextContentsAsync());
        Assert.True(await _page.IsHiddenAsync("#warnings"));
        Assert.True(await _page.IsVisibleAsync("#keypoints tbody tr"), "a short table stays open");

        await AssertEveryPointIsPaintedAsync();
        Assert.Equal("heatmaps", await _page.GetAttributeAsync("#canvas", "data-overlay"));
        Assert.True(await _page.IsHiddenAsync("#preview-note"), "the browser decoded the image for the preview");
        Assert.Contains("5 predicted points", await _page.GetAttributeAsync("#canvas", "aria-label"));

        // The collapsible JSON block holds the response itself.
        using var shown = JsonDocument.Parse(await _page.TextContentAsync("#json") ?? "");
        Assert.Equal("heatmap", shown.RootElement.GetProperty("model").GetString());
        Assert.Equal(5, shown.RootElement.GetProperty("heatmaps").GetArrayLength());

        Assert.Empty(_consoleErrors);
        await ScreenshotAsync($"landing-heatmap-{Path.GetExtension(name)[1..]}.png");
    }

    [Theory]
    [InlineData("csv", "text/csv")]
    [InlineData("npy", "application/x-npy")]
    public async Task Spmkd_demo_reads_a_pressure_map_and_draws_keypoints_joints_and_the_reconstruction(string extension, string mediaType)
    {
        var map = TestFiles.Example($"pressure-map.{extension}");
        await OpenAsync();
        await _page.SetInputFilesAsync("#file", new FilePayload { Name = $"pressure-map.{extension}", MimeType = "application/octet-stream", Buffer = map });
        await _page.SelectOptionAsync("#model", "spmkd");
        Assert.Equal("reconstruction", await _page.InputValueAsync("#overlay"));
        await PredictAsync();

        using var expected = await ApiPredictAsync("spmkd", map, mediaType, "reconstruction");
        var api = expected.RootElement;
        var wanted = api.GetProperty("keypoints").EnumerateArray().Select(k => (Group: "keypoints", Point: k))
            .Concat(api.GetProperty("joints").EnumerateArray().Select(k => (Group: "joints", Point: k))).ToList();
        var rows = await DrawnRowsAsync();
        Assert.Equal(wanted.Count, rows.Length);
        for (var i = 0; i < wanted.Count; i++)
        {
            Assert.Equal(wanted[i].Group, rows[i].Group);
            Assert.Equal(wanted[i].Point.GetProperty("name").GetString(), rows[i].Name);
            Assert.Equal(wanted[i].Point.GetProperty("x").GetDouble(), rows[i].X, 9);
            Assert.Equal(wanted[i].Point.GetProperty("y").GetDouble(), rows[i].Y, 9);
        }
        Assert.Equal("reconstruction", await _page.GetAttributeAsync("#canvas", "data-overlay"));
        // A table of more than 20 rows starts folded under a summary that counts them.
        Assert.Equal($"Drawn keypoints: {wanted.Count} rows", await _page.TextContentAsync("#keypoints-summary"));
        Assert.False(await _page.EvalOnSelectorAsync<bool>("#keypoints-panel", "d => d.open"));
        // The page's own CSV/.npy parse agreed with the service on the map's size, so the input was previewed.
        Assert.True(await _page.IsHiddenAsync("#preview-note"), await _page.TextContentAsync("#preview-note"));
        Assert.Empty(_consoleErrors);
        await ScreenshotAsync($"landing-spmkd-{extension}.png");
    }

    [Fact]
    public async Task Multi_demo_draws_every_figure_the_api_finds()
    {
        var png = TestFiles.MultiFigurePng();
        await OpenAsync();
        await _page.SetInputFilesAsync("#file", new FilePayload { Name = "figures.png", MimeType = "image/png", Buffer = png });
        await _page.SelectOptionAsync("#model", "multi");
        await PredictAsync();

        using var expected = await ApiPredictAsync("multi", png, "image/png", "heatmaps");
        var instances = expected.RootElement.GetProperty("instances").EnumerateArray().ToList();
        Assert.NotEmpty(instances);
        var wanted = instances.SelectMany((instance, i) => instance.GetProperty("keypoints").EnumerateArray().Select(k => (Figure: i + 1, Point: k))).ToList();
        var rows = await DrawnRowsAsync();
        Assert.Equal(wanted.Count, rows.Length);
        for (var i = 0; i < wanted.Count; i++)
        {
            Assert.StartsWith($"figure {wanted[i].Figure} ", rows[i].Group);
            Assert.Equal(wanted[i].Point.GetProperty("name").GetString(), rows[i].Name);
            Assert.Equal(wanted[i].Point.GetProperty("x").GetDouble(), rows[i].X, 9);
            Assert.Equal(wanted[i].Point.GetProperty("y").GetDouble(), rows[i].Y, 9);
        }
        await AssertEveryPointIsPaintedAsync();
        Assert.Empty(_consoleErrors);
        await ScreenshotAsync("landing-multi.png");
    }

    [Fact]
    public async Task A_pressure_map_sent_to_the_image_model_shows_the_api_warning()
    {
        var csv = TestFiles.Example("pressure-map.csv");
        await OpenAsync();
        await _page.SetInputFilesAsync("#file", new FilePayload { Name = "pressure-map.csv", MimeType = "text/csv", Buffer = csv });
        await _page.SelectOptionAsync("#model", "heatmap");
        await PredictAsync();

        using var expected = await ApiPredictAsync("heatmap", csv, "text/csv", "heatmaps");
        var warnings = expected.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.NotEmpty(warnings);
        Assert.True(await _page.IsVisibleAsync("#warnings"));
        Assert.Equal(warnings, await _page.Locator("#warnings li").AllTextContentsAsync());
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task A_broken_png_shows_the_api_problem_detail()
    {
        byte[] broken = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8];
        await OpenAsync();
        await _page.SetInputFilesAsync("#file", new FilePayload { Name = "broken.png", MimeType = "image/png", Buffer = broken });
        await _page.SelectOptionAsync("#model", "heatmap");
        await _page.ClickAsync("#run");
        await _page.WaitForSelectorAsync("#demo-form[data-state=done], #demo-form[data-state=error]");

        using var problem = await ApiPredictAsync("heatmap", broken, "image/png", "heatmaps", expectSuccess: false);
        var detail = problem.RootElement.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrEmpty(detail));
        Assert.Equal("error", await _page.GetAttributeAsync("#demo-form", "data-state"));
        Assert.True(await _page.IsVisibleAsync("#error"));
        Assert.Equal(problem.RootElement.GetProperty("title").GetString(), await _page.TextContentAsync("#error-title"));
        Assert.Equal(detail, await _page.TextContentAsync("#error-detail"));
        Assert.True(await _page.IsHiddenAsync("#result"));
        // Chromium reports the failed request itself; nothing else may go wrong on the page.
        Assert.All(_consoleErrors, e => Assert.StartsWith("Failed to load resource: the server responded with a status of 400", e));
        await ScreenshotAsync("landing-error.png");
    }

    [Fact]
    public async Task Every_service_link_on_the_page_answers_200()
    {
        await OpenAsync();
        var links = await _page.Locator("nav a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");
        Assert.Equal(["/swagger", "/beds.html", "/v1/models", "/health/live", "/health/ready"], links);
        foreach (var link in links)
        {
            var response = await _page.APIRequest.GetAsync(link);
            Assert.True(response.Ok, $"{link}: HTTP {response.Status}");
        }
        Assert.Equal("KeypointService", await _page.TitleAsync());
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task Swagger_ui_still_renders_beside_the_landing_page()
    {
        await _page.GotoAsync("/swagger");
        // Swagger UI builds one block per operation from /swagger/v1/swagger.json.
        await _page.WaitForSelectorAsync(".opblock");
        Assert.True(await _page.Locator(".opblock").CountAsync() >= 4);
        Assert.Empty(_consoleErrors);
    }

    private async Task OpenAsync()
    {
        var response = await _page.GotoAsync("/");
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        // The model list has arrived from GET /v1/models.
        await _page.WaitForSelectorAsync("#model[data-loaded=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
    }

    private async Task PredictAsync()
    {
        await _page.ClickAsync("#run");
        await _page.WaitForSelectorAsync("#demo-form[data-state=done], #demo-form[data-state=error]");
        var state = await _page.GetAttributeAsync("#demo-form", "data-state");
        Assert.True(state == "done", $"the page reported: {await _page.TextContentAsync("#error")}");
    }

    /// <summary>The same request, straight to the API.</summary>
    private async Task<JsonDocument> ApiPredictAsync(string model, byte[] body, string mediaType, string include, bool expectSuccess = true)
    {
        using var client = new HttpClient { BaseAddress = fixture.Host.BaseAddress };
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        using var response = await client.PostAsync($"/v1/models/{model}/predict?include={include}", content);
        Assert.Equal(expectSuccess, response.IsSuccessStatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private sealed record DrawnRow(string Group, string Name, double X, double Y);

    // Read back as JSON text: Playwright's own result mapping needs parameterless types.
    private async Task<DrawnRow[]> DrawnRowsAsync() =>
        JsonSerializer.Deserialize<DrawnRow[]>(await _page.Locator("#keypoints tbody tr").EvaluateAllAsync<string>(
            "rows => JSON.stringify(rows.map(r => ({ group: r.dataset.group, name: r.dataset.name, x: Number(r.dataset.x), y: Number(r.dataset.y) })))"),
            JsonSerializerOptions.Web)!;

    /// <summary>
    /// Every point the page says it drew is really painted: the canvas pixel under it has its group's
    /// marker fill (fills are drawn last, so links and overlays cannot cover a point's centre).
    /// </summary>
    private async Task AssertEveryPointIsPaintedAsync()
    {
        var misses = await _page.EvaluateAsync<string>("""
            () => {
              const canvas = document.getElementById("canvas");
              const scale = Number(canvas.dataset.scale);
              const ctx = canvas.getContext("2d");
              const hex = (rgba) => "#" + Array.from(rgba.slice(0, 3), (v) => v.toString(16).padStart(2, "0")).join("");
              return JSON.parse(canvas.dataset.keypoints)
                .map((p) => ({ p, got: hex(ctx.getImageData(Math.floor(p.x * scale), Math.floor(p.y * scale), 1, 1).data) }))
                .filter(({ p, got }) => got !== p.color)
                .map(({ p, got }) => `${p.group}/${p.name}: ${got}, expected ${p.color}`)
                .join("; ");
            }
            """);
        Assert.True(misses.Length == 0, misses);
    }

    private async Task ScreenshotAsync(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name), FullPage = true });
    }
}
