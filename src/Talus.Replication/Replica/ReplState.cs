namespace Talus.Replication.Replica;

/// <summary>
/// The replica's replication state. Each value says what it waits for. The legal moves between them are
/// the table in <see cref="ReplStateMachine"/>; any other move is a bug and throws.
/// </summary>
public enum ReplState
{
    None,       // not a replica: waits for REPLICAOF host port
    Connect,    // waits for TCP connections to the master (retries with back-off and jitter)
    MetaSync,   // waits for AUTH and the master's compatibility and cycle checks (rule 9)
    TrySync,    // waits for the master's answer: continue from our lineage, or full sync (rule 2)
    WaitDbSync, // full sync: lineage cleared; waits for a slot in the master's queue or for its snapshot (rule 6)
    DbSync,     // full sync: receiving the snapshot's files into staging, verifying each (rule 3)
    DbSwap,     // full sync: checking the staging dataset's lineage, then swapping it in atomically (rule 3)
    BinlogSync, // incremental sync: applying the master's batches in order and acknowledging them (rule 7)
    Error,      // the link failed (reason logged); waits out the back-off, then Connect
}
