using Talus.Storage;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>
/// Sorted-set commands (Redis 7.0 semantics, argument checks in Redis' order). Storage:
/// Storage/Types/RedisZSet.cs. Ranges are in SortedSetCommands.Range.cs, set algebra in
/// SortedSetCommands.Store.cs, pops, random members and ZSCAN in SortedSetCommands.Pop.cs.
/// </summary>
public static partial class SortedSetCommands
{
    private static void ZAdd(CommandContext ctx) => ZAddCore(ctx, ZAddFlags.None);

    /// <summary>ZINCRBY is ZADD INCR in Redis, options parsing included (so "ZINCRBY k nx m" is a syntax error).</summary>
    private static void ZIncrBy(CommandContext ctx) => ZAddCore(ctx, ZAddFlags.Increment);

    private static void ZAddCore(CommandContext ctx, ZAddFlags flags)
    {
        if (!TryParseZAdd(ctx, ref flags, out var ch, out var items))
        {
            return;
        }
        var status = ctx.Db.ZSets.Add(ctx.Args[1], items, flags, out var added, out var updated, out var incrResult);
        switch (status)
        {
            case OpStatus.WrongType:
                ctx.WrongType();
                return;
            case OpStatus.NaNOrInfinity:
                ctx.Writer.WriteError(ScoreIsNaN);
                return;
        }
        if (added > 0)
        {
            // A sorted set that gained members may serve clients blocked in BZPOPMIN/BZPOPMAX on its key.
            ctx.SignalKey(ctx.Db.Index, ctx.Args[1]);
        }
        if (!Has(flags, ZAddFlags.Increment))
        {
            ctx.Writer.WriteInteger(ch ? added + updated : added);
        }
        else if (incrResult is { } score)
        {
            ctx.Writer.WriteDouble(score);
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    /// <summary>Redis' zaddGenericCommand checks: flags, pair count, flag conflicts, then every score.</summary>
    private static bool TryParseZAdd(CommandContext ctx, ref ZAddFlags flags, out bool ch, out List<ZEntry> items)
    {
        var args = ctx.Args;
        ch = false;
        items = [];
        var scoreIndex = 2;
        for (; scoreIndex < args.Count; scoreIndex++)
        {
            var flag = args.Is(scoreIndex, "NX") ? ZAddFlags.IfMissing
                : args.Is(scoreIndex, "XX") ? ZAddFlags.IfExists
                : args.Is(scoreIndex, "GT") ? ZAddFlags.GreaterThan
                : args.Is(scoreIndex, "LT") ? ZAddFlags.LessThan
                : args.Is(scoreIndex, "INCR") ? ZAddFlags.Increment
                : ZAddFlags.None;
            if (flag == ZAddFlags.None && args.Is(scoreIndex, "CH"))
            {
                ch = true;
                continue;
            }
            if (flag == ZAddFlags.None)
            {
                break;
            }
            flags |= flag;
        }
        var elements = args.Count - scoreIndex;
        if (elements == 0 || elements % 2 != 0)
        {
            ctx.SyntaxError();
            return false;
        }
        bool nx = Has(flags, ZAddFlags.IfMissing), gt = Has(flags, ZAddFlags.GreaterThan), lt = Has(flags, ZAddFlags.LessThan);
        var conflict = nx && Has(flags, ZAddFlags.IfExists) ? "ERR XX and NX options at the same time are not compatible"
            : (gt && nx) || (lt && nx) || (gt && lt) ? "ERR GT, LT, and/or NX options at the same time are not compatible"
            : Has(flags, ZAddFlags.Increment) && elements > 2 ? "ERR INCR option supports a single increment-element pair"
            : null;
        if (conflict is not null)
        {
            ctx.Writer.WriteError(conflict);
            return false;
        }
        items = new List<ZEntry>(elements / 2);
        for (var i = scoreIndex; i < args.Count; i += 2)
        {
            if (!Strtod.TryParseStrict(args[i], out var score))
            {
                ctx.Writer.WriteError(Errors.NotFloat);
                return false;
            }
            items.Add(new ZEntry(args.ToArray(i + 1), score));
        }
        return true;
    }

    private static bool Has(ZAddFlags flags, ZAddFlags flag) => (flags & flag) != 0;

    private static void ZScore(CommandContext ctx)
    {
        if (ctx.Db.ZSets.Score(ctx.Args[1], ctx.Args[2], out var score) == KeyLookup.WrongType)
        {
            ctx.WrongType();
        }
        else if (score is { } value)
        {
            ctx.Writer.WriteDouble(value);
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    private static void ZMScore(CommandContext ctx)
    {
        var members = Arguments(ctx, 2);
        if (ctx.Db.ZSets.Scores(ctx.Args[1], members, out var scores) == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteArrayHeader(scores.Length);
        foreach (var score in scores)
        {
            if (score is { } value)
            {
                ctx.Writer.WriteDouble(value);
            }
            else
            {
                ctx.Writer.WriteNull();
            }
        }
    }

    private static void ZCard(CommandContext ctx)
    {
        if (ctx.Db.ZSets.Card(ctx.Args[1], out var size) == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(size);
    }

    private static void ZCount(CommandContext ctx)
    {
        if (!TryParseScoreRange(ctx, 2, 3, out var range))
        {
            return;
        }
        WriteCountOrWrongType(ctx, ctx.Db.ZSets.Count(ctx.Args[1], range, out var count), count);
    }

    private static void ZLexCount(CommandContext ctx)
    {
        if (!TryParseLexRange(ctx, 2, 3, out var range))
        {
            return;
        }
        WriteCountOrWrongType(ctx, ctx.Db.ZSets.LexCount(ctx.Args[1], range, out var count), count);
    }

    private static void WriteCountOrWrongType(CommandContext ctx, KeyLookup lookup, long count)
    {
        if (lookup == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(count);
    }

    private static void ZRank(CommandContext ctx) => RankCore(ctx, reverse: false);

    private static void ZRevRank(CommandContext ctx) => RankCore(ctx, reverse: true);

    private static void RankCore(CommandContext ctx, bool reverse)
    {
        if (ctx.Db.ZSets.Rank(ctx.Args[1], ctx.Args[2], reverse, out var rank) == KeyLookup.WrongType)
        {
            ctx.WrongType();
        }
        else if (rank is { } value)
        {
            ctx.Writer.WriteInteger(value);
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    private static void ZRem(CommandContext ctx)
    {
        if (ctx.Db.ZSets.Remove(ctx.Args[1], Arguments(ctx, 2), out var removed) == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(removed);
    }

    /// <summary>Copies arguments from <paramref name="start"/> to the end.</summary>
    private static List<byte[]> Arguments(CommandContext ctx, int start, int end = -1)
    {
        end = end < 0 ? ctx.Argc : end;
        var list = new List<byte[]>(Math.Max(0, end - start));
        for (var i = start; i < end; i++)
        {
            list.Add(ctx.Args.ToArray(i));
        }
        return list;
    }

    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags WriteSlow = CommandFlags.Write | CommandFlags.DenyOom;
    private const CommandFlags Write = CommandFlags.Write;

    public static readonly CommandDescriptor[] Table =
    [
        new("ZADD", -4, WriteFast, 1, 1, 1, ZAdd, "sortedset") { GroupsReadModifyWrite = true },
        new("ZINCRBY", 4, WriteFast, 1, 1, 1, ZIncrBy, "sortedset") { GroupsReadModifyWrite = true },
        new("ZSCORE", 3, ReadFast, 1, 1, 1, ZScore, "sortedset"),
        new("ZMSCORE", -3, ReadFast, 1, 1, 1, ZMScore, "sortedset"),
        new("ZCARD", 2, ReadFast, 1, 1, 1, ZCard, "sortedset"),
        new("ZCOUNT", 4, ReadFast, 1, 1, 1, ZCount, "sortedset"),
        new("ZLEXCOUNT", 4, ReadFast, 1, 1, 1, ZLexCount, "sortedset"),
        new("ZRANK", 3, ReadFast, 1, 1, 1, ZRank, "sortedset"),
        new("ZREVRANK", 3, ReadFast, 1, 1, 1, ZRevRank, "sortedset"),
        new("ZREM", -3, Write | CommandFlags.Fast, 1, 1, 1, ZRem, "sortedset") { GroupsReadModifyWrite = true },
        new("ZRANGE", -4, CommandFlags.ReadOnly, 1, 1, 1, ZRange, "sortedset"),
        new("ZRANGESTORE", -5, WriteSlow, 1, 2, 1, ZRangeStore, "sortedset"),
        new("ZREVRANGE", -4, CommandFlags.ReadOnly, 1, 1, 1, ZRevRange, "sortedset"),
        new("ZRANGEBYSCORE", -4, CommandFlags.ReadOnly, 1, 1, 1, ZRangeByScore, "sortedset"),
        new("ZREVRANGEBYSCORE", -4, CommandFlags.ReadOnly, 1, 1, 1, ZRevRangeByScore, "sortedset"),
        new("ZRANGEBYLEX", -4, CommandFlags.ReadOnly, 1, 1, 1, ZRangeByLex, "sortedset"),
        new("ZREVRANGEBYLEX", -4, CommandFlags.ReadOnly, 1, 1, 1, ZRevRangeByLex, "sortedset"),
        new("ZREMRANGEBYRANK", 4, Write, 1, 1, 1, ZRemRangeByRank, "sortedset"),
        new("ZREMRANGEBYSCORE", 4, Write, 1, 1, 1, ZRemRangeByScore, "sortedset"),
        new("ZREMRANGEBYLEX", 4, Write, 1, 1, 1, ZRemRangeByLex, "sortedset"),
        new("ZPOPMIN", -2, Write | CommandFlags.Fast, 1, 1, 1, ZPopMin, "sortedset") { GroupsReadModifyWrite = true },
        new("ZPOPMAX", -2, Write | CommandFlags.Fast, 1, 1, 1, ZPopMax, "sortedset") { GroupsReadModifyWrite = true },
        new("ZMPOP", -4, Write, 0, 0, 0, ZMPop, "sortedset"),
        new("BZMPOP", -5, Write | CommandFlags.Blocking, 0, 0, 0, BZMPop, "sortedset"),
        new("BZPOPMIN", -3, Write | CommandFlags.Fast | CommandFlags.Blocking, 1, -2, 1, BZPopMin, "sortedset"),
        new("BZPOPMAX", -3, Write | CommandFlags.Fast | CommandFlags.Blocking, 1, -2, 1, BZPopMax, "sortedset"),
        new("ZRANDMEMBER", -2, CommandFlags.ReadOnly, 1, 1, 1, ZRandMember, "sortedset"),
        new("ZSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, ZScan, "sortedset"),
        new("ZUNIONSTORE", -4, WriteSlow, 1, 1, 1, ZUnionStore, "sortedset"),
        new("ZINTERSTORE", -4, WriteSlow, 1, 1, 1, ZInterStore, "sortedset"),
        new("ZDIFFSTORE", -4, WriteSlow, 1, 1, 1, ZDiffStore, "sortedset"),
        new("ZUNION", -3, CommandFlags.ReadOnly, 0, 0, 0, ZUnion, "sortedset"),
        new("ZINTER", -3, CommandFlags.ReadOnly, 0, 0, 0, ZInter, "sortedset"),
        new("ZDIFF", -3, CommandFlags.ReadOnly, 0, 0, 0, ZDiff, "sortedset"),
        new("ZINTERCARD", -3, CommandFlags.ReadOnly, 0, 0, 0, ZInterCard, "sortedset"),
    ];
}
