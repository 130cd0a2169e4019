using System.Collections.Concurrent;
using KeypointService.Models.Diagnostics;
using KeypointService.Models.Manifests;
using KeypointService.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.Extensions.Logging;

namespace KeypointService.Models.Serving;

/// <summary>
/// The model store: loads the newest version of every model under the store root, reports what
/// failed without stopping the others, and hot-reloads versions that appear later. A swap is one
/// reference exchange; the old version is released when its last in-flight request finishes.
/// </summary>
public sealed class ModelStore : IDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _scanLock = new(1, 1);
    private readonly OnnxSessionSettings _sessionSettings;
    private readonly ILogger<ModelStore> _logger;
    private FileSystemWatcher? _watcher;
    private Timer? _timer;
    private int _scanRequested;
    private bool _disposed;
    private int _fallbackWarned;
    private int _nativeHeapTrims;
    private IReadOnlyDictionary<string, string> _pins;

    public ModelStore(string rootPath, ModelStoreOptions options, OnnxSessionSettings sessionSettings, ILogger<ModelStore> logger)
    {
        RootPath = Path.GetFullPath(rootPath);
        Options = options;
        _sessionSettings = sessionSettings;
        _logger = logger;
        // Blank names let configuration overrides drop entries of the default list (e.g. --ModelStore:Expected:2=).
        options.Expected.RemoveAll(string.IsNullOrWhiteSpace);
        options.Optional.RemoveAll(string.IsNullOrWhiteSpace);
        _pins = PinsOf(options.Pinned);
        foreach (var name in options.Expected.Concat(options.Optional)) _entries.TryAdd(name, new Entry(name));
    }

    public string RootPath { get; }
    public ModelStoreOptions Options { get; }
    /// <summary>The versions served instead of the newest, by model name (ModelStore:Pinned; <see cref="Repin"/> replaces them).</summary>
    public IReadOnlyDictionary<string, string> Pins => Volatile.Read(ref _pins);
    /// <summary>Load outcomes and per-inference timings of this store's models (System.Diagnostics.Metrics).</summary>
    public ModelMetrics Metrics { get; } = new();

    /// <summary>Loads what is in the store now, then starts watching it if configured.</summary>
    public void Start()
    {
        if (!Directory.Exists(RootPath))
            _logger.LogWarning("Model store {StorePath} does not exist; no models are loaded until it does", RootPath);
        Rescan();
        var missing = GetStatuses().Where(s => !s.IsServing).Select(s => $"{s.Name} ({s.State.ToString().ToLowerInvariant()}{(s.Optional ? ", optional" : "")})").ToList();
        if (missing.Count > 0)
            _logger.LogWarning("Not serving: {Models}; the service stays up and loads them when they appear in {StorePath}", string.Join(", ", missing), RootPath);
        if (!Options.Watch) return;
        try
        {
            Directory.CreateDirectory(RootPath);
            _watcher = new FileSystemWatcher(RootPath) { IncludeSubdirectories = true, EnableRaisingEvents = true };
            _watcher.Created += (_, _) => RequestScan();
            _watcher.Renamed += (_, _) => RequestScan();
            _watcher.Deleted += (_, _) => RequestScan();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            _logger.LogWarning("Cannot watch {StorePath} ({Reason}); relying on polling every {Seconds}s", RootPath, e.Message, Options.PollSeconds);
        }
        var period = TimeSpan.FromSeconds(Math.Max(0.1, Options.PollSeconds));
        _timer = new Timer(_ => RequestScan(), null, period, period);
    }

    /// <summary>Takes a lease on the serving version of a model, or returns null with the model's status (null when unknown).</summary>
    public ModelLease? TryAcquire(string name, out ModelStatus? status)
    {
        status = null;
        if (!_entries.TryGetValue(name, out var entry)) return null;
        while (true)
        {
            var model = Volatile.Read(ref entry.Current);
            if (model is null) { status = StatusOf(entry); return null; }
            if (model.TryAddReference()) return new ModelLease(model);
            // Lost a race with a swap that released this version: read the new one.
        }
    }

    public IReadOnlyList<ModelStatus> GetStatuses() =>
        _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(StatusOf).ToList();

    public ModelStatus? GetStatus(string name) => _entries.TryGetValue(name, out var e) ? StatusOf(e) : null;

    private ModelStatus StatusOf(Entry entry) => entry.ToStatus(IsOptional(entry.Name), Pins.GetValueOrDefault(entry.Name));

    /// <summary>
    /// Replaces the pinned versions (ModelStore:Pinned changed in a reloaded configuration file) and rescans at once:
    /// a rollback, or its undo, without a restart. A blank version unpins. False when nothing changed.
    /// </summary>
    public bool Repin(IReadOnlyDictionary<string, string> pinned)
    {
        var next = PinsOf(pinned);
        var current = Pins;
        if (next.Count == current.Count && next.All(p => current.TryGetValue(p.Key, out var v) && v == p.Value)) return false;
        Volatile.Write(ref _pins, next);
        _logger.LogInformation("ModelStore:Pinned is now {Pins}; rescanning the store",
            next.Count == 0 ? "empty (newest versions)" : string.Join(", ", next.Select(p => $"{p.Key}={p.Value}")));
        Rescan();
        return true;
    }

    private static Dictionary<string, string> PinsOf(IReadOnlyDictionary<string, string> pinned) =>
        pinned.Where(p => !string.IsNullOrWhiteSpace(p.Value)).ToDictionary(p => p.Key, p => p.Value.Trim(), StringComparer.Ordinal);

    /// <summary>Ready when every model that is not optional is serving.</summary>
    public bool IsReady => _entries.Values.All(e => IsOptional(e.Name) || Volatile.Read(ref e.Current) is not null);

    private bool IsOptional(string name) => Options.Optional.Contains(name);

    private void RequestScan()
    {
        // Coalesce bursts of file events into one scan at a time.
        if (Interlocked.Exchange(ref _scanRequested, 1) == 1) return;
        ThreadPool.QueueUserWorkItem(_ =>
        {
            Thread.Sleep(100); // let a rename or copy settle
            Interlocked.Exchange(ref _scanRequested, 0);
            try { Rescan(); }
            catch (Exception e) { _logger.LogError(e, "Model store scan failed"); }
        });
    }

    /// <summary>Scans the store and loads every model whose newest (or pinned) version is not the one being served.</summary>
    public void Rescan()
    {
        _scanLock.Wait();
        try
        {
            if (_disposed) return;
            var names = StoreVersions.VisibleSubdirectories(RootPath).ToList();
            foreach (var name in names) _entries.GetOrAdd(name, n => new Entry(n));
            foreach (var entry in _entries.Values) Refresh(entry);
        }
        finally { _scanLock.Release(); }
    }

    private void Refresh(Entry entry)
    {
        var modelDirectory = Path.Combine(RootPath, entry.Name);
        var versions = StoreVersions.Ordered(StoreVersions.VisibleSubdirectories(modelDirectory));
        entry.AvailableVersions = versions;
        if (versions.Count == 0)
        {
            // Deleted under a serving model: its sessions are in memory and keep serving; say a restart would lose it.
            entry.Error = entry.Current is { } serving
                ? $"no versions under {modelDirectory}; serving version {serving.Manifest.Version} from memory, which a restart would not find"
                : $"no versions under {modelDirectory}";
            return;
        }
        var pinned = Pins.GetValueOrDefault(entry.Name);
        if (pinned is not null && !versions.Contains(pinned))
        {
            entry.Error = $"pinned version {pinned} (ModelStore:Pinned:{entry.Name}) is not under {modelDirectory} (available: {string.Join(", ", versions)})"
                          + (entry.Current is { } serving ? $"; still serving version {serving.Manifest.Version}" : "");
            return;
        }
        var target = pinned ?? versions[^1]; // the newest unless pinned
        var versionDirectory = Path.Combine(modelDirectory, target);
        if (entry.Current?.Manifest.Version == target)
        {
            entry.Error = null; // the served version is the one to serve again (e.g. a deleted directory restored)
            return;
        }
        var signature = Signature(versionDirectory);
        if (entry.FailedVersion == target && entry.FailedSignature == signature) return; // unchanged since it failed

        entry.Loading = true;
        try
        {
            var loaded = Load(entry.Name, target, versionDirectory);
            Metrics.RecordLoad(entry.Name, success: true);
            var previous = Interlocked.Exchange(ref entry.Current, loaded);
            entry.Error = null;
            entry.FailedVersion = null;
            previous?.Retire();
            _logger.LogInformation(
                "Model {Model} version {Version} ({Task}) loaded on {Provider}{Swap}",
                entry.Name, target, loaded.Manifest.Task, loaded.Session.ExecutionProvider,
                previous is null ? "" : $", replacing version {previous.Manifest.Version}");
            // One warning per process, not one per model: the cause (a missing CUDA library) is the same for all.
            if (loaded.Session.ProviderFallbackReason is { } reason && Interlocked.Exchange(ref _fallbackWarned, 1) == 0)
                _logger.LogWarning("The CUDA execution provider cannot be used{Missing}, so every model runs on CPU: {Reason}. {Remedy}, or set OnnxRuntime:ExecutionProvider=cpu",
                    OnnxProviders.MissingLibrary(reason) is { } library ? $" ({library} not found)" : "", reason, OnnxProviders.Remedy(reason));
        }
        catch (Exception e) when (e is ManifestException or OnnxRuntimeException or OnnxProviderUnavailableException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Metrics.RecordLoad(entry.Name, success: false);
            entry.Error = $"version {target}: {e.Message}";
            entry.FailedVersion = target;
            entry.FailedSignature = signature;
            _logger.LogError("Model {Model} version {Version} failed to load: {Reason}{Serving}", entry.Name, target, e.Message,
                entry.Current is { } current ? $"; still serving version {current.Manifest.Version}" : "");
        }
        finally { entry.Loading = false; }
    }

    private LoadedModel Load(string name, string version, string directory)
    {
        var manifest = ManifestReader.ReadVersionDirectory(directory, name, version);
        var session = OnnxSession.Create(Path.Combine(directory, manifest.ModelFile), _sessionSettings);
        OnnxSession? reconstruction = null;
        try
        {
            CheckSignature(session, manifest.Input.Name, [manifest.Outputs.Heatmaps?.Name, manifest.Outputs.Coordinates?.Name, .. manifest.Grouping?.OutputNames ?? []], directory);
            if (manifest.Outputs.Reconstruction is { } spec)
            {
                reconstruction = OnnxSession.Create(Path.Combine(directory, spec.ModelFile), _sessionSettings);
                CheckSignature(reconstruction, manifest.Input.Name, [spec.Name], directory);
            }
            return new LoadedModel(manifest, directory, session, reconstruction, Metrics, Options.TrimNativeHeap ? TrimNativeHeap : null);
        }
        catch
        {
            session.Dispose();
            reconstruction?.Dispose();
            throw;
        }
    }

    /// <summary>Times a released version asked for <see cref="ModelStoreOptions.TrimNativeHeap"/>'s malloc_trim.</summary>
    internal int NativeHeapTrims => Volatile.Read(ref _nativeHeapTrims);

    // Called by whichever thread drops a retired version's last reference (often a request's): the trim runs
    // on the thread pool so that no request waits for it.
    private void TrimNativeHeap()
    {
        Interlocked.Increment(ref _nativeHeapTrims);
        ThreadPool.UnsafeQueueUserWorkItem(static _ => NativeHeap.Trim(), null);
    }

    private static void CheckSignature(OnnxSession session, string inputName, IEnumerable<string?> outputNames, string directory)
    {
        if (session.Inputs.Count != 1 || session.Inputs[0].Name != inputName)
            throw new InvalidDataException($"{directory}: the ONNX model's inputs [{string.Join(", ", session.Inputs.Select(i => i.Name))}] do not match the manifest's input '{inputName}'");
        foreach (var output in outputNames.OfType<string>())
            if (session.Outputs.All(o => o.Name != output))
                throw new InvalidDataException($"{directory}: the ONNX model has no output '{output}' (it has {string.Join(", ", session.Outputs.Select(o => o.Name))})");
    }

    private static string Signature(string directory)
    {
        try
        {
            return string.Join("|", Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal)
                .Select(f => $"{Path.GetFileName(f)}:{new FileInfo(f).Length}:{File.GetLastWriteTimeUtc(f).Ticks}"));
        }
        catch (IOException) { return ""; }
    }

    public void Dispose()
    {
        _scanLock.Wait();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _watcher?.Dispose();
            _timer?.Dispose();
            foreach (var entry in _entries.Values) Interlocked.Exchange(ref entry.Current, null)?.Retire();
            Metrics.Dispose();
        }
        finally { _scanLock.Release(); }
    }

    private sealed class Entry(string name)
    {
        public readonly string Name = name;
        public LoadedModel? Current;
        public volatile bool Loading;
        public volatile string? Error;
        public string? FailedVersion;
        public string? FailedSignature;
        public IReadOnlyList<string> AvailableVersions = [];

        public ModelStatus ToStatus(bool optional, string? pinned)
        {
            var current = Volatile.Read(ref Current);
            var state = current is not null ? ModelLoadState.Loaded
                : Loading ? ModelLoadState.Loading
                : AvailableVersions.Count == 0 ? ModelLoadState.Missing
                : ModelLoadState.Failed;
            return new ModelStatus
            {
                Name = Name,
                State = state,
                Optional = optional,
                AvailableVersions = AvailableVersions,
                ServingVersion = current?.Manifest.Version,
                PinnedVersion = pinned,
                Manifest = current?.Manifest,
                ExecutionProvider = current?.Session.ExecutionProvider,
                ProviderFallbackReason = current?.Session.ProviderFallbackReason,
                LoadedAt = current?.LoadedAt,
                Error = Error,
            };
        }
    }
}
