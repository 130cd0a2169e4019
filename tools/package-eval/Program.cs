using System.Globalization;
using nietras.SeparatedValues;
using NumSharp;

// Whether a maintained package reads what the service's own parsers (src/Models/Inputs) accept.
// CSV: every layout of CsvParserTests.AcceptsCommonLayouts and AcceptsDecimalCommas, through Sep with the most
// favourable options; the service reads [[1,2,3],[4,5,6]] (or [[1.5,2.25],[-3,4]]) from each.
string[] layouts =
[
    "1,2,3\n4,5,6\n", "1,2,3\r\n4,5,6", "1,2,3\r4,5,6\r", "1;2;3\n4;5;6\n", "1\t2\t3\n4\t5\t6\n",
    "  1   2  3\n4 5\t 6  \n", "1, 2, 3\n 4 ,5 ,6\n", "1,2,3,\n4,5,6,\n", "\n\n1,2,3\n\n\n4,5,6\n\n",
    "# exported by the mat\n1,2,3\n# frame 1\n4,5,6\n", "a,b,c\n1,2,3\n4,5,6\n",
    "\"left\";\"middle\";\"right\"\n1;2;3\n4;5;6", "\"1\",\"2\",\"3\"\n\"4\",\"5\",\"6\"",
    "1.0,2e0,0.3E1\n+4,5.000,60e-1\n", "\uFEFF1,2,3\n4,5,6\n",
    "1,5;2,25\n-3;4,0\n", "1,5 ; 2,25 ;\n-3 ; 4\n", "\"1,5\",\"2,25\"\n-3,4\n",
];
Console.WriteLine("CSV through Sep 0.17.1 (separator detected, unescape, trim, no column-count check)");
foreach (var text in layouts)
    Console.WriteLine($"  {System.Text.Json.JsonSerializer.Serialize(text),-52} -> {ThroughSep(text)}");

// .npy: the cases of make_npy_cases.py through NumSharp's np.load; each holds arange(12) - 5 as 3x4 (abs if unsigned).
Console.WriteLine("\n.npy through NumSharp 0.70.0 np.load");
foreach (var path in Directory.GetFiles(args[0]).Order())
    Console.WriteLine($"  {Path.GetFileName(path),-26} -> {ThroughNumSharp(path)}");

static string ThroughSep(string text)
{
    try
    {
        using var reader = Sep.Reader(o => o with { HasHeader = false, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).FromText(text);
        var rows = new List<string>();
        foreach (var row in reader)
        {
            var cells = new List<string>();
            for (var c = 0; c < row.ColCount; c++)
            {
                var s = row[c].ToString();
                cells.Add(double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v.ToString(CultureInfo.InvariantCulture) : $"'{s}'");
            }
            rows.Add("[" + string.Join(",", cells) + "]");
        }
        return $"separator '{reader.Spec.Sep.Separator}': " + string.Join(" ", rows);
    }
    catch (Exception e) { return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}"; }
}

static string ThroughNumSharp(string path)
{
    try
    {
        var loaded = np.load(path);
        var array = loaded as NDArray ?? np.array((Array)loaded);
        var values = array.astype(NPTypeCode.Double).ToArray<double>();
        return $"{array.dtype.Name} shape ({string.Join(", ", array.shape)}): {string.Join(" ", values.Take(12))}";
    }
    catch (Exception e) { return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}"; }
}
