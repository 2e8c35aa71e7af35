namespace Talus.Server.Commands;

/// <summary>
/// MEMORY USAGE, for redis-cli --memkeys and the tools that size keys with it: the bytes a key and its value
/// take in storage before compression, nested values estimated from SAMPLES entries (default 5, 0 = all), as
/// Redis estimates them. Talus keeps data on disk, so this is not RAM; INFO memory reports that.
/// </summary>
public static class MemoryCommands
{
    private static void Usage(CommandContext ctx)
    {
        long samples = 5;
        for (var j = 3; j < ctx.Args.Count; j++)
        {
            if (ctx.Args.Is(j, "SAMPLES") && j + 1 < ctx.Args.Count)
            {
                if (!ctx.TryGetLong(j + 1, out samples))
                {
                    return;
                }
                if (samples < 0)
                {
                    ctx.SyntaxError();
                    return;
                }
                j++;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (ctx.Db.Keys.Usage(ctx.Args[2], samples) is { } bytes)
        {
            ctx.Writer.WriteInteger(bytes);
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    private static void Help(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).");

    public static readonly CommandDescriptor[] Table =
    [
        new("MEMORY", -2, CommandFlags.None, 0, 0, 0, ContainerCommand.Dispatch, "server")
        {
            Subcommands =
            [
                new("MEMORY|USAGE", -3, CommandFlags.ReadOnly, 2, 2, 1, Usage, "server"),
                new("MEMORY|HELP", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Help, "server"),
            ],
        },
    ];
}
