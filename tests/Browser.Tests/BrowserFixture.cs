using Microsoft.Playwright;

namespace KeypointService.Browser.Tests;

/// <summary>
/// One API host and one headless Chromium for the whole collection. Chromium is Debian's package:
/// Playwright's own browser download cannot reach its CDN from these machines, so it is never called,
/// and a missing /usr/bin/chromium fails the tests (it does not skip them).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public LandingPageHost Host { get; } = new();
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (scripts/setup.sh --with-browser, run by ./test.sh)");
        _playwright = await Playwright.CreateAsync();
        // No background services: the closed network refuses Chromium's update and sync connections,
        // which only adds noise and delay. Playwright gives every launch a fresh temporary profile
        // (it rejects --user-data-dir in Args).
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        await Host.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
