using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>PFADD, PFCOUNT, PFMERGE (Redis 7.0). Storage: Storage/Types/RedisHyperLogLog.cs.</summary>
public static class HyperLogLogCommands
{
    private const string NotHyperLogLog = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    private const string Corrupted = "INVALIDOBJ Corrupted HLL object detected";

    private static void PfAdd(CommandContext ctx)
    {
        var elements = new List<byte[]>(ctx.Argc - 2);
        for (var i = 2; i < ctx.Argc; i++)
        {
            elements.Add(ctx.Args.ToArray(i));
        }
        var status = ctx.Db.HyperLogLogs.Add(ctx.Args[1], elements, out var changed);
        if (WriteError(ctx, status))
        {
            return;
        }
        ctx.Writer.WriteInteger(changed ? 1 : 0);
    }

    private static void PfCount(CommandContext ctx)
    {
        var keys = new List<byte[]>(ctx.Argc - 1);
        for (var i = 1; i < ctx.Argc; i++)
        {
            keys.Add(ctx.Args.ToArray(i));
        }
        // Redis caches a fresh count in the value (and replicates that write); a replica leaves its copy
        // as the master sends it.
        var status = ctx.Db.HyperLogLogs.Count(keys, updateCache: !ctx.Server.Replication.IsReplica, out var count);
        if (WriteError(ctx, status))
        {
            return;
        }
        ctx.Writer.WriteInteger(count);
    }

    private static void PfMerge(CommandContext ctx)
    {
        var sources = new List<byte[]>(ctx.Argc - 2);
        for (var i = 2; i < ctx.Argc; i++)
        {
            sources.Add(ctx.Args.ToArray(i));
        }
        var status = ctx.Db.HyperLogLogs.Merge(ctx.Args.ToArray(1), sources);
        if (WriteError(ctx, status))
        {
            return;
        }
        ctx.Writer.WriteOk();
    }

    private static bool WriteError(CommandContext ctx, HyperLogLogStatus status)
    {
        switch (status)
        {
            case HyperLogLogStatus.WrongType:
                ctx.WrongType();
                return true;
            case HyperLogLogStatus.NotHyperLogLog:
                ctx.Writer.WriteError(NotHyperLogLog);
                return true;
            case HyperLogLogStatus.Corrupted:
                ctx.Writer.WriteError(Corrupted);
                return true;
            default:
                return false;
        }
    }

    public static readonly CommandDescriptor[] Table =
    [
        new("PFADD", -2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, 1, 1, 1, PfAdd, "hyperloglog"),
        new("PFCOUNT", -2, CommandFlags.ReadOnly | CommandFlags.MayReplicate, 1, -1, 1, PfCount, "hyperloglog"),
        new("PFMERGE", -2, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, PfMerge, "hyperloglog"),
    ];
}
