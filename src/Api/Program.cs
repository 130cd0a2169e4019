using KeypointService.Api.Apis;
using KeypointService.Api.Beds;
using KeypointService.Api.Extensions;
using KeypointService.Api.Security;

if (args is ["keys", ..]) return ApiKeyCommand.Run(args[1..], Console.Out, Console.Error); // mint a key; no server

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddKeypointLogging();
    builder.AddKeypointServices();
    builder.AddOpenInferenceProtocol();
    builder.AddKeypointMetrics();
    builder.AddBeds();
    builder.AddKeypointSecurity();
    builder.AddKeypointForwardedHeaders();
    app = builder.Build();
}
catch (InvalidOperationException e) // configuration, ONNX Runtime or a required provider: one plain message, no stack trace
{
    Console.Error.WriteLine($"KeypointService cannot start: {e.Message}");
    return 1;
}

app.UseKeypointForwardedHeaders();
app.UseKeypointPipeline();
app.UseKeypointLandingPage();
app.UseKeypointSecurity();
app.MapPredictApi().RequireScope(ApiScopes.Predict);
app.MapModelsApi().RequireScope(ApiScopes.Predict);
app.MapHealthApi();
app.MapOpenInferenceProtocol();
app.MapKeypointMetrics();
app.MapBeds();
app.Run();
return 0;

/// <summary>Entry point; public for WebApplicationFactory in the functional tests.</summary>
public partial class Program;
