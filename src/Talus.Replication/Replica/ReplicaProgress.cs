namespace Talus.Replication.Replica;

/// <summary>What a replica reports about its sync (INFO replication on the replica, rule 10).</summary>
public sealed class ReplicaProgress
{
    public string SnapshotId { get; set; } = "";

    public int FilesDone { get; set; }

    public int FilesTotal { get; set; }

    public long BytesDone { get; set; }

    public long BytesTotal { get; set; }

    /// <summary>Position in the master's full-sync queue (0 = has a slot or not queued).</summary>
    public int QueuePosition { get; set; }

    /// <summary>True while the master is making the snapshot this replica waits for.</summary>
    public bool WaitingForSnapshot { get; set; }

    public long TransferStartedTicks { get; set; }

    /// <summary>Master offset of the last applied batch (slave_repl_offset).</summary>
    public ulong AppliedOffset { get; set; }

    /// <summary>Environment.TickCount64 of the last byte received from the master.</summary>
    public long LastIoTicks { get; set; } = Environment.TickCount64;

    public long FullSyncs { get; set; }

    public long PartialSyncs { get; set; }

    /// <summary>Seconds to finish the transfer at the rate seen so far (-1 when unknown).</summary>
    public long EtaSeconds
    {
        get
        {
            var elapsed = (Environment.TickCount64 - TransferStartedTicks) / 1000.0;
            if (BytesDone <= 0 || elapsed <= 0 || BytesTotal <= BytesDone)
            {
                return BytesTotal > 0 && BytesDone >= BytesTotal ? 0 : -1;
            }
            return (long)((BytesTotal - BytesDone) / (BytesDone / elapsed));
        }
    }

    public void ResetTransfer()
    {
        SnapshotId = "";
        FilesDone = FilesTotal = 0;
        BytesDone = BytesTotal = 0;
        QueuePosition = 0;
        WaitingForSnapshot = false;
    }
}
