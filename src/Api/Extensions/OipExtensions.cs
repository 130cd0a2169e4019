using KeypointService.Api.Apis.Oip;

namespace KeypointService.Api.Extensions;

/// <summary>Wiring of the Open Inference Protocol v2 (REST under /v2).</summary>
public static class OipExtensions
{
    public static void AddOpenInferenceProtocol(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OipInference>();
    }

    public static void MapOpenInferenceProtocol(this WebApplication app)
    {
        app.MapOipRestApi();
    }
}
