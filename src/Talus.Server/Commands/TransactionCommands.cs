using Talus.Server.Transactions;
using Talus.Storage;
using Talus.Storage.Encoding;

namespace Talus.Server.Commands;

/// <summary>
/// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queuing is done by <see cref="MultiInterceptor"/>;
/// EXEC runs the queue (see <see cref="ExecRunner"/>) holding the execution gate exclusively, so no other
/// client's command runs between the queued ones, and commits their writes as one WriteBatch.
/// </summary>
public static class TransactionCommands
{
    public const string ExecAbort = "EXECABORT Transaction discarded because of previous errors.";

    /// <summary>The client's transaction state, created on first use (also reachable by RESET as an extension).</summary>
    internal static ClientTransaction TransactionOf(CommandContext ctx)
    {
        var session = ctx.Session;
        if (session.Transaction is { } existing)
        {
            return existing;
        }
        var tx = new ClientTransaction(session, ctx.Server.Watches);
        session.Transaction = tx;
        session.Extensions[typeof(ClientTransaction)] = tx;
        session.Disconnected += _ => tx.Discard();
        return tx;
    }

    private static void Multi(CommandContext ctx)
    {
        var tx = TransactionOf(ctx);
        if (tx.InMulti)
        {
            ctx.Writer.WriteError("ERR MULTI calls can not be nested");
            return;
        }
        tx.Begin();
        ctx.Writer.WriteOk();
    }

    private static void Discard(CommandContext ctx)
    {
        if (ctx.Session.Transaction is not { InMulti: true } tx)
        {
            ctx.Writer.WriteError("ERR DISCARD without MULTI");
            return;
        }
        tx.Discard();
        ctx.Writer.WriteOk();
    }

    private static void Exec(CommandContext ctx)
    {
        if (ctx.Session.Transaction is not { InMulti: true } tx)
        {
            ctx.Writer.WriteError("ERR EXEC without MULTI");
            return;
        }
        if (tx.Aborted)
        {
            tx.Discard();
            ctx.Writer.WriteError(ExecAbort);
            return;
        }
        if (tx.CasDirty || WatchedKeyExpired(ctx, tx))
        {
            tx.Discard();
            ctx.Writer.WriteNullArray();
            return;
        }
        var queue = tx.TakeQueue();
        if (ctx.Server.Replication.IsReplica && ctx.Session.Kind != Host.ClientKind.Master && queue.Any(q => q.Command.IsWrite))
        {
            // Queued before this node became a replica: Redis refuses the whole EXEC.
            ExecRunner.Dispose(queue);
            tx.UnwatchAll();
            ctx.Writer.WriteError("EXECABORT Transaction discarded because of: " + Errors.ReadOnlyReplica);
            return;
        }
        tx.UnwatchAll();
        ExecRunner.Start(ctx, queue);
    }

    /// <summary>A key that was live with a TTL at WATCH time and whose expiry has passed counts as modified (Redis 7.0).</summary>
    private static bool WatchedKeyExpired(CommandContext ctx, ClientTransaction tx)
    {
        if (!tx.IsWatching)
        {
            return false;
        }
        var now = Database.NowMs;
        foreach (var w in tx.Watched)
        {
            if (w.ExpireAtMs > 0 && w.ExpireAtMs <= now)
            {
                return true;
            }
        }
        return false;
    }

    private static void Watch(CommandContext ctx)
    {
        var tx = TransactionOf(ctx);
        if (tx.InMulti)
        {
            ctx.Writer.WriteError("ERR WATCH inside MULTI is not allowed");
            return;
        }
        var db = ctx.Db;
        for (var i = 1; i < ctx.Argc; i++)
        {
            var key = ctx.Args.ToArray(i);
            var expireAt = db.Lookup(key, RedisType.None, out var meta, out _) == KeyLookup.Found ? meta.ExpireAtMs : 0;
            ctx.Server.Watches.Watch(tx, db.Index, key, Math.Max(0, expireAt));
        }
        ctx.Writer.WriteOk();
    }

    private static void Unwatch(CommandContext ctx)
    {
        ctx.Session.Transaction?.UnwatchAll();
        ctx.Writer.WriteOk();
    }

    private const CommandFlags TxFlags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast;

    public static readonly CommandDescriptor[] Table =
    [
        new("MULTI", 1, TxFlags, 0, 0, 0, Multi, "transactions"),
        new("EXEC", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Exec, "transactions") { Exclusive = true },
        new("DISCARD", 1, TxFlags, 0, 0, 0, Discard, "transactions"),
        new("WATCH", -2, TxFlags, 1, -1, 1, Watch, "transactions"),
        new("UNWATCH", 1, TxFlags, 0, 0, 0, Unwatch, "transactions"),
    ];
}
