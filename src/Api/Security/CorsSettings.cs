namespace KeypointService.Api.Security;

/// <summary>Configuration section "Cors": browser origins allowed to call the API; empty (the default): no CORS headers at all.</summary>
public sealed class CorsSettings
{
    public const string Section = "Cors";
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Response headers a browser script may read: the client's retry and replay hints.</summary>
    public static readonly string[] ExposedHeaders = ["Retry-After", "WWW-Authenticate", "Idempotent-Replayed"];
}
