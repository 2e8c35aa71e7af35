namespace Talus.Server.Commands;

/// <summary>
/// The handler of a container command (CLIENT, CONFIG, COMMAND): finds the subcommand named by the first
/// argument, checks its own arity and runs it, with Redis' errors for an unknown subcommand and for a wrong
/// number of arguments ("config|get"). The subcommand becomes the context's command and the client's last
/// command (CLIENT LIST cmd=client|list).
/// </summary>
public static class ContainerCommand
{
    public static void Dispatch(CommandContext ctx)
    {
        var container = ctx.Command;
        var sub = container.FindSubcommand(ctx.Args[1]);
        if (sub is null)
        {
            var name = ctx.Args.GetString(1);
            ctx.Writer.WriteError($"ERR unknown subcommand '{(name.Length > 128 ? name[..128] : name)}'. Try {container.Name} HELP.");
            return;
        }
        ctx.Command = sub;
        if (!sub.ArityMatches(ctx.Argc))
        {
            ctx.WrongArity(sub.FullName);
            return;
        }
        ctx.Session.LastCommand = sub.FullName;
        sub.Handler(ctx);
    }

    /// <summary>Writes a HELP reply: the header line, the given lines, then Redis' closing "HELP" entry.</summary>
    public static void WriteHelp(CommandContext ctx, params string[] lines)
    {
        var w = ctx.Writer;
        w.WriteArrayHeader(lines.Length + 3);
        w.WriteSimpleString($"{ctx.Command.Name.Split('|')[0]} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var line in lines)
        {
            w.WriteSimpleString(line);
        }
        w.WriteSimpleString("HELP");
        w.WriteSimpleString("    Prints this help.");
    }
}
