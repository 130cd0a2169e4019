namespace KeypointService.Api.Extensions;

/// <summary>
/// The landing page and demo at "/": plain files under wwwroot (index.html, landing.css, landing.js),
/// no build step, nothing fetched from outside the service.
/// </summary>
public static class LandingPageExtensions
{
    // The page only talks to this service and draws data: and blob: images; a policy that says so
    // keeps an injected script or a third-party resource from running if the page is ever edited carelessly.
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    public static WebApplication UseKeypointLandingPage(this WebApplication app)
    {
        // "/" → "/index.html"; runs before UseStaticFiles so that the rewritten path is served.
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                // The page changes with the service; revalidate (ETag) rather than serve a stale copy.
                headers.CacheControl = "no-cache";
            },
        });
        return app;
    }
}
