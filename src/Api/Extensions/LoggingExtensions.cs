using KeypointService.Api.Infrastructure;
using Serilog;
using Serilog.Formatting.Compact;

namespace KeypointService.Api.Extensions;

/// <summary>Serilog for the host's logging and the per-request log line, configured from the "Serilog" section.</summary>
public static class LoggingExtensions
{
    private const string FormatKey = "Serilog:ConsoleFormat";
    private const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog behind Microsoft.Extensions.Logging. Built from the service provider rather than as a
    /// static (bootstrap) logger so that each host — several per test run — owns its own pipeline;
    /// ReadFrom.Services adds any ILogEventSink registered in DI (the tests' capture sink).
    /// </summary>
    public static void AddKeypointLogging(this WebApplicationBuilder builder)
    {
        ConsoleFormat(builder.Configuration[FormatKey]); // a bad value stops start-up here, with one message
        builder.Services.AddSerilog((services, logger) =>
        {
            var configuration = services.GetRequiredService<IConfiguration>();
            logger.ReadFrom.Configuration(configuration).ReadFrom.Services(services).Enrich.FromLogContext();
            _ = ConsoleFormat(configuration[FormatKey]) switch
            {
                "json" => logger.WriteTo.Console(new RenderedCompactJsonFormatter()),
                "text" => logger.WriteTo.Console(outputTemplate: TextTemplate),
                _ => logger, // "none": only the sinks named under Serilog:WriteTo
            };
        }, preserveStaticLogger: true);
    }

    /// <summary>One line per request (see <see cref="RequestLogging"/>); outermost, so it sees the final status.</summary>
    public static IApplicationBuilder UseKeypointRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(o => RequestLogging.Configure(o, app.Services.GetRequiredService<Serilog.ILogger>()));

    private static string ConsoleFormat(string? value) => (value ?? "text").ToLowerInvariant() switch
    {
        "text" => "text",
        "json" => "json",
        "none" => "none",
        _ => throw new InvalidOperationException($"{FormatKey} must be text, json or none, got '{value}'"),
    };
}
