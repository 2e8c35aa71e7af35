namespace Talus.Storage.Engine;

/// <summary>
/// Where a connection whose turn at a key stripe came (<see cref="KeyLocks.WhenAdmitted"/>) continues.
/// <para>
/// When many connections write one hot key, the thread that releases its stripe is the one with the key's data
/// in its cache. So a release on a thread that is running client work inside a <see cref="Collect"/> scope (a
/// connection's read loop) queues the admitted connection on that thread, and when the outermost scope ends,
/// the thread resumes it itself: its continuation runs inline, runs its commands, releases the stripe (which
/// admits the next connection in the queue, again onto this thread) and goes back to waiting for input. The
/// other threads are not blocked meanwhile: they read their sockets and queue more connections. This is what a
/// single-threaded server does with a hot key, without giving up the other cores for everything else.
/// </para>
/// <para>
/// A connection resumed this way runs only its commands on the releasing thread: its replies' send and its next
/// socket read continue on the thread pool (<see cref="ResumingInline"/>), so the next connection in the queue
/// runs at once while the send goes on beside it (docs/benchmarks.md: one-key LPUSH, LPOP, SADD, HSET and
/// ZADD all gained throughput and lost 99th percentile latency).
/// </para>
/// A thread resumes at most <see cref="MaxInline"/> connections per scope, so its own sockets are not starved
/// for long; then the chain continues on the thread pool, as it does after a release anywhere else (a
/// thread-pool job, replication, expiry). Measured on two cores with redis-benchmark's one-key LPUSH, HSET and
/// SADD: a longer chain raised the 99th percentile latency (64 in a row: 1.3 to 2.4 times blocking's), 8 kept
/// it below blocking's (docs/benchmarks.md).
/// </summary>
public static class StripeWakeups
{
    /// <summary>The most connections one thread resumes inline at the end of one scope.</summary>
    public const int MaxInline = 8;

    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static bool t_running;
    [ThreadStatic] private static Queue<TaskCompletionSource>? t_ready;

    /// <summary>
    /// True while this thread runs a connection it resumed (the connection's continuation runs inside
    /// <see cref="Scope.Dispose"/> of another connection's scope). The connection then leaves the rest of its
    /// round (sending its replies, reading its socket) to the thread pool, so this thread goes on to the next.
    /// </summary>
    public static bool ResumingInline => t_running;

    /// <summary>
    /// Opens a scope on this thread in which released stripes queue their waiters here; disposing the outermost
    /// scope resumes them. The caller must hold no stripe, gate or storage transaction when it disposes it.
    /// </summary>
    public static Scope Collect()
    {
        t_depth++;
        return default;
    }

    internal static void Wake(TaskCompletionSource waiter)
    {
        if (t_depth > 0)
        {
            (t_ready ??= new Queue<TaskCompletionSource>()).Enqueue(waiter);
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static w => w.TrySetResult(), waiter, preferLocal: false);
    }

    private static void Leave()
    {
        if (--t_depth > 0 || t_running || t_ready is not { Count: > 0 } ready)
        {
            return;
        }
        t_running = true;
        try
        {
            for (var resumed = 0; ready.TryDequeue(out var waiter); resumed++)
            {
                if (resumed >= MaxInline)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static w => w.TrySetResult(), waiter, preferLocal: false);
                    continue;
                }
                // Runs the waiting connection's loop here, up to its next wait for input.
                waiter.TrySetResult();
            }
        }
        finally
        {
            t_running = false;
        }
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => Leave();
    }
}
