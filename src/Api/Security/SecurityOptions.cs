namespace KeypointService.Api.Security;

/// <summary>Configuration section "Security" (docs/security.md): API keys, their scopes and rate limits.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Whether the predict, beds and admin endpoints need an API key; false in development, true in Production.</summary>
    public bool Enabled { get; set; }
    /// <summary>Whether GET /metrics needs a key with the admin scope (only while <see cref="Enabled"/>).</summary>
    public bool MetricsRequireKey { get; set; }
    /// <summary>A JSON file with more settings (a mounted secret: {"Security":{"ApiKeys":[...]}}); read at start-up.</summary>
    public string? KeysFile { get; set; }
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];
    /// <summary>The token bucket for every key without its own figures, and for anonymous callers (by IP) while security is off.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>One API key: its name (what logs show), the SHA-256 of the key (hex or base64) and its scopes.</summary>
public sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public List<string> Scopes { get; set; } = [];
    /// <summary>This key's sustained rate; null: <see cref="SecurityOptions.RateLimit"/>.</summary>
    public double? PermitsPerSecond { get; set; }
    /// <summary>This key's bucket size; null: <see cref="SecurityOptions.RateLimit"/>.</summary>
    public int? Burst { get; set; }
}

/// <summary>A token bucket: <see cref="Burst"/> tokens, refilled at <see cref="PermitsPerSecond"/>; 0 permits per second: no limit.</summary>
public sealed class RateLimitOptions
{
    public double PermitsPerSecond { get; set; }
    /// <summary>Bucket size; 0: one second's worth of permits (at least 1).</summary>
    public int Burst { get; set; }
}

/// <summary>The scopes a key can hold; each is also the name of the authorization policy that requires it.</summary>
public static class ApiScopes
{
    public const string Predict = "predict";
    public const string Beds = "beds";
    public const string Admin = "admin";
    public static readonly string[] All = [Predict, Beds, Admin];
}
