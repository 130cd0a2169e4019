namespace KeypointService.Models.Serving;

/// <summary>A request's hold on a model version; dispose it when the request is done with the sessions.</summary>
public sealed class ModelLease : IDisposable
{
    private LoadedModel? _model;
    internal ModelLease(LoadedModel model) => _model = model;
    public LoadedModel Model => _model ?? throw new ObjectDisposedException(nameof(ModelLease));
    public void Dispose() => Interlocked.Exchange(ref _model, null)?.Release();
}
