using System.Security.Claims;
using System.Text.Encodings.Web;
using KeypointService.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Security;

/// <summary>
/// The "ApiKey" authentication scheme: a key in X-API-Key or in Authorization: Bearer, looked up by its
/// SHA-256. The principal's name is the key's name and it holds one "scope" claim per scope. Challenge
/// (401, with WWW-Authenticate) and forbid (403) answer with problem documents; gRPC calls get the bare
/// status, which gRPC clients turn into UNAUTHENTICATED / PERMISSION_DENIED.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string ScopeClaim = "scope";
    private const string Realm = "KeypointService";
    private const string NotRecognised = "the API key is not recognised";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.Options.Enabled) return Task.FromResult(AuthenticateResult.NoResult());
        var presented = PresentedKey(Request);
        if (presented is null) return Task.FromResult(AuthenticateResult.NoResult());
        // The failure message is logged by the framework: it never carries the presented key.
        if (keys.Find(presented) is not { } key) return Task.FromResult(AuthenticateResult.Fail(NotRecognised));
        var claims = key.Scopes.Select(s => new Claim(ScopeClaim, s)).Prepend(new Claim(ClaimTypes.Name, key.Name));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <summary>X-API-Key, else the token of Authorization: Bearer; null when neither is sent.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers[HeaderName].FirstOrDefault() is { } header) return header.Trim();
        var authorization = request.Headers.Authorization.FirstOrDefault();
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var wrongKey = result.Failure is not null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = wrongKey ? $"Bearer realm=\"{Realm}\", error=\"invalid_token\"" : $"Bearer realm=\"{Realm}\"";
        var detail = wrongKey
            ? $"{NotRecognised}; send a valid key in {HeaderName} or Authorization: Bearer"
            : $"{Request.Method} {Request.Path.Value} needs an API key with the '{RequiredScope()}' scope, in {HeaderName} or Authorization: Bearer";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden",
            $"API key '{Context.User.Identity?.Name}' lacks the '{RequiredScope()}' scope that {Request.Method} {Request.Path.Value} needs");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        var problem = Problems.Create(Context, status, title, detail);
        if (IsGrpc(Request))
        {
            SecurityExtensions.NoStatusCodePage(Context); // gRPC reads the HTTP status; a JSON body would only confuse its framing
            return;
        }
        await TypedResults.Problem(problem).ExecuteAsync(Context);
    }

    // The policy names are the scopes (SecurityExtensions), so the endpoint's policy is the scope it needs.
    private string RequiredScope() =>
        Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().LastOrDefault(a => a.Policy is not null)?.Policy ?? "?";

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
}
