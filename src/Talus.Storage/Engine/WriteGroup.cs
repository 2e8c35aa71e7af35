using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// Group commit for one connection's pipeline: the writes of several whole commands collected into one
/// WriteBatch and committed with one <see cref="StorageEngine.Write"/>, so a pipeline of 16 SETs costs one WAL
/// append instead of 16. Only blind writes join a group (commands that read nothing, such as a plain SET):
/// their effect becomes visible at <see cref="Commit"/>, which takes the stripe locks of every key in the
/// group (ascending, like <see cref="KeyLocks.LockMany"/>), so a read-modify-write command on another
/// connection (INCR holds its stripe from its read to its write) can never interleave with a grouped write.
/// The owner commits before anything that could observe the group: before it runs a command that does not
/// join, and before it sends any reply. Each command stays atomic, the batch keeps their order, and the WAL
/// still holds whole commands only. Not thread-safe: one group per connection.
/// </summary>
public sealed class WriteGroup : IDisposable
{
    /// <summary>Commit once the batch holds this many bytes, so a long pipeline does not buffer without bound.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Values at least this large are written alone: one huge record would pin the batch's memory.</summary>
    public const int MaxValueBytes = 64 * 1024;

    private WriteBatch _batch = new();
    private int[] _stripes = new int[32];
    private int _stripeCount;

    /// <summary>Number of commands whose writes wait in the group.</summary>
    public int Commands { get; private set; }

    /// <summary>Bytes of keys and values added since the last commit.</summary>
    public long Bytes { get; private set; }

    public bool IsEmpty => Commands == 0;

    /// <summary>True when the group should be committed before more is added.</summary>
    public bool IsFull => Bytes >= MaxBytes;

    internal WriteBatch Batch => _batch;

    /// <summary>Records that the key's stripe must be held at commit, and counts its bytes.</summary>
    internal void AddKey(int db, ReadOnlySpan<byte> key, int valueBytes)
    {
        var stripe = KeyLocks.StripeOf(db, key);
        var at = Array.BinarySearch(_stripes, 0, _stripeCount, stripe);
        if (at < 0)
        {
            at = ~at;
            if (_stripeCount == _stripes.Length)
            {
                Array.Resize(ref _stripes, _stripes.Length * 2);
            }
            Array.Copy(_stripes, at, _stripes, at + 1, _stripeCount - at);
            _stripes[at] = stripe;
            _stripeCount++;
        }
        Bytes += key.Length + valueBytes;
    }

    /// <summary>Marks the end of one command's writes.</summary>
    internal void CommandAdded() => Commands++;

    /// <summary>
    /// Writes the group as one batch under the stripe locks of all its keys, then empties it. On failure
    /// (a <see cref="RocksDbException"/>, disk full) nothing of the group was written and the group is empty.
    /// </summary>
    public void Commit(Dataset dataset)
    {
        if (Commands == 0)
        {
            return;
        }
        var stripes = _stripes.AsSpan(0, _stripeCount);
        dataset.Locks.EnterStripes(stripes);
        try
        {
            dataset.Engine.Write(_batch);
        }
        finally
        {
            dataset.Locks.ExitStripes(stripes);
            Clear();
        }
    }

    /// <summary>Drops everything collected since the last commit.</summary>
    public void Clear()
    {
        if (Bytes > 4 * MaxBytes)
        {
            // RocksDB keeps a cleared batch's capacity; don't let one big group pin it.
            _batch.Dispose();
            _batch = new WriteBatch();
        }
        else
        {
            _batch.Clear();
        }
        _stripeCount = 0;
        Commands = 0;
        Bytes = 0;
        if (_stripes.Length > 1024)
        {
            _stripes = new int[32];
        }
    }

    public void Dispose() => _batch.Dispose();
}
