using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Talus.Server.Commands;

/// <summary>Server commands: INFO (ServerCommands.Info.cs), COMMAND (ServerCommands.Command.cs), TIME, LASTSAVE, BGSAVE, SHUTDOWN, SLOWLOG.</summary>
public static partial class ServerCommands
{
    private static void Time(CommandContext ctx)
    {
        var now = DateTimeOffset.UtcNow;
        var micros = now.ToUnixTimeMilliseconds() * 1000 + (now.Ticks / 10 % 1000);
        ctx.Writer.WriteArrayHeader(2);
        ctx.Writer.WriteBulk((micros / 1_000_000).ToString(CultureInfo.InvariantCulture));
        ctx.Writer.WriteBulk((micros % 1_000_000).ToString(CultureInfo.InvariantCulture));
    }

    private static void LastSave(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Server.LastSaveUnix);

    /// <summary>
    /// BGSAVE: a RocksDB checkpoint (hard links, near-instant) into a new directory of its own under
    /// dir/backup/, named by time and a sequence so it is never reused or overwritten.
    /// </summary>
    private static void BgSave(CommandContext ctx)
    {
        if (ctx.Argc > 2 || (ctx.Argc == 2 && !ctx.Args.Is(1, "SCHEDULE")))
        {
            ctx.SyntaxError();
            return;
        }
        var root = Path.Combine(ctx.Server.Options.Dir, "backup");
        Directory.CreateDirectory(root);
        var name = $"{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Interlocked.Increment(ref _backupSequence)}";
        var target = Path.Combine(root, name);
        var logger = ctx.Server.LoggerFactory.CreateLogger("Talus.Persistence");
        try
        {
            ctx.Server.Dataset.Engine.Checkpoint(target);
            ctx.Server.LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            ctx.Server.LastBgsaveStatus = "ok";
            logger.LogInformation("BGSAVE wrote checkpoint {Path}", target);
            ctx.Writer.WriteSimpleString("Background saving started");
        }
        catch (Exception ex) when (ex is RocksDbSharp.RocksDbException or IOException)
        {
            ctx.Server.LastBgsaveStatus = "err";
            logger.LogError(ex, "BGSAVE failed");
            ctx.Writer.WriteError("ERR Background save failed: " + ex.Message);
        }
    }

    private static long _backupSequence;

    /// <summary>
    /// COMPACT (as in Pika and Kvrocks): a full compaction of the dataset in the background, which reclaims
    /// the space of deleted collections and expired keys now rather than when RocksDB gets to them. Progress
    /// is in INFO persistence (talus_compaction_*) and the log.
    /// </summary>
    private static void Compact(CommandContext ctx)
    {
        var started = ctx.Server.Dataset.Engine.Compaction.TryStart();
        ctx.Writer.WriteSimpleString(started ? "Background compaction started" : "Background compaction already in progress");
    }

    private static void Shutdown(CommandContext ctx)
    {
        var now = false;
        for (var i = 1; i < ctx.Argc; i++)
        {
            if (ctx.Args.Is(i, "NOW") || ctx.Args.Is(i, "FORCE"))
            {
                now = true;
            }
            else if (!(ctx.Args.Is(i, "NOSAVE") || ctx.Args.Is(i, "SAVE")))
            {
                ctx.SyntaxError();
                return;
            }
        }
        ctx.Server.RequestShutdown?.Invoke(now);
        ctx.Session.CloseRequested = true;
    }

    private static void SlowLogGet(CommandContext ctx)
    {
        if (ctx.Argc > 3)
        {
            ctx.Writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{ctx.Args.GetString(1)}'. Try SLOWLOG HELP.");
            return;
        }
        var count = 10L;
        if (ctx.Argc == 3 && (!ctx.Args.TryGetLong(2, out count) || count < -1))
        {
            ctx.Writer.WriteError("ERR count should be greater than or equal to -1");
            return;
        }
        var entries = ctx.Server.SlowLog.Get((int)Math.Min(count, int.MaxValue));
        ctx.Writer.WriteArrayHeader(entries.Count);
        foreach (var e in entries)
        {
            ctx.Writer.WriteArrayHeader(6);
            ctx.Writer.WriteInteger(e.Id);
            ctx.Writer.WriteInteger(e.UnixSeconds);
            ctx.Writer.WriteInteger(e.DurationMicros);
            ctx.Writer.WriteArrayHeader(e.Args.Length);
            foreach (var a in e.Args)
            {
                ctx.Writer.WriteBulk(a);
            }
            ctx.Writer.WriteBulk(e.ClientAddress);
            ctx.Writer.WriteBulk(e.ClientName);
        }
    }

    private static void SlowLogLen(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Server.SlowLog.Length);

    private static void SlowLogReset(CommandContext ctx)
    {
        ctx.Server.SlowLog.Reset();
        ctx.Writer.WriteOk();
    }

    private static void SlowLogHelp(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.");

    private const CommandFlags AdminFlags = CommandFlags.Admin | CommandFlags.NoScript;
    // Redis 7 flags SLOWLOG's subcommands admin, loading and stale, not noscript.
    private const CommandFlags SlowLogFlags = CommandFlags.Admin | CommandFlags.Loading | CommandFlags.Stale;

    public static readonly CommandDescriptor[] Table =
    [
        new("INFO", -1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Info, "server"),
        new("TIME", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Time, "server"),
        new("LASTSAVE", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, LastSave, "server"),
        new("BGSAVE", -1, AdminFlags, 0, 0, 0, BgSave, "server"),
        new("COMPACT", 1, AdminFlags, 0, 0, 0, Compact, "server"),
        new("SHUTDOWN", -1, AdminFlags | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoMulti, 0, 0, 0, Shutdown, "server"),
        new("SLOWLOG", -2, CommandFlags.None, 0, 0, 0, ContainerCommand.Dispatch, "server")
        {
            Subcommands =
            [
                new("SLOWLOG|GET", -2, SlowLogFlags, 0, 0, 0, SlowLogGet, "server"),
                new("SLOWLOG|LEN", 2, SlowLogFlags, 0, 0, 0, SlowLogLen, "server"),
                new("SLOWLOG|RESET", 2, SlowLogFlags, 0, 0, 0, SlowLogReset, "server"),
                new("SLOWLOG|HELP", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, SlowLogHelp, "server"),
            ],
        },
        new("COMMAND", -1, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Command, "server") { Subcommands = CommandSubcommands() },
    ];
}
