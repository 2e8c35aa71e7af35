using Talus.Server.PubSub;

namespace Talus.Server.Commands;

/// <summary>MONITOR: streams every command the server runs to this client (see <see cref="MonitorFeed"/>).</summary>
public static class MonitorCommands
{
    private static void Monitor(CommandContext ctx)
    {
        var session = ctx.Session;
        if (session.DenyBlocking)
        {
            ctx.Writer.WriteError("ERR MONITOR isn't allowed for DENY BLOCKING client");
            return;
        }
        if (session.Monitoring)
        {
            return; // Redis ignores a second MONITOR, without a reply
        }
        session.Extension<MonitorState>();
        var outbox = session.Outbox ??= new Host.ClientOutbox(session, ctx.Server.OutputGuard);
        session.Monitoring = true;
        ctx.Server.Monitors.Add(outbox);
        session.Disconnected += s => ctx.Server.Monitors.Remove(outbox);
        ctx.Writer.WriteOk();
    }

    public static readonly CommandDescriptor[] Table =
    [
        new("MONITOR", 1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Monitor, "server"),
    ];
}
