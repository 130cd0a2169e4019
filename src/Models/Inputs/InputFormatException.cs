namespace KeypointService.Models.Inputs;

/// <summary>
/// The request body could not be turned into an <see cref="InputMap"/>. <see cref="Exception.Message"/>
/// is the user-facing detail (for example "row 3 has 83 values, expected 84"); it never contains a
/// stack trace or an internal path, so the API can put it into a problem document as it is.
/// </summary>
public sealed class InputFormatException : Exception
{
    public InputFormatException(string message) : base(message) { }

    public InputFormatException(string message, Exception innerException) : base(message, innerException) { }
}
