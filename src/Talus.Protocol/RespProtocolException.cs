namespace Talus.Protocol;

/// <summary>
/// A framing error after which the byte stream cannot be resynchronised: the server replies with
/// <see cref="Exception.Message"/> as an error and closes the connection, as Redis does.
/// </summary>
public sealed class RespProtocolException : Exception
{
    public RespProtocolException(string message) : base(message) { }

    public RespProtocolException() : base("ERR Protocol error") { }

    public RespProtocolException(string message, Exception inner) : base(message, inner) { }
}
