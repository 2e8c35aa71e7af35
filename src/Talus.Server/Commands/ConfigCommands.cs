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

    /// <summary>
    /// CONFIG GET: every name (aliases included) matching any of the glob patterns; a pattern without glob
    /// characters is looked up directly and answered under the name as the client spelled it, as Redis does.
    /// </summary>
    private static void Get(CommandContext ctx)
    {
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i < ctx.Argc; i++)
        {
            var pattern = ctx.Args[i];
            if (pattern.IndexOfAny("[*?"u8) < 0)
            {
                if (ConfigRegistry.TryFind(ctx.Args.GetString(i), out var exact))
                {
                    found.TryAdd(ctx.Args.GetString(i), exact.Get(ctx.Server.Options));
                }
                continue;
            }
            foreach (var (name, entry) in ConfigRegistry.AllNames())
            {
                if (Glob.Match(pattern, System.Text.Encoding.ASCII.GetBytes(name), ignoreCase: true))
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

    /// <summary>
    /// CONFIG SET: all or nothing. Every name is checked (known, mutable, not given twice) and every value
    /// validated on a scratch copy before any setting changes; errors name the argument as the client gave it.
    /// </summary>
    private static void Set(CommandContext ctx)
    {
        if (ctx.Argc % 2 != 0)
        {
            ctx.SyntaxError();
            return;
        }
        var options = ctx.Server.Options;
        var changes = new List<(ConfigEntry Entry, string Given, string[] Value)>();
        string Fail(string given, string reason) => $"ERR CONFIG SET failed (possibly related to argument '{given}') - {reason}";
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
                ctx.Writer.WriteError(Fail(name, "can't set immutable config"));
                return;
            }
            if (changes.Any(c => c.Entry == entry))
            {
                ctx.Writer.WriteError(Fail(name, "duplicate parameter"));
                return;
            }
            changes.Add((entry, name, [ctx.Args.GetString(i + 1)]));
        }
        var scratch = new ServerOptions();
        foreach (var (entry, given, value) in changes)
        {
            entry.Set(scratch, [entry.Get(options)]);
            if (entry.Set(scratch, value) is { } error)
            {
                ctx.Writer.WriteError(Fail(given, error));
                return;
            }
        }
        foreach (var (entry, _, value) in changes)
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
