using System.Threading.Tasks.Sources;
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
/// <para>
/// At the end of a read the owner may <see cref="Queue"/> the group instead: the committer (<see cref="CommitQueue"/>)
/// writes it, and the owner awaits <see cref="WhenWritten"/> before it sends the replies or reads on. Meanwhile
/// the group's keys count as queued (<see cref="KeyLocks.AwaitQueued(int)"/>) and the group must not be touched.
/// </para>
/// </summary>
public sealed class WriteGroup : IDisposable, IValueTaskSource, IQueuedWrite
{
    /// <summary>Commit once the batch holds this many bytes, so a long pipeline does not buffer without bound.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Values at least this large are written alone: one huge record would pin the batch's memory.</summary>
    public const int MaxValueBytes = 64 * 1024;

    private WriteBatch _batch = new();
    private int[] _stripes = new int[32];
    private int _stripeCount;
    private int[] _slots = new int[32];
    private int _slotCount;
    private ManualResetValueTaskSourceCore<bool> _written = new() { RunContinuationsAsynchronously = true };
    private bool _continueOnCommitter;
    private Exception? _queuedFailure;

    /// <summary>Number of commands whose writes wait in the group.</summary>
    public int Commands { get; private set; }

    /// <summary>Bytes of keys and values added since the last commit.</summary>
    public long Bytes { get; private set; }

    public bool IsEmpty => Commands == 0;

    /// <summary>True when the group should be committed before more is added.</summary>
    public bool IsFull => Bytes >= MaxBytes;

    internal WriteBatch Batch => _batch;

    ReadOnlySpan<byte> IQueuedWrite.Representation => _batch.AsSpan();

    /// <summary>Records that the key's stripe must be held at commit, and counts its bytes.</summary>
    internal void AddKey(int db, ReadOnlySpan<byte> key, int valueBytes)
    {
        var slot = KeyLocks.SlotOf(db, key);
        if (_slotCount == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }
        _slots[_slotCount++] = slot;
        var stripe = KeyLocks.StripeOfSlot(slot);
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
    public void CommandAdded() => Commands++;

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
            // A pipeline group's deferred commit of one of these keys ran before: this write must land after it.
            foreach (var slot in _slots.AsSpan(0, _slotCount))
            {
                dataset.Locks.AwaitDeferred(slot);
            }
            dataset.Engine.Write(_batch);
        }
        finally
        {
            dataset.Locks.ExitStripes(stripes);
            Clear();
        }
    }

    /// <summary>True between <see cref="Queue"/> and <see cref="EndQueued"/>.</summary>
    public bool IsQueued { get; private set; }

    /// <summary>
    /// Runs on the committer's thread once the queued group is written (null: it was) or failed, before its keys
    /// stop counting as queued and before callers of <see cref="CommitQueue.Drain"/> go on. Must not throw: an
    /// exception it throws is dropped, since the committer must go on with the groups behind this one.
    /// </summary>
    public Action<Exception?>? Written { get; set; }

    /// <summary>
    /// Hands the group to the committer: its keys count as queued from now on (marked under their stripes, so a
    /// command holding one of them has already read and written before), and it is written after everything
    /// queued before it. The caller awaits <see cref="WhenWritten"/>, then calls <see cref="EndQueued"/>.
    /// </summary>
    public void Queue(Dataset dataset)
    {
        if (Commands == 0 || IsQueued)
        {
            throw new InvalidOperationException(IsQueued ? "the write group is already queued" : "the write group is empty");
        }
        var stripes = _stripes.AsSpan(0, _stripeCount);
        dataset.Locks.EnterStripes(stripes);
        try
        {
            dataset.Locks.MarkQueued(_slots.AsSpan(0, _slotCount));
        }
        finally
        {
            dataset.Locks.ExitStripes(stripes);
        }
        _queuedFailure = null;
        _written.Reset();
        _continueOnCommitter = false;
        IsQueued = true;
        dataset.Commits.Enqueue(this);
    }

    /// <summary>
    /// Completes when the committer has written the queued group, or failed to. With
    /// <paramref name="continueOnCommitter"/> the awaiting code may resume on the committer's thread (see
    /// <see cref="IQueuedWrite.Complete"/>, <see cref="CommitQueue.OnCommitterThread"/>).
    /// </summary>
    public ValueTask WhenWritten(bool continueOnCommitter = false)
    {
        _continueOnCommitter = continueOnCommitter;
        return new(this, _written.Version);
    }

    /// <summary>Empties the group after its queued write; returns the write's failure, or null when it was written.</summary>
    public Exception? EndQueued()
    {
        var failure = _queuedFailure;
        IsQueued = false;
        _queuedFailure = null;
        Clear();
        return failure;
    }

    /// <summary>The committer's end of a queued group: report and release the keys (the owner is woken by Complete).</summary>
    void IQueuedWrite.Finish(Exception? failure, KeyLocks locks)
    {
        _queuedFailure = failure;
        try
        {
            Written?.Invoke(failure);
        }
        catch (Exception)
        {
            // See Written: nothing here may stop the committer or leave the keys queued.
        }
        locks.Unqueue(_slots.AsSpan(0, _slotCount));
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
        _slotCount = 0;
        if (_slots.Length > 1024)
        {
            _slots = new int[32];
        }
        Commands = 0;
        Bytes = 0;
        if (_stripes.Length > 1024)
        {
            _stripes = new int[32];
        }
    }

    /// <summary>Frees the batch; a group still queued is waited for first (the committer reads its batch).</summary>
    public void Dispose()
    {
        if (IsQueued)
        {
            var spin = new SpinWait();
            while (_written.GetStatus(_written.Version) == ValueTaskSourceStatus.Pending)
            {
                spin.SpinOnce();
            }
        }
        _batch.Dispose();
    }
}
