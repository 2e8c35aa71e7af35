namespace Talus.Storage.Engine;

/// <summary>
/// Group commit for the read-modify-write commands of one connection's pipeline (LPUSH, HSET, INCR ... on one
/// key each). While the group is open, an <see cref="EngineTransaction"/> on the connection's thread collects
/// every command's batch, and a later command reads an earlier one's writes through it; <see cref="Commit"/>
/// writes them all as ONE WriteBatch, so sixteen pipelined LPUSH cost one WAL append instead of sixteen.
/// <para>
/// Each command's key stripe is taken when the command joins (<see cref="TryHold"/>) and held until the commit,
/// so no other connection reads-and-writes those keys in between: every command stays atomic, the batch keeps
/// their order, and the WAL still holds whole commands only. Stripes are only ever taken with TryEnter while the
/// group holds any: when one is busy the caller commits the group (releasing all of them) and then waits for
/// that stripe with nothing held (<see cref="Hold"/>), so no two groups can wait on each other. The caller
/// replies to none of the group's commands before the commit (the replies go out after the batch is written).
/// </para>
/// Not thread-safe: one per connection, opened and committed on the same thread.
/// </summary>
public sealed class PipelineTransaction
{
    private readonly List<int> _held = new(16);
    private EngineTransaction? _transaction;
    private KeyLocks? _locks;

    public bool IsOpen => _transaction is not null;

    /// <summary>Number of records (puts, deletes) collected so far.</summary>
    public uint Records => _transaction?.Count ?? 0;

    /// <summary>
    /// Set before each command of the group: true when more commands follow it in the same read, so that even
    /// the first read of a run reads ahead (<see cref="ReadAhead"/>).
    /// </summary>
    public bool ReadAheadAtOnce
    {
        set => _transaction!.ReadAheadAtOnce = value;
    }

    /// <summary>Reads the open group answered from its read-ahead buffer so far (tests).</summary>
    internal int ReadAheadServed => _transaction?.ReadAheadServed ?? 0;

    /// <summary>Opens the group on the calling thread: the dataset's writes from this thread collect in it.</summary>
    public void Open(Dataset dataset)
    {
        if (_transaction is not null)
        {
            throw new InvalidOperationException("the pipeline group is already open");
        }
        _locks = dataset.Locks;
        _transaction = dataset.Engine.BeginTransaction();
        // The group holds the stripe of every key it reads until it commits: its reads may read ahead.
        _transaction.ReadsAhead = true;
    }

    /// <summary>
    /// True when the group holds the stripe of (db, key): it already did, or it was free and is now taken. A free
    /// stripe that connections are queued for (<see cref="KeyLocks.WhenAdmitted"/>) is left to them, unless it is
    /// <paramref name="admitted"/>: the caller's turn came.
    /// </summary>
    public bool TryHold(int db, ReadOnlySpan<byte> key, int admitted = -1)
    {
        var slot = KeyLocks.SlotOf(db, key);
        var stripe = KeyLocks.StripeOfSlot(slot);
        if (!_held.Contains(stripe))
        {
            if ((stripe != admitted && _locks!.HasWaiters(stripe)) || !_locks!.TryEnterStripe(stripe))
            {
                return false;
            }
            _held.Add(stripe);
        }
        // A SET of this key still queued for the committer is written first: the group reads the key's latest state.
        _locks!.AwaitQueued(slot);
        return true;
    }

    /// <summary>Waits for the stripe of (db, key). Only for a group that holds no stripe yet.</summary>
    public void Hold(int db, ReadOnlySpan<byte> key)
    {
        if (_held.Count != 0)
        {
            throw new InvalidOperationException("a pipeline group must not wait while it holds stripes");
        }
        var slot = KeyLocks.SlotOf(db, key);
        var stripe = KeyLocks.StripeOfSlot(slot);
        _locks!.EnterStripe(stripe);
        _held.Add(stripe);
        _locks.AwaitQueued(slot);
    }

    /// <summary>Drops the collected batches unwritten and releases every stripe.</summary>
    public void Abort()
    {
        var transaction = _transaction;
        _transaction = null;
        transaction?.Dispose();
        Release();
    }

    /// <summary>
    /// Writes the collected batches as one and releases every stripe. On failure (a RocksDbException, disk
    /// full) nothing of the group was written; the stripes are released and the group is closed either way.
    /// </summary>
    public void Commit()
    {
        var transaction = _transaction;
        _transaction = null;
        try
        {
            transaction?.Commit();
        }
        finally
        {
            transaction?.Dispose();
            Release();
        }
    }

    private void Release()
    {
        for (var i = _held.Count - 1; i >= 0; i--)
        {
            _locks!.ExitStripe(_held[i]);
        }
        _held.Clear();
    }
}
