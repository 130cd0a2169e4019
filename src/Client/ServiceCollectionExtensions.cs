using Microsoft.Extensions.DependencyInjection;

namespace KeypointService.Client;

/// <summary>Registration with <see cref="IHttpClientFactory"/>.</summary>
public static class KeypointServiceClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="KeypointServiceClient"/> as a typed HttpClient with <paramref name="baseAddress"/>;
    /// the returned builder adds handlers, resilience or timeouts. <paramref name="apiKey"/>: sent as X-API-Key on every request.
    /// </summary>
    public static IHttpClientBuilder AddKeypointServiceClient(this IServiceCollection services, Uri baseAddress, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(baseAddress);
        return services.AddHttpClient<KeypointServiceClient>(http =>
        {
            http.BaseAddress = baseAddress;
            if (apiKey is { Length: > 0 }) http.DefaultRequestHeaders.Add(KeypointServiceClient.ApiKeyHeader, apiKey);
        });
    }
}
