namespace Talus.Server.Host;

/// <summary>Counters behind INFO stats; every field is updated with Interlocked and read without a lock.</summary>
public sealed class ServerStats
{
    public long CommandsProcessed;
    public long ConnectionsReceived;
    public long RejectedConnections;
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long NetInputBytes;
    public long NetOutputBytes;
    public long ErrorReplies;
    public long OutputBufferLimitDisconnections;
    /// <summary>Commands that found their key's stripe held by another thread and gave way (INFO talus_key_waits).</summary>
    public long KeyWaits;

    private long _lastSampleTime = Environment.TickCount64;
    private long _lastSampleCommands;
    private double _instantaneousOps;

    /// <summary>Commands per second over the last sample window (INFO instantaneous_ops_per_sec).</summary>
    public double InstantaneousOps
    {
        get
        {
            var now = Environment.TickCount64;
            var elapsed = now - Interlocked.Read(ref _lastSampleTime);
            if (elapsed >= 1000)
            {
                var commands = Interlocked.Read(ref CommandsProcessed);
                _instantaneousOps = (commands - Interlocked.Exchange(ref _lastSampleCommands, commands)) * 1000.0 / elapsed;
                Interlocked.Exchange(ref _lastSampleTime, now);
            }
            return _instantaneousOps;
        }
    }
}
