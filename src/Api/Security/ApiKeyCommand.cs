using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;

namespace KeypointService.Api.Security;

/// <summary>
/// <c>KeypointService.Api keys new --name NAME --scope predict [--scope beds] [--permits-per-second R] [--burst B]</c>:
/// mints a random key, prints it once with the configuration that holds only its hash.
/// <c>keys hash</c>: the SHA-256 of a key read from standard input (for a key made elsewhere).
/// </summary>
public static class ApiKeyCommand
{
    public const string Prefix = "kps_";
    private const string Usage = "usage: KeypointService.Api keys new --name NAME --scope predict|beds|admin [--scope ...] [--permits-per-second R] [--burst B] | keys hash < key";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null)
    {
        try
        {
            switch (args)
            {
                case ["new", .. var rest]: New(ApiKeyArguments.Parse(rest), stdout); return 0;
                case ["hash"]: Hash((stdin ?? Console.In).ReadLine(), stdout); return 0;
                default: stderr.WriteLine(Usage); return 2;
            }
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"{e.Message}\n{Usage}");
            return 2;
        }
    }

    /// <summary>256 random bits, base64url, with a prefix that makes a leaked key easy to recognise (secret scanners).</summary>
    public static string NewKey() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static void New(ApiKeyOptions key, TextWriter stdout)
    {
        var secret = NewKey();
        key.Sha256 = ApiKeyStore.HashOf(secret);
        var scopes = string.Join(", ", key.Scopes);
        stdout.WriteLine($"API key '{key.Name}' (scopes: {scopes}). It is shown only now; the service keeps only its hash:");
        stdout.WriteLine();
        stdout.WriteLine($"  {secret}");
        stdout.WriteLine();
        stdout.WriteLine("Add this entry to Security:ApiKeys (appsettings, or the JSON file named by Security:KeysFile):");
        stdout.WriteLine();
        stdout.WriteLine(JsonSerializer.Serialize(key, SnippetOptions));
        stdout.WriteLine();
        stdout.WriteLine("or as environment variables (N: the key's index among the keys):");
        stdout.WriteLine();
        foreach (var line in EnvironmentLines(key)) stdout.WriteLine(line);
    }

    private static void Hash(string? secret, TextWriter stdout)
    {
        if (string.IsNullOrWhiteSpace(secret)) throw new ArgumentException("keys hash: give the key on standard input");
        stdout.WriteLine(ApiKeyStore.HashOf(secret.Trim()));
    }

    private static IEnumerable<string> EnvironmentLines(ApiKeyOptions key)
    {
        yield return $"Security__ApiKeys__N__Name={key.Name}";
        yield return $"Security__ApiKeys__N__Sha256={key.Sha256}";
        for (var i = 0; i < key.Scopes.Count; i++) yield return $"Security__ApiKeys__N__Scopes__{i}={key.Scopes[i]}";
        if (key.PermitsPerSecond is { } rate) yield return $"Security__ApiKeys__N__PermitsPerSecond={rate.ToString(CultureInfo.InvariantCulture)}";
        if (key.Burst is { } burst) yield return $"Security__ApiKeys__N__Burst={burst}";
    }

    private static readonly JsonSerializerOptions SnippetOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>The options of <c>keys new</c>.</summary>
internal static class ApiKeyArguments
{
    public static ApiKeyOptions Parse(string[] args)
    {
        var key = new ApiKeyOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--name": key.Name = value.Trim(); break;
                case "--scope": key.Scopes.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant())); break;
                case "--permits-per-second": key.PermitsPerSecond = Number<double>(args[i], value, double.TryParse); break;
                case "--burst": key.Burst = Number<int>(args[i], value, int.TryParse); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
            i++;
        }
        if (key.Name.Length == 0) throw new ArgumentException("--name is required");
        if (key.Scopes.Count == 0) throw new ArgumentException("--scope is required");
        if (key.Scopes.FirstOrDefault(s => !ApiScopes.All.Contains(s)) is { } unknown)
            throw new ArgumentException($"unknown scope '{unknown}'; scopes are {string.Join(", ", ApiScopes.All)}");
        key.Scopes = key.Scopes.Distinct().ToList();
        return key;
    }

    private delegate bool TryParse<T>(string s, NumberStyles style, IFormatProvider provider, out T value);

    private static T Number<T>(string option, string value, TryParse<T> parse) where T : INumber<T> =>
        parse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var n) && n >= T.Zero
            ? n
            : throw new ArgumentException($"{option} must be a number >= 0, got '{value}'");
}
