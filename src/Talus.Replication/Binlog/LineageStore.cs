using System.Buffers.Binary;
using System.Security.Cryptography;
using RocksDbSharp;
using Talus.Storage.Engine;

namespace Talus.Replication.Binlog;

/// <summary>
/// Where a dataset keeps its lineage. The offset half of the lineage is the dataset's RocksDB sequence number
/// itself: a master's batches and a replica's applied copies of them are the same WriteBatches in the same
/// order, so both sides count the same sequence numbers. The history half lives in the <c>sys</c> column
/// family, written by ordinary WriteBatches that travel through the binlog like data:
/// <code>
/// sys/repl-id        40 hex chars   the history this dataset's sequence numbers belong to (absent = no lineage)
/// sys/repl-id2       40 hex chars   the previous history, kept by a promotion
/// sys/repl-switch    8 bytes LE     the last offset of the previous history (PSYNC2's second_repl_offset)
/// </code>
/// Rule 1 holds by construction: the id only changes in a batch of its own, and the offset is the position
/// of the data. Clearing the id is a synced write (rule 3: a crash mid full sync cannot resurrect it).
/// </summary>
public static class LineageStore
{
    private static readonly byte[] ReplIdKey = "repl-id"u8.ToArray();
    private static readonly byte[] ReplId2Key = "repl-id2"u8.ToArray();
    private static readonly byte[] SwitchKey = "repl-switch"u8.ToArray();

    /// <summary>The lineage a read-only copy (a snapshot, a received staging dataset) carries in itself.</summary>
    public static Lineage Read(Talus.Storage.Engine.ReadOnlyDataset dataset)
    {
        var offset = dataset.LatestSequence;
        var id = dataset.GetSys(ReplIdKey);
        return id is null || id.Length == 0 ? Lineage.None : new Lineage(System.Text.Encoding.ASCII.GetString(id), offset);
    }

    /// <summary>A new random 40-hex-character replication id.</summary>
    public static string NewReplId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>The dataset's lineage: (repl-id, latest sequence), or <see cref="Lineage.None"/>.</summary>
    public static Lineage Read(StorageEngine engine)
    {
        // Read the sequence first: a concurrent write only makes the id older, never wrong, because an id
        // change is itself a write that moves the sequence.
        var offset = engine.LatestSequence;
        var id = engine.Get(engine.Sys, ReplIdKey);
        return id is null || id.Length == 0 ? Lineage.None : new Lineage(System.Text.Encoding.ASCII.GetString(id), offset);
    }

    /// <summary>The previous history and its last offset (after a promotion), or none.</summary>
    public static (string ReplId2, ulong SwitchOffset)? ReadPrevious(StorageEngine engine)
    {
        var id2 = engine.Get(engine.Sys, ReplId2Key);
        var sw = engine.Get(engine.Sys, SwitchKey);
        if (id2 is null || sw is null || sw.Length != 8)
        {
            return null;
        }
        return (System.Text.Encoding.ASCII.GetString(id2), BinaryPrimitives.ReadUInt64LittleEndian(sw));
    }

    /// <summary>Starts a new history on a master that has none (first start, or a dataset without lineage).</summary>
    public static Lineage StartNewHistory(StorageEngine engine)
    {
        var id = NewReplId();
        using var batch = new WriteBatch();
        batch.Put(ReplIdKey, System.Text.Encoding.ASCII.GetBytes(id), engine.Sys);
        engine.WriteDurable(batch);
        return Read(engine);
    }

    /// <summary>
    /// Promotion (rule 8): a new id, with the old id and the offset where it ends kept as the previous
    /// history, in one batch. Replicas of the old history at or before the switch offset continue with a
    /// partial sync and receive this batch through the binlog like any other.
    /// </summary>
    public static Lineage Promote(StorageEngine engine)
    {
        var current = Read(engine);
        if (current.IsNone)
        {
            return StartNewHistory(engine);
        }
        using var batch = new WriteBatch();
        var sw = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(sw, current.Offset);
        batch.Put(ReplId2Key, System.Text.Encoding.ASCII.GetBytes(current.ReplId), engine.Sys);
        batch.Put(SwitchKey, sw, engine.Sys);
        batch.Put(ReplIdKey, System.Text.Encoding.ASCII.GetBytes(NewReplId()), engine.Sys);
        engine.WriteDurable(batch);
        return Read(engine);
    }

    /// <summary>Removes the lineage durably (before a full sync's first byte, rule 3).</summary>
    public static void Clear(StorageEngine engine)
    {
        using var batch = new WriteBatch();
        batch.Delete(ReplIdKey, engine.Sys);
        engine.WriteDurable(batch);
    }
}
