namespace Talus.Protocol;

/// <summary>The reply dialect a connection negotiated with HELLO.</summary>
public enum RespVersion
{
    Resp2 = 2, // the default until HELLO 3
    Resp3 = 3, // maps, sets, doubles, nulls and pushes have their own type bytes
}
