namespace KeypointService.Models.Serving;

/// <summary>Store directory conventions: hidden (".tmp-...") entries are publications in progress; versions sort by numeric prefix.</summary>
public static class StoreVersions
{
    public static IEnumerable<string> VisibleSubdirectories(string path) =>
        Directory.Exists(path)
            ? Directory.EnumerateDirectories(path).Select(System.IO.Path.GetFileName).OfType<string>().Where(n => n.Length > 0 && n[0] != '.')
            : [];

    public static IReadOnlyList<string> Ordered(IEnumerable<string> versions) =>
        versions.OrderBy(v => v, Comparer).ToList();

    public static readonly IComparer<string> Comparer = Comparer<string>.Create(Compare);

    private static int Compare(string a, string b)
    {
        var (na, ra) = Split(a);
        var (nb, rb) = Split(b);
        if (na != nb) return na is null ? -1 : nb is null ? 1 : na.Value.CompareTo(nb.Value);
        // Same number: the bare number sorts before suffixed variants ("10" < "10-rc1"); then ordinal.
        return string.CompareOrdinal(ra, rb);
    }

    private static (long? Number, string Suffix) Split(string version)
    {
        var digits = 0;
        while (digits < version.Length && digits < 18 && char.IsAsciiDigit(version[digits])) digits++;
        return digits == 0 ? (null, version) : (long.Parse(version.AsSpan(0, digits)), version[digits..]);
    }
}
