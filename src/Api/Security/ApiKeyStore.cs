using System.Security.Cryptography;
using System.Text;

namespace KeypointService.Api.Security;

/// <summary>A configured key, its hash decoded and its limits resolved.</summary>
public sealed record ApiKey(string Name, byte[] Hash, IReadOnlyList<string> Scopes, double PermitsPerSecond, int Burst);

/// <summary>
/// The configured keys, validated once at start-up: a bad entry, or security on with no key at all,
/// stops the service with one line (Program.cs prints it). Keys are kept only as SHA-256 hashes.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly ApiKey[] _keys;

    public ApiKeyStore(SecurityOptions options)
    {
        Options = options;
        _keys = options.ApiKeys.Select((k, i) => Parse(k, i, options.RateLimit)).ToArray();
        var duplicate = _keys.GroupBy(k => k.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"Security:ApiKeys has two keys named '{duplicate.Key}'; names must be unique");
        if (options.Enabled && _keys.Length == 0)
            throw new InvalidOperationException("Security:Enabled is true but Security:ApiKeys is empty: mint a key with " +
                "'dotnet KeypointService.Api.dll keys new --name NAME --scope predict' (docs/security.md), " +
                "or run with ASPNETCORE_ENVIRONMENT=Development for local use");
    }

    public SecurityOptions Options { get; }
    public IReadOnlyList<ApiKey> Keys => _keys;

    /// <summary>The key whose hash matches <paramref name="presented"/>; every hash is compared in constant time.</summary>
    public ApiKey? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiKey? match = null;
        foreach (var key in _keys)
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash)) match = key;
        return match;
    }

    public ApiKey? ByName(string name) => Array.Find(_keys, k => k.Name == name);

    /// <summary>The SHA-256 of a key as configuration stores it: lowercase hex.</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static ApiKey Parse(ApiKeyOptions k, int index, RateLimitOptions defaults)
    {
        var where = $"Security:ApiKeys:{index}";
        if (string.IsNullOrWhiteSpace(k.Name)) throw new InvalidOperationException($"{where}:Name is empty");
        where = $"{where} ('{k.Name}')";
        var hash = DecodeHash(k.Sha256) ?? throw new InvalidOperationException(
            $"{where}:Sha256 must be the key's SHA-256 as 64 hex digits or 44 base64 characters (never the key itself)");
        if (k.Scopes.Count == 0) throw new InvalidOperationException($"{where}:Scopes is empty; give one or more of {string.Join(", ", ApiScopes.All)}");
        var scopes = k.Scopes.Select(s => s.Trim().ToLowerInvariant()).Distinct().ToList();
        if (scopes.FirstOrDefault(s => !ApiScopes.All.Contains(s)) is { } unknown)
            throw new InvalidOperationException($"{where}:Scopes has '{unknown}'; scopes are {string.Join(", ", ApiScopes.All)}");
        var rate = k.PermitsPerSecond ?? defaults.PermitsPerSecond;
        var burst = k.Burst ?? defaults.Burst;
        if (rate < 0 || burst < 0) throw new InvalidOperationException($"{where}: PermitsPerSecond and Burst must not be negative");
        return new ApiKey(k.Name, hash, scopes, rate, burst);
    }

    private static byte[]? DecodeHash(string value)
    {
        value = value.Trim();
        try
        {
            var bytes = value.Length == 64 ? Convert.FromHexString(value) : Convert.FromBase64String(value);
            return bytes.Length == SHA256.HashSizeInBytes ? bytes : null;
        }
        catch (FormatException) { return null; }
    }
}
