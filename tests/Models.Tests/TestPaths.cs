namespace KeypointService.Models.Tests;

/// <summary>Model stores the tests read: this run's fixture export and the repository's defaults.</summary>
internal static class TestPaths
{
    public static IEnumerable<string> StoreRoots() => new[] { FixtureModels.Root, FixtureModels.DefaultModels }.Where(Directory.Exists);
}
