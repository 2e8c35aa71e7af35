using Talus.Protocol;
using Talus.Server.Commands;
using Talus.Storage;
using Talus.Storage.Engine;

namespace Talus.Server.Transactions;

/// <summary>
/// Runs the commands of one EXEC. The reply is an array with one element per queued command, so the header is
/// written first (count = queue length) and each command then writes its own reply, as Redis does.
/// <para>
/// The usual case runs in one go inside EXEC's handler, which the dispatcher calls holding the execution gate
/// exclusively (EXEC is an exclusive command): no other client's command runs between the queued ones, and
/// the commands run at depth 2, so none joins the connection's write group.
/// </para>
/// <para>
/// A queued command may be asynchronous (REPLICAOF/SLAVEOF set <see cref="CommandContext.Deferred"/>: Redis
/// Sentinel sends <c>MULTI; SLAVEOF ...; CONFIG REWRITE; CLIENT KILL TYPE normal; EXEC</c>). Its work cannot be
/// awaited while holding the gate (promotion itself takes the gate exclusively), so EXEC then becomes a deferred
/// command: the commands before it have run (and committed), the connection flushes, awaits the deferred work,
/// and the rest of the queue runs as a new exclusive segment. Such an EXEC is atomic per segment only; Redis
/// itself runs SLAVEOF inside EXEC to completion synchronously, which a Talus full sync cannot.
/// </para>
/// </summary>
internal static class ExecRunner
{
    public static void Start(CommandContext ctx, List<QueuedCommand> queue)
    {
        // EXEC's reply is held until the first segment's batch is written: when that fails, EXEC answers the
        // storage error instead of replies that promised effects which did not happen, and the connection goes on.
        var held = ctx.HeldReplies;
        held.BeginReply(ctx.Writer);
        ctx.Writer.WriteArrayHeader(queue.Count);
        int next;
        Func<Task>? deferred;
        try
        {
            (next, deferred) = RunSegment(ctx, queue, 0, replyHeld: true);
        }
        catch (Exception ex) when (CommandContext.IsStorageFailure(ex))
        {
            held.EndReply();
            ctx.FailHeldReplies(ex, $"EXEC of {queue.Count} commands");
            Dispose(queue);
            return;
        }
        finally
        {
            held.EndReply();
            held.Release(ctx.Writer);
        }
        if (deferred is not null)
        {
            ctx.Deferred = () => ContinueAsync(ctx, queue, next, deferred);
        }
    }

    /// <summary>
    /// Runs queued commands from <paramref name="first"/> until the end or until one defers work; returns where
    /// to resume and that work. The caller holds the execution gate exclusively.
    /// </summary>
    private static (int Next, Func<Task>? Deferred) RunSegment(CommandContext ctx, List<QueuedCommand> queue, int first, bool replyHeld = false)
    {
        var dispatcher = ctx.Server.Dispatcher ?? throw new InvalidOperationException("no dispatcher");
        var session = ctx.Session;
        var savedArgs = ctx.Args;
        var savedCommand = ctx.Command;
        var denied = session.DenyBlocking;
        session.DenyBlocking = true;
        var dataset = ctx.Server.Dataset;
        using var transaction = dataset.Engine.BeginTransaction();
        try
        {
            for (var i = first; i < queue.Count; i++)
            {
                ctx.Args = queue[i].Args;
                dispatcher.Run(ctx, queue[i].Command);
                if (ctx.Pending is not null)
                {
                    // Blocking commands answer at once under DenyBlocking; a command that still parked would
                    // hold the connection with the gate released in the middle of EXEC.
                    throw new InvalidOperationException($"{queue[i].Command.Name} blocked inside EXEC");
                }
                if (ctx.Deferred is { } deferred)
                {
                    ctx.Deferred = null;
                    Commit(ctx, dataset, transaction, replyHeld);
                    return (i + 1, deferred);
                }
            }
            Commit(ctx, dataset, transaction, replyHeld);
            Dispose(queue);
            return (queue.Count, null);
        }
        finally
        {
            session.DenyBlocking = denied;
            ctx.Args = savedArgs;
            ctx.Command = savedCommand;
            session.LastCommand = "exec";
        }
    }

    /// <summary>
    /// Writes the segment's effects as one batch. Under every key stripe: a writer outside the gate (active
    /// expiry re-reads a key under its stripe, then deletes it) must not interleave with the commit.
    /// </summary>
    private static void Commit(CommandContext ctx, Dataset dataset, EngineTransaction transaction, bool replyHeld)
    {
        try
        {
            using (dataset.Locks.LockAll())
            {
                transaction.Commit();
            }
        }
        catch (Exception ex) when (CommandContext.IsStorageFailure(ex))
        {
            // Unless EXEC's reply is still held (Start answers the error), the replies already written promise
            // effects that did not happen: the connection closes without sending them.
            if (!replyHeld)
            {
                ctx.FailStorage(ex);
            }
            throw;
        }
        catch
        {
            ctx.Session.CloseRequested = true;
            throw;
        }
    }

    private static async Task ContinueAsync(CommandContext ctx, List<QueuedCommand> queue, int next, Func<Task> deferred)
    {
        try
        {
            while (true)
            {
                await deferred().ConfigureAwait(false);
                var gate = ctx.Server.ExecutionGate;
                ctx.Server.EnterExclusive();
                // Depth 1 stands for EXEC itself, so the commands run at depth 2 and never join the write group.
                ctx.Depth++;
                Func<Task>? more;
                try
                {
                    (next, more) = RunSegment(ctx, queue, next);
                }
                finally
                {
                    ctx.Depth--;
                    gate.ExitWriteLock();
                }
                if (more is null)
                {
                    return;
                }
                deferred = more;
            }
        }
        finally
        {
            Dispose(queue);
        }
    }

    public static void Dispose(List<QueuedCommand> queue)
    {
        foreach (var queued in queue)
        {
            queued.Args.Dispose();
        }
        queue.Clear();
    }
}
