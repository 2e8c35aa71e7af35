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
/// <para>
/// At the end of a read the group may be handed to the committer instead (<see cref="Queue"/>, a
/// <see cref="DeferredCommit"/>): its stripes are released at once and the next group on its keys, which reads
/// through it, runs while it is written. A group that read through a deferred commit is always queued behind it,
/// never written on its own thread, so the writes keep the order the commands ran in (<see cref="Commit"/> then
/// waits for the committer).
/// </para>
/// Not thread-safe: one per connection, opened and committed on the same thread.
/// </summary>
public sealed class PipelineTransaction
{
    private readonly List<int> _held = new(16);
    private readonly List<int> _slots = new(16);
    private EngineTransaction? _transaction;
    private KeyLocks? _locks;
    private CommitQueue? _commits;

    public bool IsOpen => _transaction is not null;

    /// <summary>Number of records (puts, deletes) collected so far.</summary>
    public uint Records => _transaction?.Count ?? 0;

    /// <summary>True once the group wrote more than its keys' metadata (<see cref="EngineTransaction.WroteElements"/>).</summary>
    public bool WroteElements => _transaction?.WroteElements ?? false;

    /// <summary>True when the open group reads through another group's deferred commit (it is then queued behind it).</summary>
    public bool ReadsThroughDeferred => _transaction?.ReadsThroughDeferred ?? false;

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
        _commits = dataset.Commits;
        _transaction = dataset.Engine.BeginTransaction();
        // The group holds the stripe of every key it reads until it commits: its reads may read ahead.
        _transaction.ReadsAhead = true;
        KeyLocks.GroupSlots(_slots);
    }

    /// <summary>
    /// After taking the stripe of a key's slot: a SET of the key still queued for the committer is written first,
    /// and a deferred commit of another group on the key is read through (the group reads the key's latest state
    /// either way).
    /// </summary>
    private void Took(int slot)
    {
        _locks!.AwaitQueuedSets(slot);
        _transaction!.ReadThrough(_locks.NewestDeferred(slot), slot);
        // Taken once per group: TryHold returns before this for a slot already taken, and Hold takes the first.
        _slots.Add(slot);
    }

    /// <summary>
    /// True when the group holds the stripe of (db, key): it already did, or it was free and is now taken. A free
    /// stripe that connections are queued for (<see cref="KeyLocks.WhenAdmitted"/>) is left to them, unless it is
    /// <paramref name="admitted"/>: the caller's turn came.
    /// </summary>
    public bool TryHold(int db, ReadOnlySpan<byte> key, int admitted = -1)
    {
        var slot = KeyLocks.SlotOf(db, key);
        if (_slots.Contains(slot))
        {
            // Taken before in this group (the usual case: a pipeline of commands on one key). Its stripe has been
            // held since, and only a holder of the stripe queues a SET of the slot or links a commit into its chain:
            // nothing is queued for it that the group does not already wait for or read through.
            return true;
        }
        var stripe = KeyLocks.StripeOfSlot(slot);
        if (!_held.Contains(stripe))
        {
            if ((stripe != admitted && _locks!.HasWaiters(stripe)) || !_locks!.TryEnterStripe(stripe))
            {
                return false;
            }
            _held.Add(stripe);
        }
        Took(slot);
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
        Took(slot);
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
    /// A group that read through deferred commits is queued behind them, and this waits until it is written.
    /// </summary>
    public void Commit()
    {
        var transaction = _transaction;
        // The commits read through that are written by now no longer order this one.
        transaction?.PruneReadThrough();
        if (transaction is { ReadsThroughDeferred: true, CanDefer: true })
        {
            var deferred = Queue(null)!;
            deferred.AwaitFinished();
            if (deferred.Failure is { } failure)
            {
                throw new IOException("the pipeline group's write failed: " + failure.Message, failure);
            }
            return;
        }
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

    /// <summary>
    /// Hands the group to the committer and releases every stripe; the caller awaits the returned commit's
    /// <see cref="DeferredCommit.WhenWritten"/> before it sends a reply of the group. <paramref name="written"/> runs on
    /// the committer's thread once written (or failed), before the keys stop counting as queued. Null, with the group
    /// still open, when it cannot be deferred (it built an index) or has nothing to wait for (it wrote nothing and
    /// read through nothing); the caller then commits it.
    /// </summary>
    public DeferredCommit? Queue(Action<Exception?>? written)
    {
        var transaction = _transaction;
        transaction?.PruneReadThrough();
        if (transaction is null || !transaction.CanDefer || (transaction.Count == 0 && !transaction.ReadsThroughDeferred))
        {
            return null;
        }
        _transaction = null;
        try
        {
            var dependsOn = transaction.DeferredReadThrough is { } readThrough ? new List<DeferredCommit>(readThrough) : null;
            var batch = transaction.Defer() ?? WriteBatchCoalescing.ToBatch([], 0);
            var slots = _slots.ToArray();
            var deferred = new DeferredCommit(transaction, batch, slots, dependsOn, written);
            // Linked and marked under the stripes: whoever takes one of them next finds this commit at the head of the
            // slot's chain, and sees the keys queued.
            deferred.Link(_locks!);
            _locks!.MarkQueued(slots, deferred: true);
            _commits!.Enqueue(deferred);
            return deferred;
        }
        finally
        {
            transaction.Dispose();
            Release();
        }
    }

    private void Release()
    {
        KeyLocks.GroupSlots(null);
        for (var i = _held.Count - 1; i >= 0; i--)
        {
            _locks!.ExitStripe(_held[i]);
        }
        _held.Clear();
        _slots.Clear();
    }
}
