using KeypointService.Models.Inputs;
using KeypointService.Models.Manifests;

namespace KeypointService.Api.Inputs;

/// <summary>
/// Notices an input of the wrong kind for the model — a pressure file sent to an image model, a photo
/// sent to a pressure model. It is still run (the values are valid numbers), but the caller is told.
/// </summary>
public static class InputExpectations
{
    private static readonly HashSet<string> PressureFileTypes = ["text/csv", "text/plain", "application/x-npy", "application/npy", "application/octet-stream"];

    /// <summary>A warning for the response and the log, or null when the input fits the model.</summary>
    public static string? Check(ModelManifest manifest, ReadInput input)
    {
        var pressureModel = manifest.Input.ValueDomain == "pressure";
        if (pressureModel && input.Map.Domain == InputValueDomain.Image)
            return $"model '{manifest.Name}' expects pressure readings, got a {input.MediaType} image: its grey levels 0..255 were taken as pressure values";
        if (!pressureModel && PressureFileTypes.Contains(input.MediaType))
            return $"model '{manifest.Name}' expects a grayscale image (values 0..255), got {input.MediaType} data: its values were taken as grey levels";
        return null;
    }
}
