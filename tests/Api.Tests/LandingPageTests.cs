using System.Net;

namespace KeypointService.Api.Tests;

/// <summary>"/" serves the landing page (static files from wwwroot) and Swagger still answers beside it.</summary>
public sealed class LandingPageTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Root_serves_the_landing_page_as_html()
    {
        using var response = await factory.CreateClient().GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<title>KeypointService</title>", html);
        Assert.Contains("src=\"landing.js\"", html);
        // The page runs only its own script: the policy forbids inline and third-party code.
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("/landing.js", "text/javascript")]
    [InlineData("/landing.css", "text/css")]
    [InlineData("/beds.html", "text/html")]
    [InlineData("/beds.js", "text/javascript")]
    [InlineData("/beds.css", "text/css")]
    public async Task The_page_assets_are_served(string path, string mediaType)
    {
        using var response = await factory.CreateClient().GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task Swagger_still_answers()
    {
        var client = factory.CreateClient();
        using var ui = await client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Equal("text/html", ui.Content.Headers.ContentType?.MediaType);
        using var document = await client.GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }

    [Fact]
    public async Task An_unknown_path_is_still_a_problem_document()
    {
        using var response = await factory.CreateClient().GetAsync("/no-such-page");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
