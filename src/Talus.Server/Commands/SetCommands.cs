using Talus.Storage;
using Talus.Storage.Encoding;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>Set commands (Redis 7.0 semantics). Storage: Storage/Types/RedisSet.cs.</summary>
public static class SetCommands
{
    private const string CountNotPositive = "ERR value is out of range, must be positive";
    private const string NumKeysNotPositive = "ERR numkeys should be greater than 0";
    private const string TooManyKeys = "ERR Number of keys can't be greater than number of args";
    private const string LimitNegative = "ERR LIMIT can't be negative";

    private static void SAdd(CommandContext ctx)
    {
        var status = ctx.Argc == 3
            ? ctx.Db.Sets.AddOne(ctx.Args[1], ctx.Args[2], out var added)
            : ctx.Db.Sets.Add(ctx.Args[1], HashCommands.ArgsFrom(ctx, 2), out added);
        HashCommands.WriteIntegerOrError(ctx, status, added);
    }

    private static void SRem(CommandContext ctx)
    {
        var status = ctx.Db.Sets.Remove(ctx.Args[1], HashCommands.ArgsFrom(ctx, 2), out var removed);
        HashCommands.WriteIntegerOrError(ctx, status, removed);
    }

    private static void SCard(CommandContext ctx)
    {
        var status = ctx.Db.Sets.Count(ctx.Args[1], out var count);
        HashCommands.WriteIntegerOrError(ctx, status, count);
    }

    private static void SIsMember(CommandContext ctx)
    {
        var status = ctx.Db.Sets.IsMember(ctx.Args[1], ctx.Args[2], out var isMember);
        HashCommands.WriteIntegerOrError(ctx, status, isMember ? 1 : 0);
    }

    private static void SMIsMember(CommandContext ctx)
    {
        var status = ctx.Db.Sets.AreMembers(ctx.Args[1], HashCommands.ArgsFrom(ctx, 2), out var areMembers);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        ctx.Writer.WriteArrayHeader(areMembers.Length);
        foreach (var isMember in areMembers)
        {
            ctx.Writer.WriteInteger(isMember ? 1 : 0);
        }
    }

    private static void SMembers(CommandContext ctx)
    {
        var status = ctx.Db.Sets.Members(ctx.Args[1], out var members);
        WriteSetOrError(ctx, status, members);
    }

    private static void SPop(CommandContext ctx)
    {
        if (ctx.Argc > 3)
        {
            ctx.SyntaxError();
            return;
        }
        if (ctx.Argc == 2)
        {
            var single = ctx.Db.Sets.Pop(ctx.Args[1], 1, out var popped);
            if (single is OpStatus.Ok or OpStatus.NotFound)
            {
                StringCommands.WriteBulkOrNull(ctx.Writer, popped.Count > 0 ? popped[0] : null);
            }
            else
            {
                ctx.WriteStatusError(single);
            }
            return;
        }
        // Redis gives the same error for a count that is not an integer and for a negative one.
        if (!ctx.Args.TryGetLong(2, out var count) || count < 0)
        {
            ctx.Writer.WriteError(CountNotPositive);
            return;
        }
        var status = ctx.Db.Sets.Pop(ctx.Args[1], count, out var members);
        WriteSetOrError(ctx, status == OpStatus.NotFound ? OpStatus.Ok : status, members);
    }

    private static void SRandMember(CommandContext ctx)
    {
        if (ctx.Argc > 3)
        {
            ctx.SyntaxError();
            return;
        }
        if (ctx.Argc == 2)
        {
            var single = ctx.Db.Sets.RandomMembers(ctx.Args[1], 1, out var one);
            if (single != OpStatus.Ok)
            {
                ctx.WriteStatusError(single);
                return;
            }
            StringCommands.WriteBulkOrNull(ctx.Writer, one.Elements.Count > 0 ? one.Elements[0].Key : null);
            return;
        }
        if (!HashCommands.TryParseRandomCount(ctx, out var count))
        {
            return;
        }
        var status = ctx.Db.Sets.RandomMembers(ctx.Args[1], count, out var sample);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        // Redis 7.0 answers an array here even in RESP3: a negative count may repeat members.
        ctx.Writer.WriteArrayHeader(sample.Count);
        foreach (var (member, _) in HashCommands.Picks(sample))
        {
            ctx.Writer.WriteBulk(member);
        }
    }

    private static void SMove(CommandContext ctx)
    {
        var status = ctx.Db.Sets.Move(ctx.Args.ToArray(1), ctx.Args.ToArray(2), ctx.Args[3], out var moved);
        HashCommands.WriteIntegerOrError(ctx, status, moved ? 1 : 0);
    }

    private static void SInter(CommandContext ctx) => CombineCore(ctx, SetOperation.Inter);

    private static void SUnion(CommandContext ctx) => CombineCore(ctx, SetOperation.Union);

    private static void SDiff(CommandContext ctx) => CombineCore(ctx, SetOperation.Diff);

    private static void CombineCore(CommandContext ctx, SetOperation operation)
    {
        var status = ctx.Db.Sets.Combine(operation, HashCommands.ArgsFrom(ctx, 1), out var members);
        WriteSetOrError(ctx, status, members);
    }

    private static void SInterStore(CommandContext ctx) => StoreCore(ctx, SetOperation.Inter);

    private static void SUnionStore(CommandContext ctx) => StoreCore(ctx, SetOperation.Union);

    private static void SDiffStore(CommandContext ctx) => StoreCore(ctx, SetOperation.Diff);

    private static void StoreCore(CommandContext ctx, SetOperation operation)
    {
        var status = ctx.Db.Sets.CombineAndStore(operation, ctx.Args.ToArray(1), HashCommands.ArgsFrom(ctx, 2), out var count);
        HashCommands.WriteIntegerOrError(ctx, status, count);
    }

    private static void SInterCard(CommandContext ctx)
    {
        if (!ctx.Args.TryGetLong(1, out var numKeys) || numKeys < 1)
        {
            ctx.Writer.WriteError(NumKeysNotPositive);
            return;
        }
        if (numKeys > ctx.Argc - 2)
        {
            ctx.Writer.WriteError(TooManyKeys);
            return;
        }
        long limit = 0;
        for (var i = 2 + (int)numKeys; i < ctx.Argc; i++)
        {
            if (ctx.Args.Is(i, "LIMIT") && i + 1 < ctx.Argc)
            {
                if (!ctx.Args.TryGetLong(++i, out limit) || limit < 0)
                {
                    ctx.Writer.WriteError(LimitNegative);
                    return;
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var keys = new List<byte[]>((int)numKeys);
        for (var i = 0; i < numKeys; i++)
        {
            keys.Add(ctx.Args.ToArray(2 + i));
        }
        var status = ctx.Db.Sets.InterCard(keys, limit, out var count);
        HashCommands.WriteIntegerOrError(ctx, status, count);
    }

    private static void SScan(CommandContext ctx)
    {
        if (!KeyCommands.TryParseCursor(ctx, 2, out var cursor) || !HashCommands.TryCheckScanKey(ctx, RedisType.Set))
        {
            return;
        }
        if (!KeyCommands.TryParseScanOptions(ctx, 3, allowType: false, out var pattern, out var count, out _))
        {
            return;
        }
        var status = ctx.Db.Sets.Scan(ctx.Args[1], cursor, pattern, count, out var page);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        KeyCommands.WriteScanPage(ctx, page);
    }

    /// <summary>A set reply (RESP3 ~, RESP2 array) or the status' error.</summary>
    private static void WriteSetOrError(CommandContext ctx, OpStatus status, List<byte[]> members)
    {
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        ctx.Writer.WriteSetHeader(members.Count);
        HashCommands.WriteBulks(ctx.Writer, members);
    }

    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.Fast;

    public static readonly CommandDescriptor[] Table =
    [
        new("SADD", -3, WriteFast | CommandFlags.DenyOom, 1, 1, 1, SAdd, "set") { GroupsReadModifyWrite = true },
        new("SREM", -3, WriteFast, 1, 1, 1, SRem, "set") { GroupsReadModifyWrite = true },
        new("SCARD", 2, ReadFast, 1, 1, 1, SCard, "set"),
        new("SISMEMBER", 3, ReadFast, 1, 1, 1, SIsMember, "set"),
        new("SMISMEMBER", -3, ReadFast, 1, 1, 1, SMIsMember, "set"),
        new("SMEMBERS", 2, CommandFlags.ReadOnly, 1, 1, 1, SMembers, "set"),
        new("SPOP", -2, WriteFast, 1, 1, 1, SPop, "set") { GroupsReadModifyWrite = true },
        new("SRANDMEMBER", -2, CommandFlags.ReadOnly, 1, 1, 1, SRandMember, "set"),
        new("SMOVE", 4, WriteFast, 1, 2, 1, SMove, "set"),
        new("SINTER", -2, CommandFlags.ReadOnly, 1, -1, 1, SInter, "set"),
        new("SUNION", -2, CommandFlags.ReadOnly, 1, -1, 1, SUnion, "set"),
        new("SDIFF", -2, CommandFlags.ReadOnly, 1, -1, 1, SDiff, "set"),
        new("SINTERSTORE", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, SInterStore, "set"),
        new("SUNIONSTORE", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, SUnionStore, "set"),
        new("SDIFFSTORE", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, -1, 1, SDiffStore, "set"),
        new("SINTERCARD", -3, CommandFlags.ReadOnly, 0, 0, 0, SInterCard, "set"),
        new("SSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, SScan, "set"),
    ];
}
