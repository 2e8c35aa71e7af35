using Talus.Server.Config;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>CONFIG GET/SET/REWRITE/RESETSTAT over the table in Config/ConfigRegistry.cs.</summary>
public static class ConfigCommands
{
    private static void Help(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.");

    private static void Get(CommandContext ctx)
    {
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i < ctx.Argc; i++)
        {
            var pattern = ctx.Args[i];
            foreach (var (name, entry) in ConfigRegistry.AllNames())
            {
                var nameBytes = System.Text.Encoding.ASCII.GetBytes(name);
                if (Glob.Match(pattern, nameBytes, ignoreCase: true))
                {
                    found[name] = entry.Get(ctx.Server.Options);
                }
            }
        }
        ctx.Writer.WriteMapHeader(found.Count);
        foreach (var (name, value) in found)
        {
            ctx.Writer.WriteBulk(name);
            ctx.Writer.WriteBulk(value);
        }
    }

    private static void Set(CommandContext ctx)
    {
        if (ctx.Argc % 2 != 0)
        {
            ctx.SyntaxError();
            return;
        }
        var options = ctx.Server.Options;
        var changes = new List<(ConfigEntry Entry, string[] Value)>();
        for (var i = 2; i < ctx.Argc; i += 2)
        {
            var name = ctx.Args.GetString(i);
            if (!ConfigRegistry.TryFind(name, out var entry))
            {
                ctx.Writer.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{name}'");
                return;
            }
            if (!entry.Mutable)
            {
                ctx.Writer.WriteError($"ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config");
                return;
            }
            changes.Add((entry, [ctx.Args.GetString(i + 1)]));
        }
        // Validate all on a scratch copy first, so a bad value leaves every setting unchanged (Redis is atomic too).
        var scratch = new ServerOptions();
        foreach (var (entry, value) in changes)
        {
            entry.Set(scratch, [entry.Get(options)]);
            var error = entry.Set(scratch, value);
            if (error is not null)
            {
                ctx.Writer.WriteError($"ERR CONFIG SET failed (possibly related to argument '{entry.Name}') - {error}");
                return;
            }
        }
        foreach (var (entry, value) in changes)
        {
            entry.Set(options, value);
            options.OnChanged(entry.Name);
        }
        ctx.Writer.WriteOk();
    }

    private static void Rewrite(CommandContext ctx)
    {
        if (ctx.Server.Options.ConfigFile is null)
        {
            ctx.Writer.WriteError("ERR The server is running without a config file");
            return;
        }
        try
        {
            ConfigFile.Rewrite(ctx.Server.Options);
            ctx.Writer.WriteOk();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Writer.WriteError($"ERR Rewriting config file: {ex.Message}");
        }
    }

    private static void ResetStat(CommandContext ctx)
    {
        var stats = ctx.Server.Stats;
        Interlocked.Exchange(ref stats.CommandsProcessed, 0);
        Interlocked.Exchange(ref stats.ConnectionsReceived, 0);
        Interlocked.Exchange(ref stats.RejectedConnections, 0);
        Interlocked.Exchange(ref stats.KeyspaceHits, 0);
        Interlocked.Exchange(ref stats.KeyspaceMisses, 0);
        Interlocked.Exchange(ref stats.NetInputBytes, 0);
        Interlocked.Exchange(ref stats.NetOutputBytes, 0);
        Interlocked.Exchange(ref stats.ErrorReplies, 0);
        ctx.Server.SlowLog.Reset();
        ctx.Writer.WriteOk();
    }

    private const CommandFlags ConfigFlags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    public static readonly CommandDescriptor[] Table =
    [
        new("CONFIG", -2, CommandFlags.None, 0, 0, 0, ContainerCommand.Dispatch, "server")
        {
            Subcommands =
            [
                new("CONFIG|GET", -3, ConfigFlags, 0, 0, 0, Get, "server"),
                new("CONFIG|SET", -4, ConfigFlags, 0, 0, 0, Set, "server"),
                new("CONFIG|REWRITE", 2, ConfigFlags, 0, 0, 0, Rewrite, "server"),
                new("CONFIG|RESETSTAT", 2, ConfigFlags, 0, 0, 0, ResetStat, "server"),
                new("CONFIG|HELP", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Help, "server"),
            ],
        },
    ];
}
