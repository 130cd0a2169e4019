namespace KeypointService.Api.Inputs;

/// <summary>A request the service refuses; becomes an RFC 7807 problem document with this status and detail.</summary>
public sealed class RequestProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static RequestProblemException BadInput(string detail) => new(StatusCodes.Status400BadRequest, "Invalid input", detail);
}
