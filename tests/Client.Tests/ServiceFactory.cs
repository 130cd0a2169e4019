using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace KeypointService.Client.Tests;

/// <summary>
/// The real service in-process over the repository's committed default models (read only) with a temporary
/// SQLite bed store; the dwell time is 0 so that a bed's first frame sets its posture.
/// </summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    public string DataPath { get; } = Directory.CreateTempSubdirectory("kps-client-beds-").FullName;

    public static string Examples { get; } = Path.Combine(FixtureModels.RepositoryRoot, "examples");

    /// <summary>A typed client over this host's in-memory server.</summary>
    public KeypointServiceClient Client() => new(CreateClient());

    /// <summary>examples/pressure-map-84x192.f32 (the SLP-like test map, lying on its left side) as [row, column].</summary>
    public static float[,] PressureMap()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Examples, "pressure-map-84x192.f32"));
        var map = new float[192, 84];
        Assert.Equal(map.Length * sizeof(float), bytes.Length);
        Buffer.BlockCopy(bytes, 0, map, 0, bytes.Length);
        return map;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ModelStore:Path", FixtureModels.DefaultModels);
        builder.UseSetting("ModelStore:Watch", "false");
        builder.UseSetting("Serilog:ConsoleFormat", "none");
        builder.UseSetting("Beds:DataPath", DataPath);
        builder.UseSetting("Beds:DwellSeconds", "0");
        builder.UseSetting("Beds:SensorTimeoutSeconds", "60");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataPath, recursive: true); } catch (IOException) { }
    }
}
