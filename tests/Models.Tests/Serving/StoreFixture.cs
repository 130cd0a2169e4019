using KeypointService.Models.Onnx;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeypointService.Models.Tests.Serving;

/// <summary>A temporary model store filled from the trainer's fixture export.</summary>
internal sealed class TempStore : IDisposable
{
    public TempStore(params string[] models)
    {
        Root = Directory.CreateTempSubdirectory("kps-store-").FullName;
        foreach (var model in models) CopyVersion(model, "1", "1");
    }

    public string Root { get; }

    /// <summary>Copies fixture {model}/{fromVersion} into the store as {toVersion}, atomically like the trainer's publish.</summary>
    public string CopyVersion(string model, string fromVersion, string toVersion, Action<string>? edit = null) =>
        FixtureModels.Publish(Root, model, fromVersion, toVersion, edit);

    public ModelStore Open(ModelStoreOptions? options = null) =>
        new(Root, options ?? new ModelStoreOptions { Expected = [], Watch = false }, new OnnxSessionSettings { IntraOpThreads = 1 }, NullLogger<ModelStore>.Instance);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
