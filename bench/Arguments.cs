namespace KeypointService.Bench;

/// <summary>--key value pairs.</summary>
internal sealed class Arguments(Dictionary<string, string> values)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected --key value, got '{args[i]}'");
            values[args[i][2..]] = args[++i];
        }
        return new Arguments(values);
    }

    public string Get(string key, string fallback) => values.GetValueOrDefault(key, fallback);
    public int Get(string key, int fallback) => values.TryGetValue(key, out var v) ? int.Parse(v) : fallback;
    public double Get(string key, double fallback) => values.TryGetValue(key, out var v) ? double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
