using System.Threading.Tasks.Sources;

namespace Talus.Storage.Engine;

/// <summary>
/// A pipeline group's batch handed to the committer (<see cref="CommitQueue"/>) instead of written by the group's
/// thread (<see cref="PipelineTransaction.Queue"/>). The group's stripes are released at once, so the next group on
/// its keys runs while the batch is written; that group reads the keys through this one's records (<see cref="Find"/>)
/// before the database, and its own batch is queued behind this one, so the writes land in the order the commands
/// ran. Per key slot, the unwritten commits form a chain, newest first (<see cref="KeyLocks.NewestDeferred"/>,
/// <see cref="PreviousFor"/>), which is all a group taking the slot reads through. The keys count as queued meanwhile
/// (<see cref="KeyLocks.HasDeferred"/>): every other command that takes their stripe waits for the write, as for a
/// queued SET.
/// <para>
/// A group that read through this one stands or falls with it: when this write fails, the committer fails the
/// groups that depend on it without writing them (<see cref="DependencyFailed"/>), and a group that is still open
/// fails at its commit. Nothing of any of them was acknowledged: replies go out only once a group is written.
/// </para>
/// Written on the committer's thread; read by the groups that read through it, on theirs. Its records never change
/// once it is queued.
/// </summary>
public sealed class DeferredCommit : IQueuedWrite, IValueTaskSource
{
    private readonly EngineTransaction _records;
    private readonly byte[] _batch;
    private readonly int[] _slots;
    // Per slot of _slots, the commit that was the slot's newest unwritten one when this one was queued; dropped
    // once this one is written (every one of them is written before it).
    private DeferredCommit?[]? _previous;
    private List<DeferredCommit>? _dependsOn;
    private ManualResetValueTaskSourceCore<bool> _written = new() { RunContinuationsAsynchronously = true };
    private bool _continueOnCommitter;
    private Exception? _failure;
    private int _settled;
    private int _finished;
    private int _waiters;

    internal DeferredCommit(EngineTransaction records, byte[] batch, int[] slots, List<DeferredCommit>? dependsOn, Action<Exception?>? written)
    {
        _records = records;
        _batch = batch;
        _slots = slots;
        _dependsOn = dependsOn;
        Written = written;
    }

    /// <summary>
    /// Makes it the newest deferred commit of each of its slots, linked to the one it replaces. The caller holds the
    /// slots' stripes and queues it next.
    /// </summary>
    internal void Link(KeyLocks locks)
    {
        var previous = new DeferredCommit?[_slots.Length];
        for (var i = 0; i < _slots.Length; i++)
        {
            previous[i] = locks.PushDeferred(_slots[i], this);
        }
        Volatile.Write(ref _previous, previous);
    }

    /// <summary>
    /// The older unwritten commit of <paramref name="slot"/> that this one replaced, or null: none, or this one is
    /// written already (and so is every older one).
    /// </summary>
    internal DeferredCommit? PreviousFor(int slot)
    {
        if (Volatile.Read(ref _previous) is not { } previous)
        {
            return null;
        }
        var at = Array.IndexOf(_slots, slot);
        return at < 0 ? null : previous[at];
    }

    /// <summary>Its place in the order of the committer's queue.</summary>
    internal long Sequence { get; set; }

    /// <summary>Runs on the committer's thread once written (null) or failed, before the keys stop counting as queued.</summary>
    private Action<Exception?>? Written { get; }

    /// <summary>Why the write failed (or was not made); null when it was written. Meaningful once finished.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>True once written or failed, and answered for (its keys no longer count as queued, its owner is told).</summary>
    internal bool IsFinished => Volatile.Read(ref _finished) != 0;

    /// <summary>
    /// True once the committer has written it or failed to (<see cref="Failure"/> is then set), in queue order. Set
    /// before its keys stop counting as queued: from then on a group taking one of its keys reads the database, and
    /// may write the key there, so a group that still lists it must stop reading through it
    /// (<see cref="EngineTransaction.PruneReadThrough"/>).
    /// </summary>
    internal bool IsSettled => Volatile.Read(ref _settled) != 0;

    /// <summary>
    /// The committer's first step once the write is made or failed (see <see cref="IsSettled"/>): from here on the
    /// database answers for it, so the slots' chains no longer lead to it and it no longer leads to older ones.
    /// </summary>
    internal void Settle(Exception? failure, KeyLocks locks)
    {
        _failure ??= failure;
        Interlocked.Exchange(ref _settled, 1);
        foreach (var slot in _slots)
        {
            locks.PopDeferred(slot, this);
        }
        Volatile.Write(ref _previous, null);
    }

    /// <summary>
    /// The committer, before it writes a batch: this commit will not be written, since one it read through failed
    /// (<see cref="DependencyFailed"/>); the groups queued behind it see the failure at once.
    /// </summary>
    internal void Doom(Exception failure) => Volatile.Write(ref _failure, failure);

    long IQueuedWrite.Bytes => _batch.Length;

    ReadOnlySpan<byte> IQueuedWrite.Representation => _batch;

    /// <summary>True when a group it read through failed: it must fail too, unwritten.</summary>
    internal bool DependencyFailed
    {
        get
        {
            if (_dependsOn is { } dependsOn)
            {
                // Every one of them was queued before it: settled by now, or doomed earlier in the same batch.
                foreach (var earlier in dependsOn)
                {
                    if (earlier.Failure is not null)
                    {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /// <summary>What this group wrote last at (family, key), as <see cref="EngineTransaction"/> reads its own writes.</summary>
    internal PointOverlay.Lookup Find(uint family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => _records.FindOwn(family, key, out value);

    /// <summary>
    /// Completes when the committer has written the batch, or failed to (see <see cref="Failure"/>). With
    /// <paramref name="continueOnCommitter"/> the awaiting code may resume on the committer's thread (see
    /// <see cref="IQueuedWrite.Complete"/>, <see cref="CommitQueue.OnCommitterThread"/>).
    /// </summary>
    public ValueTask WhenWritten(bool continueOnCommitter = false)
    {
        _continueOnCommitter = continueOnCommitter;
        return new(this, _written.Version);
    }

    /// <summary>Blocks the calling thread until the batch is written or failed (a group that must see it done first).</summary>
    internal void AwaitFinished()
    {
        if (IsFinished)
        {
            return;
        }
        // Registered before the check, with full fences on both sides (see Finish).
        Interlocked.Increment(ref _waiters);
        try
        {
            lock (_slots)
            {
                while (!IsFinished)
                {
                    Monitor.Wait(_slots);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    void IQueuedWrite.Finish(Exception? failure, KeyLocks locks)
    {
        Settle(failure, locks);
        failure = _failure;
        // Those it depended on are done before it: it holds them no longer (a long run of groups on one key must
        // not keep every earlier batch alive).
        _dependsOn = null;
        try
        {
            Written?.Invoke(failure);
        }
        catch (Exception)
        {
            // Must not stop the committer or leave the keys queued.
        }
        Interlocked.Exchange(ref _finished, 1);
        if (Volatile.Read(ref _waiters) != 0)
        {
            lock (_slots)
            {
                Monitor.PulseAll(_slots);
            }
        }
        locks.Unqueue(_slots, deferred: true);
    }

    void IQueuedWrite.Complete(bool repliesHere)
    {
        _written.RunContinuationsAsynchronously = !(repliesHere && _continueOnCommitter);
        _written.SetResult(true);
    }

    void IValueTaskSource.GetResult(short token) => _written.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _written.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _written.OnCompleted(continuation, state, token, flags);
}

/// <summary>What the committer writes: a connection's SET group (<see cref="WriteGroup"/>) or a pipeline group's batch (<see cref="DeferredCommit"/>).</summary>
internal interface IQueuedWrite
{
    /// <summary>Bytes of the batch, for the committer's bound on a merged batch.</summary>
    long Bytes { get; }

    /// <summary>The batch in RocksDB's WriteBatch representation (12-byte header, then records).</summary>
    ReadOnlySpan<byte> Representation { get; }

    /// <summary>The committer's end of it: report and release the keys. Must not throw.</summary>
    void Finish(Exception? failure, KeyLocks locks);

    /// <summary>
    /// After <see cref="Finish"/>: wakes the owner. An owner that asked for it (<c>WhenWritten(continueOnCommitter:
    /// true)</c>) resumes on the committer's thread when <paramref name="repliesHere"/> (few groups wait to be
    /// written), on the thread pool otherwise.
    /// </summary>
    void Complete(bool repliesHere);
}
