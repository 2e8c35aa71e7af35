using Talus.Server.Commands;
using Talus.Server.Dispatch;
using Talus.Server.Host;

namespace Talus.Server.Transactions;

/// <summary>
/// Queues commands while the client is in MULTI: each gets +QUEUED, except the transaction's own controls
/// (EXEC, DISCARD, MULTI, WATCH) and QUIT and RESET, which run at once, as in Redis. The checks Redis makes
/// before queuing (command allowed in a transaction, subcommand exists with the right arity, read-only replica)
/// happen here; a refusal replies with the error now and dooms the transaction (EXECABORT at EXEC).
/// </summary>
public sealed class MultiInterceptor : ICommandInterceptor
{
    public bool TryIntercept(CommandContext ctx, CommandDescriptor command)
    {
        var tx = ctx.Session.Transaction;
        if (tx is null || !tx.InMulti || RunsInsideMulti(command))
        {
            return false;
        }
        var checkedCommand = command;
        if (command.Subcommands.Count > 0)
        {
            var sub = command.FindSubcommand(ctx.Args[1]);
            if (sub is null)
            {
                var name = ctx.Args.GetString(1);
                Refuse(ctx, tx, $"ERR unknown subcommand '{(name.Length > 128 ? name[..128] : name)}'. Try {command.Name} HELP.");
                return true;
            }
            if (!sub.ArityMatches(ctx.Argc))
            {
                Refuse(ctx, tx, $"ERR wrong number of arguments for '{sub.FullName}' command");
                return true;
            }
            checkedCommand = sub;
        }
        if ((checkedCommand.Flags & CommandFlags.NoMulti) != 0)
        {
            Refuse(ctx, tx, "ERR Command not allowed inside a transaction");
            return true;
        }
        if (checkedCommand.IsWrite && ctx.Server.Replication.IsReplica && ctx.Session.Kind != ClientKind.Master)
        {
            Refuse(ctx, tx, Errors.ReadOnlyReplica);
            return true;
        }
        tx.Enqueue(command, ctx.Args);
        ctx.Writer.WriteSimpleString("QUEUED"u8);
        return true;
    }

    private static bool RunsInsideMulti(CommandDescriptor command) =>
        command.Name is "EXEC" or "DISCARD" or "MULTI" or "WATCH" or "QUIT" or "RESET";

    private static void Refuse(CommandContext ctx, ClientTransaction tx, string error)
    {
        tx.FlagError();
        ctx.Writer.WriteError(error);
        Interlocked.Increment(ref ctx.Server.Stats.ErrorReplies);
    }
}
