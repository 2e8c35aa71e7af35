namespace Talus.TestKit;

/// <summary>Which way bytes travel through a <see cref="FaultProxy"/>.</summary>
public enum ProxyDirection
{
    /// <summary>From the connecting client (a replica) to the target (its master).</summary>
    ToTarget = 0,

    /// <summary>From the target back to the client.</summary>
    ToClient = 1,
}
