using RocksDbSharp;
using Talus.Server.Commands;

namespace Talus.Server.Blocking;

/// <summary>
/// One try of a blocked client's own operation (a pop, a move). Runs under the key locks it takes itself and
/// returns true when it wrote the client's reply: it was served, or hit an error that ends the wait (BLMOVE to a
/// key of the wrong type). False means there was nothing to take: keep waiting.
/// </summary>
public delegate bool BlockedAttempt();

/// <summary>
/// Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, BZPOPMAX ...), as a FIFO of waiters per (db, key).
/// <para>
/// A write that may have made a key servable calls <see cref="Signal"/>; that wakes the first waiter on the key
/// (Redis serves the longest-waiting client first). The woken waiter re-runs its own operation under the key
/// locks and writes its reply on its own connection, in the continuation that connection awaits
/// (<see cref="CommandContext.Pending"/>); if another client got there first it waits again until its deadline.
/// A waiter that leaves for any reason passes the signal on to the next waiter of its keys, so one push of
/// several elements serves several clients in order and a signal is never lost with a departing client.
/// </para>
/// <para>
/// The reply is written only once the connection has parked on the pending task
/// (<see cref="Host.ClientSession.Blocked"/>), never while it is still flushing what came before.
/// </para>
/// <para>
/// No wake-up can be missed: a client registers before its last try, so a push either happens before that try
/// (which sees it) or signals the registered waiter.
/// </para>
/// </summary>
public sealed class BlockingKeys
{
    /// <summary>How often a waiter checks that its client is still connected (nothing reads the socket meanwhile).</summary>
    private const int PeerCheckMs = 1000;

    private readonly object _gate = new();
    private readonly Dictionary<WaitKey, LinkedList<Waiter>> _queues = [];
    private int _count;

    /// <summary>Number of blocked clients.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Tells the first client blocked on (db, key) to retry. Cheap when nobody is blocked.</summary>
    public void Signal(int db, ReadOnlySpan<byte> key)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }
        var waitKey = new WaitKey(db, key.ToArray());
        lock (_gate)
        {
            if (_queues.TryGetValue(waitKey, out var queue))
            {
                queue.First!.Value.Wake();
            }
        }
    }

    /// <summary>
    /// Blocks the client of <paramref name="ctx"/> on <paramref name="keys"/> (in its selected database) until
    /// <paramref name="attempt"/> succeeds, <paramref name="timeoutMs"/> passes (0 = forever; then
    /// <paramref name="onTimeout"/> writes the reply) or the client goes away. Tries once more right after
    /// registering; returns null when that try answered, otherwise the task to set as <see cref="CommandContext.Pending"/>.
    /// A client that may not block (inside EXEC) gets the timeout reply at once.
    /// </summary>
    public Task? Block(CommandContext ctx, IReadOnlyList<byte[]> keys, long timeoutMs, BlockedAttempt attempt, Action onTimeout)
    {
        if (ctx.Session.DenyBlocking)
        {
            onTimeout();
            return null;
        }
        // Timeouts beyond any real wait (Redis accepts up to ~292 million years) are treated as forever.
        var deadline = timeoutMs <= 0 || timeoutMs > long.MaxValue / 4 ? 0 : Environment.TickCount64 + timeoutMs;
        var waiter = new Waiter(ctx, deadline, attempt, onTimeout);
        Register(waiter, ctx.Session.DbIndex, keys);
        bool served;
        try
        {
            served = attempt();
        }
        catch
        {
            Leave(waiter);
            throw;
        }
        if (served)
        {
            Leave(waiter);
            return null;
        }
        return WaitAsync(waiter);
    }

    private async Task WaitAsync(Waiter waiter)
    {
        var session = waiter.Context.Session;
        try
        {
            while (true)
            {
                var slice = PeerCheckMs;
                if (waiter.Deadline != 0)
                {
                    var remaining = waiter.Deadline - Environment.TickCount64;
                    if (remaining <= 0)
                    {
                        if (await ParkedAsync(session).ConfigureAwait(false))
                        {
                            waiter.OnTimeout();
                        }
                        return;
                    }
                    slice = (int)Math.Min(remaining, PeerCheckMs);
                }
                bool signaled;
                try
                {
                    signaled = await waiter.Signal.WaitAsync(slice, session.Closing).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (session.CloseRequested)
                {
                    return;
                }
                if (session.PeerGone)
                {
                    // Taking an element for a client that is gone would lose it: close instead, as Redis does.
                    session.Kill();
                    return;
                }
                if (signaled)
                {
                    if (!await ParkedAsync(session).ConfigureAwait(false))
                    {
                        return;
                    }
                    // Reset before trying: a signal that arrives during the try makes the next wait return at once.
                    waiter.ClearWake();
                    if (TryServe(waiter))
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            Leave(waiter);
        }
    }

    /// <summary>
    /// Waits until the client's connection has flushed and parked on the pending task (it sets
    /// <see cref="Host.ClientSession.Blocked"/>): only then may this task write the reply without racing the
    /// connection's own writes. Usually already true; a wake-up right after blocking waits a moment. False when
    /// the client is closing.
    /// </summary>
    private static async ValueTask<bool> ParkedAsync(Host.ClientSession session)
    {
        var delay = 1;
        while (!session.Blocked)
        {
            if (session.CloseRequested)
            {
                return false;
            }
            await Task.Delay(delay).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 20);
        }
        return !session.CloseRequested;
    }

    private static bool TryServe(Waiter waiter)
    {
        var ctx = waiter.Context;
        var gate = ctx.Server.ExecutionGate;
        gate.EnterReadLock();
        try
        {
            return waiter.Attempt();
        }
        catch (Exception ex) when (ex is RocksDbException or IOException or ObjectDisposedException)
        {
            ctx.Writer.WriteError("ERR storage error: " + ex.Message);
            return true;
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    private void Register(Waiter waiter, int db, IReadOnlyList<byte[]> keys)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                var waitKey = new WaitKey(db, key);
                if (waiter.Keys.Contains(waitKey))
                {
                    continue; // BLPOP k k 0 waits once on k
                }
                if (!_queues.TryGetValue(waitKey, out var queue))
                {
                    queue = new LinkedList<Waiter>();
                    _queues[waitKey] = queue;
                }
                waiter.Keys.Add(waitKey);
                waiter.Nodes.Add(queue.AddLast(waiter));
            }
            _count++;
        }
    }

    /// <summary>Removes the waiter from every queue, then passes a signal on to the next waiter of each of its keys.</summary>
    private void Leave(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Left)
            {
                return;
            }
            waiter.Left = true;
            for (var i = 0; i < waiter.Nodes.Count; i++)
            {
                var node = waiter.Nodes[i];
                var queue = node.List!;
                queue.Remove(node);
                if (queue.Count == 0)
                {
                    _queues.Remove(waiter.Keys[i]);
                }
                else
                {
                    queue.First!.Value.Wake();
                }
            }
            _count--;
        }
    }

    /// <summary>One blocked client.</summary>
    private sealed class Waiter(CommandContext context, long deadline, BlockedAttempt attempt, Action onTimeout)
    {
        private int _woken;

        public CommandContext Context { get; } = context;

        /// <summary>Environment.TickCount64 at which to give up; 0 = never.</summary>
        public long Deadline { get; } = deadline;

        public BlockedAttempt Attempt { get; } = attempt;

        public Action OnTimeout { get; } = onTimeout;

        public SemaphoreSlim Signal { get; } = new(0);

        public List<WaitKey> Keys { get; } = [];

        public List<LinkedListNode<Waiter>> Nodes { get; } = [];

        /// <summary>Set (under the registry lock) once removed from the queues.</summary>
        public bool Left { get; set; }

        /// <summary>Makes the next wait return; signals coalesce until <see cref="ClearWake"/>.</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _woken, 1) == 0)
            {
                Signal.Release();
            }
        }

        public void ClearWake() => Volatile.Write(ref _woken, 0);
    }
}
