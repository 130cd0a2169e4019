using KeypointService.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;

namespace KeypointService.Api.Security;

/// <summary>Wiring of access control (docs/security.md): API-key authentication, one policy per scope, per-key rate limits, CORS.</summary>
public static class SecurityExtensions
{
    public static void AddKeypointSecurity(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (configuration[$"{SecurityOptions.Section}:{nameof(SecurityOptions.KeysFile)}"] is { Length: > 0 } file)
        {
            if (!File.Exists(file)) throw new InvalidOperationException($"Security:KeysFile '{file}' does not exist");
            configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }
        var options = configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new();
        var services = builder.Services;
        services.AddSingleton(new ApiKeyStore(options)); // validates now: a bad key stops start-up with one line
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(o =>
        {
            foreach (var scope in ApiScopes.All)
                o.AddPolicy(scope, p =>
                {
                    if (options.Enabled) p.RequireAuthenticatedUser().RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope);
                    else p.RequireAssertion(_ => true); // security off: every scope is open
                });
        });
        services.AddKeypointRateLimiting();

        var origins = CorsOrigins(configuration);
        if (origins.Length > 0)
            services.AddCors(o => o.AddDefaultPolicy(p => p.WithOrigins(origins).WithMethods("GET", "POST", "PUT", "DELETE")
                .AllowAnyHeader().WithExposedHeaders(CorsSettings.ExposedHeaders)));
    }

    /// <summary>After routing, before the endpoints: CORS (answers preflights), then authentication, authorization, rate limits.</summary>
    public static WebApplication UseKeypointSecurity(this WebApplication app)
    {
        if (CorsOrigins(app.Configuration).Length > 0) app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The endpoints need a key with <paramref name="scope"/> (when security is on) and count against its rate limit.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(scope).RequireRateLimiting(ApiRateLimiting.Policy);

    /// <summary>Probes inside a scoped group stay open and unlimited, for orchestrators.</summary>
    public static TBuilder OpenForProbes<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AllowAnonymous().DisableRateLimiting();

    /// <summary>Keeps UseStatusCodePages from adding a JSON body to a refused gRPC call.</summary>
    internal static void NoStatusCodePage(HttpContext context)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
    }

    private static string[] CorsOrigins(IConfiguration configuration) =>
        (configuration.GetSection(CorsSettings.Section).Get<CorsSettings>()?.AllowedOrigins ?? [])
            .Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o.Trim().TrimEnd('/')).ToArray();
}
