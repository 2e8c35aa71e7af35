namespace Talus.Server.Commands;

/// <summary>Redis' exact error texts, in one place so every command says them the same way.</summary>
public static class Errors
{
    public const string Syntax = "ERR syntax error";
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
    public const string NotInteger = "ERR value is not an integer or out of range";
    public const string NotFloat = "ERR value is not a valid float";
    public const string Overflow = "ERR increment or decrement would overflow";
    public const string NaNOrInfinity = "ERR increment would produce NaN or Infinity";
    public const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    public const string NoSuchKey = "ERR no such key";
    public const string SameObject = "ERR source and destination objects are the same";
    public const string NoAuth = "NOAUTH Authentication required.";
    public const string InvalidPassword = "WRONGPASS invalid username-password pair or user is disabled.";
    public const string ReadOnlyReplica = "READONLY You can't write against a read only replica.";
    public const string InvalidDbIndex = "ERR DB index is out of range";
    public const string InvalidExpire = "ERR invalid expire time in '{0}' command";
    public const string BitOffset = "ERR bit offset is not an integer or out of range";
    public const string BitValue = "ERR bit is not an integer or out of range";
    public const string OffsetOutOfRange = "ERR offset is out of range";
    public const string InvalidCursor = "ERR invalid cursor";
    public const string MaxClients = "ERR max number of clients reached";
}
