using Talus.Protocol;
using Talus.Server.Commands;
using Talus.Server.Dispatch;
using Talus.Server.Host;

namespace Talus.Server.PubSub;

/// <summary>
/// The dispatcher gate for clients in a special output mode, as Redis' processCommand has it:
/// a RESP2 client with subscriptions may only run (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING (which then answers
/// ["pong", message]), QUIT and RESET; RESP3 clients are not restricted. A MONITOR client (a replica in
/// Redis' eyes) may not run commands that touch the keyspace.
/// </summary>
public sealed class SubscribeModeGate : ICommandInterceptor
{
    private static readonly HashSet<string> AllowedWhileSubscribed = new(StringComparer.Ordinal)
    {
        "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "ping", "quit", "reset",
    };

    public bool TryIntercept(CommandContext ctx, CommandDescriptor command)
    {
        var session = ctx.Session;
        if (session.Kind == ClientKind.PubSub && session.Protocol == RespVersion.Resp2)
        {
            return Subscribed(ctx, command);
        }
        if (session.Monitoring && (command.Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) != 0
            || session.Monitoring && command.Name is "PUBLISH" or "SPUBLISH")
        {
            ctx.Writer.WriteError("ERR Replica can't interact with the keyspace");
            Interlocked.Increment(ref ctx.Server.Stats.ErrorReplies);
            return true;
        }
        return false;
    }

    private static bool Subscribed(CommandContext ctx, CommandDescriptor command)
    {
        if (AllowedWhileSubscribed.Contains(command.FullName))
        {
            return false;
        }
        var name = command.FullName;
        if (command.Subcommands.Count > 0 && ctx.Argc > 1 && command.FindSubcommand(ctx.Args[1]) is { } sub)
        {
            name = sub.FullName;
        }
        ctx.Writer.WriteError($"ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
        Interlocked.Increment(ref ctx.Server.Stats.ErrorReplies);
        return true;
    }
}
