using RocksDbSharp;
using Talus.Storage.Engine;

namespace Talus.Replication.Binlog;

/// <summary>One piece of the binlog: whole commands covering offsets [First, Next), as one RocksDB WriteBatch representation.</summary>
public readonly record struct BinlogChunk(ulong First, ulong Next, int Entries, byte[] Data);

/// <summary>
/// Reads the binlog (the master's RocksDB WAL) forward from an offset, in chunks of whole batches (the first
/// one cut at the offset when it starts at a boundary inside a batch, see <see cref="Holds"/>).
/// The binding's tailer silently starts later when the WAL before the requested offset was purged; this
/// wrapper checks every chunk's first offset against the one it expects and reports a gap instead, which
/// the caller turns into a full sync (rule 2). Single-threaded, like the tailer it wraps.
/// </summary>
public sealed class BinlogTail : IDisposable
{
    private readonly WalTailer _tailer;
    private ulong _expected;

    public BinlogTail(StorageEngine engine, ulong from)
    {
        _expected = from;
        _tailer = new ReplicationSource(engine.Db).TailWal(from);
    }

    /// <summary>The offset the next chunk must start at.</summary>
    public ulong Expected => _expected;

    /// <summary>
    /// The next chunk, or null when there is nothing new. Throws <see cref="BinlogGapException"/> when the
    /// binlog no longer holds <see cref="Expected"/>.
    /// </summary>
    public BinlogChunk? TryRead()
    {
        if (!_tailer.TryReadChunk(out var chunk))
        {
            return null;
        }
        var first = _expected;
        byte[] data;
        if (chunk.FirstSequenceNumber == first)
        {
            data = chunk.Data.ToArray();
        }
        else if (chunk.FirstSequenceNumber < first && first < chunk.NextSequenceNumber
            && WriteBatchRecords.Suffix(chunk.Data, first - chunk.FirstSequenceNumber) is { } suffix)
        {
            // Only the first chunk of a stream starting at a boundary inside a batch (see Holds).
            data = suffix;
        }
        else
        {
            throw new BinlogGapException(first, chunk.FirstSequenceNumber);
        }
        _expected = chunk.NextSequenceNumber;
        return new BinlogChunk(first, chunk.NextSequenceNumber, (int)(chunk.NextSequenceNumber - first), data);
    }

    public void Dispose() => _tailer.Dispose();

    /// <summary>
    /// Whether the binlog still holds offset <paramref name="from"/> as the start of whole commands (the
    /// partial-sync test of rule 2): a batch's first record, or one that a boundary marker precedes inside a
    /// batch. A replica writes several of its master's batches as one and keeps their boundaries as markers,
    /// so after its promotion another replica's offset (always the end of one of the old master's batches)
    /// still starts whole commands. An offset one past the latest is held trivially (nothing to send yet).
    /// </summary>
    public static bool Holds(StorageEngine engine, ulong from)
    {
        var latest = engine.LatestSequence;
        if (from == latest + 1)
        {
            return true;
        }
        if (from > latest + 1 || from == 0)
        {
            return false;
        }
        try
        {
            using var it = engine.Db.GetUpdatesSince(from);
            if (!it.Valid())
            {
                return false;
            }
            it.Status();
            using var batch = it.GetBatch(out var seq);
            return seq == from || (seq < from && WriteBatchRecords.StartsCommands(batch.AsSpan(), from - seq));
        }
        catch (Exception ex) when (ex is RocksDbException or InvalidDataException)
        {
            return false;
        }
    }
}

/// <summary>The binlog no longer holds the offset a replica needs: only a full sync can continue.</summary>
public sealed class BinlogGapException : Exception
{
    public BinlogGapException(ulong expected, ulong found)
        : base($"binlog gap: needed offset {expected}, the oldest available batch starts at {found}")
    {
        Expected = expected;
        Found = found;
    }

    public BinlogGapException() { }

    public BinlogGapException(string message) : base(message) { }

    public BinlogGapException(string message, Exception inner) : base(message, inner) { }

    public ulong Expected { get; }

    public ulong Found { get; }
}
