namespace Talus.Server.Host;

/// <summary>What CLIENT PAUSE holds back; ordered, since a second pause can only widen the first.</summary>
public enum PauseMode
{
    None,  // commands run as they arrive
    Write, // write commands wait for the pause to end; reads run
    All,   // every command of a non-replica client waits (CLIENT UNPAUSE included, as in Redis)
}
