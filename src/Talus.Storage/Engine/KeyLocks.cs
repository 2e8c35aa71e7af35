namespace Talus.Storage.Engine;

/// <summary>
/// Striped locks that serialise read-modify-write commands on the same key (INCR, APPEND, HSET, LPUSH ...)
/// while commands on other keys run in parallel on all cores. Multi-key commands take their stripes in
/// ascending order, so two of them can never wait on each other in a cycle. Reads take no lock: RocksDB
/// gives each read a consistent view.
/// </summary>
public sealed class KeyLocks
{
    private const int StripeCount = 1024;
    private readonly object[] _stripes;
    // Connections queued for a stripe without blocking their thread (WhenAdmitted), first come first served;
    // the count is read without the lock on every release, so a stripe nobody waits for costs one read.
    private readonly List<TaskCompletionSource>?[] _waiters = new List<TaskCompletionSource>?[StripeCount];
    private readonly int[] _waiting = new int[StripeCount];
    // Keys with a write queued for the committer (CommitQueue), counted by slot: a finer hash than the stripe, so
    // that a queued SET rarely makes a read-modify-write command on another key of its stripe wait. A slot's
    // stripe is the slot modulo StripeCount, so a queued key's slot only changes under its stripe.
    private const int SlotCount = 64 * StripeCount;
    private readonly int[] _queued = new int[SlotCount];
    // Of those, the writes of pipeline groups whose commit was deferred (DeferredCommit): a later pipeline group on
    // the key reads through them instead of waiting; everyone else waits for them as for any queued write.
    private readonly int[] _deferred = new int[SlotCount];
    private readonly object _queuedSync = new();
    private int _queuedTotal;
    private int _queueWaiters;

    // Per slot, the newest deferred commit that wrote a key of it and is not yet written: set under the slot's
    // stripe by the group that queues it, cleared by the committer once it is written (only if still the newest).
    // Each commit links to the one it replaced (DeferredCommit.PreviousFor), so the slot's unwritten commits form a
    // chain, newest first, that a group taking the stripe reads through.
    private readonly DeferredCommit?[] _newest = new DeferredCommit?[SlotCount];

    // The slots the open pipeline group of this thread has taken (PipelineTransaction), or null: inside the group, a
    // command taking one of them again (Lock) does not wait for its deferred commits, which the group reads through.
    [ThreadStatic] private static List<int>? t_groupSlots;

    public KeyLocks()
    {
        _stripes = new object[StripeCount];
        for (var i = 0; i < StripeCount; i++)
        {
            _stripes[i] = new object();
        }
    }

    public static int StripeOf(int db, ReadOnlySpan<byte> key) => (int)(Hash(db, key) % StripeCount);

    /// <summary>The slot that counts queued writes of (db, key); its stripe is <c>slot % 1024</c>.</summary>
    public static int SlotOf(int db, ReadOnlySpan<byte> key) => (int)(Hash(db, key) % SlotCount);

    /// <summary>The stripe a slot belongs to.</summary>
    public static int StripeOfSlot(int slot) => slot % StripeCount;

    private static uint Hash(int db, ReadOnlySpan<byte> key)
    {
        // FNV-1a: cheap, and good enough to spread keys over stripes.
        var hash = 2166136261u ^ (uint)db;
        foreach (var b in key)
        {
            hash = (hash ^ b) * 16777619u;
        }
        return hash;
    }

    /// <summary>
    /// Locks the stripe of one key until the returned scope is disposed. A write of the key still queued for the
    /// committer is written before this returns, so what the caller reads under the stripe is the key's latest
    /// state. Inside an open pipeline group, a key the group has taken is not waited for again (the group reads
    /// through its deferred commits).
    /// </summary>
    public Scope Lock(int db, ReadOnlySpan<byte> key)
    {
        var slot = SlotOf(db, key);
        var stripe = StripeOfSlot(slot);
        Monitor.Enter(_stripes[stripe]);
        AwaitQueuedForThread(slot);
        return new Scope(this, stripe);
    }

    /// <summary>Sets the slots taken by this thread's open pipeline group, or null when it has none (see <see cref="Lock"/>).</summary>
    internal static void GroupSlots(List<int>? slots) => t_groupSlots = slots;

    private void AwaitQueuedForThread(int slot)
    {
        // A slot the thread's open group took already: it waited for the slot's queued SETs then and reads through
        // its deferred commits, and holding the stripe since, nothing new was queued. Any other slot: wait for all.
        if (t_groupSlots is { } taken && taken.Contains(slot))
        {
            return;
        }
        AwaitQueued(slot);
    }

    /// <summary>The newest deferred commit of the slot not yet written, or null (the caller holds the slot's stripe).</summary>
    internal DeferredCommit? NewestDeferred(int slot) => Volatile.Read(ref _newest[slot]);

    /// <summary>
    /// Makes <paramref name="commit"/> the newest deferred commit of the slot and returns the one it replaces (the
    /// caller holds the slot's stripe).
    /// </summary>
    internal DeferredCommit? PushDeferred(int slot, DeferredCommit commit)
    {
        var previous = Volatile.Read(ref _newest[slot]);
        Volatile.Write(ref _newest[slot], commit);
        return previous;
    }

    /// <summary>The committer, once <paramref name="commit"/> is written: the slot has no unwritten one left, unless a newer one replaced it.</summary>
    internal void PopDeferred(int slot, DeferredCommit commit) => Interlocked.CompareExchange(ref _newest[slot], null, commit);

    /// <summary>Locks the stripes of several keys in ascending stripe order.</summary>
    public MultiScope LockMany(int db, IEnumerable<byte[]> keys) => LockMany(keys.Select(k => (db, k)));

    /// <summary>Locks the stripes of keys in several databases (COPY ... DB n) in ascending stripe order.</summary>
    public MultiScope LockMany(IEnumerable<(int Db, byte[] Key)> keys)
    {
        var indices = new SortedSet<int>();
        var slots = new List<int>();
        foreach (var (db, key) in keys)
        {
            var slot = SlotOf(db, key);
            slots.Add(slot);
            indices.Add(StripeOfSlot(slot));
        }
        var taken = new int[indices.Count];
        var n = 0;
        foreach (var i in indices)
        {
            Monitor.Enter(_stripes[i]);
            taken[n++] = i;
        }
        foreach (var slot in slots)
        {
            AwaitQueuedForThread(slot);
        }
        return new MultiScope(this, taken);
    }

    /// <summary>Enters the given stripes, which must be distinct and in ascending order (a write group's keys).</summary>
    internal void EnterStripes(ReadOnlySpan<int> ascending)
    {
        foreach (var i in ascending)
        {
            Monitor.Enter(_stripes[i]);
        }
    }

    /// <summary>Enters one stripe if no other thread holds it (a pipeline group never waits while it holds stripes).</summary>
    internal bool TryEnterStripe(int stripe) => Monitor.TryEnter(_stripes[stripe]);

    /// <summary>Enters one stripe, waiting for it.</summary>
    internal void EnterStripe(int stripe) => Monitor.Enter(_stripes[stripe]);

    /// <summary>Leaves a stripe taken with <see cref="TryEnterStripe"/> or <see cref="EnterStripe"/>.</summary>
    internal void ExitStripe(int stripe)
    {
        var monitor = _stripes[stripe];
        Monitor.Exit(monitor);
        // A full fence between the release and the read of the queue: a waiter registers (writes the count)
        // and then tries the stripe, so either its attempt sees the stripe free or this read sees it queued;
        // without the fence the read could be done before the release became visible, and both would miss.
        Interlocked.MemoryBarrier();
        if (HasWaiters(stripe) && !Monitor.IsEntered(monitor))
        {
            AdmitNext(stripe);
        }
    }

    /// <summary>True when connections are queued for the stripe (<see cref="WhenAdmitted"/>).</summary>
    public bool HasWaiters(int stripe) => Volatile.Read(ref _waiting[stripe]) != 0;

    /// <summary>
    /// Queues a connection for a stripe another thread holds (or that others are queued for), without blocking
    /// its thread. The task completes when it is the connection's turn: the stripe was released with the
    /// connection first in the queue. It is then admitted: it may take the stripe ahead of the queue, and must
    /// either take it or hand the turn on (<see cref="PassOn"/>). First come, first served: one waiter is
    /// admitted per release, so a connection that waited is not overtaken by later ones again and again.
    /// <paramref name="front"/> puts back at the head a connection that was admitted but found the stripe taken
    /// by a command that does not queue. Where the completion runs: <see cref="StripeWakeups"/>.
    /// </summary>
    public Task WhenAdmitted(int stripe, bool front = false)
    {
        var waiter = new TaskCompletionSource();
        lock (_waiters)
        {
            var list = _waiters[stripe] ??= [];
            if (front)
            {
                list.Insert(0, waiter);
            }
            else
            {
                list.Add(waiter);
            }
            Volatile.Write(ref _waiting[stripe], list.Count);
        }
        // The holder may have left between the caller's failed attempt and the registration above, seeing no
        // waiter: if the stripe is free now, releasing it admits the head of the queue.
        PassOn(stripe);
        return waiter.Task;
    }

    /// <summary>
    /// Takes a waiter of <see cref="WhenAdmitted"/> out of the queue. False when it is no longer queued: its turn
    /// has come (the caller then hands it on with <see cref="PassOn"/>).
    /// </summary>
    private bool Withdraw(int stripe, Task turn)
    {
        lock (_waiters)
        {
            var list = _waiters[stripe];
            var at = list?.FindIndex(w => ReferenceEquals(w.Task, turn)) ?? -1;
            if (at < 0)
            {
                return false;
            }
            list!.RemoveAt(at);
            Volatile.Write(ref _waiting[stripe], list.Count);
            return true;
        }
    }

    /// <summary>
    /// Gives up a place taken with <see cref="WhenAdmitted"/>: out of the queue, or, when the turn has come
    /// already, the turn handed on to the next.
    /// </summary>
    public void Leave(int stripe, Task turn)
    {
        if (!Withdraw(stripe, turn))
        {
            PassOn(stripe);
        }
    }

    /// <summary>
    /// Hands the turn to the next queued connection when the stripe is free (an admitted connection that did
    /// not take it, or a registration that raced a release); when the stripe is held, its release does that.
    /// </summary>
    public void PassOn(int stripe)
    {
        if (HasWaiters(stripe) && Monitor.TryEnter(_stripes[stripe]))
        {
            ExitStripe(stripe);
        }
    }

    private void AdmitNext(int stripe)
    {
        TaskCompletionSource next;
        lock (_waiters)
        {
            var list = _waiters[stripe];
            if (list is null || list.Count == 0)
            {
                return;
            }
            next = list[0];
            list.RemoveAt(0);
            Volatile.Write(ref _waiting[stripe], list.Count);
        }
        StripeWakeups.Wake(next);
    }

    /// <summary>Leaves stripes taken with <see cref="EnterStripes"/>.</summary>
    internal void ExitStripes(ReadOnlySpan<int> ascending)
    {
        for (var i = ascending.Length - 1; i >= 0; i--)
        {
            ExitStripe(ascending[i]);
        }
    }

    /// <summary>
    /// Locks every stripe (FLUSHDB, FLUSHALL, dataset swap): nothing else writes meanwhile, and no write is left
    /// queued for the committer.
    /// </summary>
    public MultiScope LockAll()
    {
        var all = new int[StripeCount];
        for (var i = 0; i < StripeCount; i++)
        {
            Monitor.Enter(_stripes[i]);
            all[i] = i;
        }
        AwaitNoneQueued();
        return new MultiScope(this, all);
    }

    /// <summary>
    /// Waits until no write of the keys of <paramref name="slot"/> (<see cref="SlotOf"/>) is queued for the
    /// committer. The caller holds the slot's stripe, so no new one can be queued meanwhile; the committer needs no
    /// lock to finish the queued ones. Also for a pipeline group that takes a key's stripe with
    /// <see cref="TryEnterStripe"/> or <see cref="EnterStripe"/>.
    /// </summary>
    public void AwaitQueued(int slot)
    {
        if (Volatile.Read(ref _queued[slot]) != 0)
        {
            AwaitSlow(static (locks, slot) => Volatile.Read(ref locks._queued[slot]) == 0, slot);
        }
    }

    /// <summary>
    /// <see cref="AwaitQueued(int)"/> for the queued SET groups of the slot only, not for its deferred commits: for a
    /// pipeline group, which reads through those (<see cref="HasDeferred"/>). The caller holds the slot's stripe.
    /// </summary>
    internal void AwaitQueuedSets(int slot)
    {
        if (QueuedSets(slot) != 0)
        {
            AwaitSlow(static (locks, slot) => locks.QueuedSets(slot) == 0, slot);
        }
    }

    // Read under the slot's stripe, so no count of it rises meanwhile; they only fall. A deferred commit leaves the
    // deferred count before the queued one (Unqueue), so reading the queued count first never takes a deferred
    // commit's part of it for less than it is: a SET group still queued is never missed (a deferred commit that is
    // just leaving may be taken for one, and waited for).
    private int QueuedSets(int slot)
    {
        var queued = Volatile.Read(ref _queued[slot]);
        return queued - Volatile.Read(ref _deferred[slot]);
    }

    /// <summary>Whether a deferred commit of the slot's keys waits for the committer (the caller holds the slot's stripe).</summary>
    internal bool HasDeferred(int slot) => Volatile.Read(ref _deferred[slot]) != 0;

    /// <summary>Waits until no deferred commit of the slot's keys is queued (a SET group written on its own thread).</summary>
    internal void AwaitDeferred(int slot)
    {
        if (HasDeferred(slot))
        {
            AwaitSlow(static (locks, slot) => !locks.HasDeferred(slot), slot);
        }
    }

    private void AwaitNoneQueued()
    {
        if (Volatile.Read(ref _queuedTotal) != 0)
        {
            AwaitSlow(static (locks, _) => Volatile.Read(ref locks._queuedTotal) == 0, 0);
        }
    }

    /// <summary>The wait for a queued write, off the fast path (its condition takes the slot, so calls allocate nothing).</summary>
    private void AwaitSlow(Func<KeyLocks, int, bool> done, int slot)
    {
        // Registered before the check: a release that finds no waiter registered happened before the check, which
        // then sees it (both sides use full fences).
        Interlocked.Increment(ref _queueWaiters);
        try
        {
            lock (_queuedSync)
            {
                while (!done(this, slot))
                {
                    Monitor.Wait(_queuedSync, 100);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _queueWaiters);
        }
    }

    /// <summary>
    /// Counts the keys of a write group as queued (the caller holds their stripes); <paramref name="deferred"/>: a
    /// pipeline group's deferred commit.
    /// </summary>
    internal void MarkQueued(ReadOnlySpan<int> slots, bool deferred = false)
    {
        foreach (var slot in slots)
        {
            if (deferred)
            {
                Interlocked.Increment(ref _deferred[slot]);
            }
            Interlocked.Increment(ref _queued[slot]);
        }
        Interlocked.Add(ref _queuedTotal, slots.Length);
    }

    /// <summary>The keys of a write group are written (or its write failed): wakes whoever waits for them.</summary>
    internal void Unqueue(ReadOnlySpan<int> slots, bool deferred = false)
    {
        foreach (var slot in slots)
        {
            // The deferred count first, so it never exceeds the deferred commits still in the queued count (see QueuedSets).
            if (deferred)
            {
                Interlocked.Decrement(ref _deferred[slot]);
            }
            Interlocked.Decrement(ref _queued[slot]);
        }
        Interlocked.Add(ref _queuedTotal, -slots.Length);
        if (Volatile.Read(ref _queueWaiters) != 0)
        {
            lock (_queuedSync)
            {
                Monitor.PulseAll(_queuedSync);
            }
        }
    }

    public readonly struct Scope(KeyLocks locks, int stripe) : IDisposable
    {
        public void Dispose() => locks.ExitStripe(stripe);
    }

    public readonly struct MultiScope(KeyLocks locks, int[] stripes) : IDisposable
    {
        public void Dispose()
        {
            for (var i = stripes.Length - 1; i >= 0; i--)
            {
                locks.ExitStripe(stripes[i]);
            }
        }
    }
}
