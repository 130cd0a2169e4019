using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KeypointService.Api.Tests.Beds;

/// <summary>The built API (src/Api/bin/Release/net10.0) as a real process on a loopback port, for kill-and-restart tests.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _log = new();

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Client = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }
    public HttpClient Client { get; }

    public static string ApiDll => Path.Combine(FixtureModels.RepositoryRoot, "src", "Api", "bin", "Release", "net10.0", "KeypointService.Api.dll");

    /// <summary>Starts the service with these settings and waits (guarded) until /health/ready says ready.</summary>
    /// <param name="environment">ASPNETCORE_ENVIRONMENT: Development needs no API keys, Production does (docs/security.md).</param>
    public static async Task<ServiceProcess> StartAsync(IDictionary<string, string> settings, CancellationToken guard, string environment = "Development")
    {
        if (!File.Exists(ApiDll)) throw new InvalidOperationException($"{ApiDll} is missing: build the solution (./test.sh does)");
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ApiDll, "--urls", $"http://127.0.0.1:{port}", "--contentRoot", Path.Combine(FixtureModels.RepositoryRoot, "src", "Api") })
            start.ArgumentList.Add(a);
        foreach (var (key, value) in settings) start.ArgumentList.Add($"--{key}={value}");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        var process = Process.Start(start)!;
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => service.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => service.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the parameterless overload also waits for the redirected output to drain
                throw new InvalidOperationException($"the service exited with {process.ExitCode}:\n{service.Log}");
            }
            try
            {
                if ((await service.Client.GetAsync("/health/ready", guard)).StatusCode == HttpStatusCode.OK) return service;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200, guard);
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, nothing the process could still do.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public string Log { get { lock (_log) return string.Join('\n', _log); } }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > 200) _log.Dequeue();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited) Kill();
        _process.Dispose();
        await Task.CompletedTask;
    }
}
