namespace Talus.Replication.Master;

/// <summary>Where a connected replica stands, as the master sees it (INFO slaveN state=...).</summary>
public enum ReplicaLinkState
{
    MetaSynced, // handshake done; waits for the replica's TrySync
    WaitBgsave, // full sync: waits for a slot in the queue or for the snapshot to be made
    SendBulk,   // full sync: the replica is downloading the snapshot files
    Online,     // incremental sync: binlog streaming, acknowledged offsets tracked
}

/// <summary>One replica known to this master: identity, address, state, acknowledged offset and its snapshot.</summary>
public sealed class ReplicaLink
{
    public ReplicaLink(string runId, string ip, int listeningPort)
    {
        RunId = runId;
        Ip = ip;
        ListeningPort = listeningPort;
        LastAck = Environment.TickCount64;
    }

    public string RunId { get; }

    public string Ip { get; }

    public int ListeningPort { get; }

    public ReplicaLinkState State { get; set; } = ReplicaLinkState.MetaSynced;

    /// <summary>Highest offset the replica reported as applied (REPLCONF ACK).</summary>
    public ulong AckOffset { get; set; }

    /// <summary>Environment.TickCount64 of the last acknowledgement.</summary>
    public long LastAck { get; set; }

    /// <summary>The snapshot this replica holds a reader reference on, until it streams past its offset.</summary>
    public Snapshot? Snapshot { get; set; }

    /// <summary>The snapshot being made or chosen for this replica's full sync.</summary>
    public Task<Snapshot>? PendingSnapshot { get; set; }

    /// <summary>Cancels this replica's binlog stream (the replica left or a new handshake replaced it).</summary>
    public CancellationTokenSource Streaming { get; set; } = new();

    public long LagSeconds => (Environment.TickCount64 - LastAck) / 1000;

    public string StateName => State switch
    {
        ReplicaLinkState.WaitBgsave => "wait_bgsave",
        ReplicaLinkState.SendBulk => "send_bulk",
        ReplicaLinkState.Online => "online",
        _ => "wait_bgsave",
    };
}
