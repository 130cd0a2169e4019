using KeypointService.Api.Apis;
using KeypointService.Api.Beds;
using KeypointService.Api.Extensions;
using KeypointService.Models.Onnx;

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddKeypointLogging();
    builder.AddKeypointServices();
    builder.AddBeds();
    app = builder.Build();
}
catch (Exception e) when (e is OrtLibraryException or InvalidOperationException)
{
    Console.Error.WriteLine($"KeypointService cannot start: {e.Message}");
    return 1;
}

app.UseKeypointPipeline();
app.MapPredictApi();
app.MapModelsApi();
app.MapHealthApi();
app.MapBeds();
app.Run();
return 0;

/// <summary>Entry point; public for WebApplicationFactory in the functional tests.</summary>
public partial class Program;
