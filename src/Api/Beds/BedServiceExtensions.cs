using KeypointService.Api.Apis;
using KeypointService.Api.Beds.Live;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Beds.Storage;
using KeypointService.Api.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Beds;

public static class BedServiceExtensions
{
    /// <summary>Options, the store (SQLite or PostgreSQL), the live hub, the bed service and retention.</summary>
    public static void AddBeds(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BedOptions>().BindConfiguration(BedOptions.Section);
        var options = builder.Configuration.GetSection(BedOptions.Section).Get<BedOptions>() ?? new();
        if (options.Problem() is { } problem) throw new InvalidOperationException(problem);
        services.TryAddSingleton(TimeProvider.System);
        var contentRoot = builder.Environment.ContentRootPath;
        if (options.Store.Equals("postgres", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton(sp => new PostgresDialect(sp.GetRequiredService<IOptions<BedOptions>>().Value.PostgresConnectionString!));
            services.AddSingleton<SqlDialect>(sp => sp.GetRequiredService<PostgresDialect>());
            // replicas share beds: live pushes travel between them over LISTEN/NOTIFY
            services.AddSingleton<PostgresLiveRelay>();
            services.AddSingleton<ILiveRelay>(sp => sp.GetRequiredService<PostgresLiveRelay>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresLiveRelay>());
        }
        else
        {
            services.AddSingleton<SqlDialect>(sp =>
            {
                var dataPath = sp.GetRequiredService<IOptions<BedOptions>>().Value.DataPath;
                return new SqliteDialect(Path.IsPathRooted(dataPath) ? dataPath : Path.GetFullPath(Path.Combine(contentRoot, dataPath)));
            });
            services.AddSingleton<ILiveRelay, NoLiveRelay>();
        }
        services.AddSingleton<IBedStore>(sp => new SqlBedStore(sp.GetRequiredService<SqlDialect>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<BedLiveHub>();
        services.AddSingleton<BedService>();
        services.AddHostedService<BedStoreHost>();
        services.AddHostedService<BedWatch>();
    }

    /// <summary>Reports silent sensors and alerts come due between frames (<see cref="BedService.WatchBedsAsync"/>) every Beds:SensorWatchSeconds.</summary>
    private sealed class BedWatch(BedService beds, TimeProvider clock, ILogger<BedWatch> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            if (beds.Options.SensorWatchSeconds <= 0) return;
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(beds.Options.SensorWatchSeconds), clock);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    foreach (var e in await beds.WatchBedsAsync(stoppingToken))
                        logger.LogWarning("Bed watch: bed {Bed} {Event} at {At}", e.BedId, e.Type, Times.Format(e.AtMs));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Bed watch failed; retrying at the next tick");
                }
            }
        }
    }

    /// <summary>Creates the tables before the server listens; then prunes old events on an interval.</summary>
    private sealed class BedStoreHost(IBedStore store, IOptions<BedOptions> options, TimeProvider clock, ILogger<BedStoreHost> logger) : BackgroundService
    {
        public override async Task StartAsync(CancellationToken cancellationToken)
        {
            await store.InitializeAsync(cancellationToken);
            await base.StartAsync(cancellationToken);
        }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var o = options.Value;
            if (o.EventRetentionDays <= 0) return;
            using var timer = new PeriodicTimer(TimeSpan.FromMinutes(o.RetentionIntervalMinutes), clock);
            do
            {
                try
                {
                    var before = clock.GetUtcNow().AddDays(-o.EventRetentionDays).ToUnixTimeMilliseconds();
                    var removed = await store.PruneAsync(before, stoppingToken);
                    if (removed > 0) logger.LogInformation("Bed retention: removed {Rows} events and frame ids older than {Days} days", removed, o.EventRetentionDays);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Bed retention failed; retrying at the next interval");
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
    }

    /// <summary>WebSockets for /v1/beds/{bedId}/ws and the bed endpoints.</summary>
    public static WebApplication MapBeds(this WebApplication app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.MapBedsApi().RequireScope(ApiScopes.Beds); // frames, state, events, SSE and WebSocket
        return app;
    }
}
