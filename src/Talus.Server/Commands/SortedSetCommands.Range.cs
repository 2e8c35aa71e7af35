using Talus.Storage;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>
/// ZRANGE and its older forms, ZRANGESTORE and ZREMRANGEBY*. All range reads go through Redis'
/// zrangeGenericCommand order: options, then option conflicts, then the range, then the key.
/// </summary>
public static partial class SortedSetCommands
{
    private static void ZRange(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, null, null);

    private static void ZRangeStore(CommandContext ctx) => RangeGeneric(ctx, 2, store: true, null, null);

    private static void ZRevRange(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, ZRangeKind.Rank, reverse: true);

    private static void ZRangeByScore(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, ZRangeKind.Score, reverse: false);

    private static void ZRevRangeByScore(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, ZRangeKind.Score, reverse: true);

    private static void ZRangeByLex(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, ZRangeKind.Lex, reverse: false);

    private static void ZRevRangeByLex(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, ZRangeKind.Lex, reverse: true);

    /// <summary>
    /// <paramref name="keyIndex"/> is the source key's position (ZRANGESTORE has the destination first);
    /// a null <paramref name="kind"/> or <paramref name="reverse"/> may be chosen by BYSCORE/BYLEX/REV.
    /// </summary>
    private static void RangeGeneric(CommandContext ctx, int keyIndex, bool store, ZRangeKind? kind, bool? reverse)
    {
        var args = ctx.Args;
        if (!TryParseRangeOptions(ctx, keyIndex, store, ref kind, ref reverse, out var withScores, out var offset, out var limit))
        {
            return;
        }
        var rangeKind = kind ?? ZRangeKind.Rank;
        var rev = reverse ?? false;
        if (limit != -1 && rangeKind == ZRangeKind.Rank)
        {
            ctx.Writer.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && rangeKind == ZRangeKind.Lex)
        {
            ctx.Writer.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        // Reversed score and lex ranges are written max first.
        int minIndex = keyIndex + 1, maxIndex = keyIndex + 2;
        if (rev && rangeKind != ZRangeKind.Rank)
        {
            (minIndex, maxIndex) = (maxIndex, minIndex);
        }
        if (!TryParseQuery(ctx, rangeKind, minIndex, maxIndex, out var query))
        {
            return;
        }
        query = query with { Reverse = rev, Offset = offset, Limit = limit };
        if (store)
        {
            var status = ctx.Db.ZSets.RangeStore(args.ToArray(1), args.ToArray(keyIndex), query, out var stored);
            if (status == OpStatus.WrongType)
            {
                ctx.WrongType();
                return;
            }
            SignalStored(ctx, args[1], stored);
            ctx.Writer.WriteInteger(stored);
            return;
        }
        var result = new List<ZEntry>();
        if (ctx.Db.ZSets.Range(args[keyIndex], query, result) == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        WriteEntries(ctx, result, withScores);
    }

    /// <summary>The options after the bounds: WITHSCORES (not for STORE), LIMIT offset count, and REV/BYSCORE/BYLEX where the command leaves them open.</summary>
    private static bool TryParseRangeOptions(CommandContext ctx, int keyIndex, bool store, ref ZRangeKind? kind, ref bool? reverse, out bool withScores, out long offset, out long limit)
    {
        var args = ctx.Args;
        withScores = false;
        offset = 0;
        limit = -1;
        for (var j = keyIndex + 3; j < args.Count; j++)
        {
            if (!store && args.Is(j, "WITHSCORES"))
            {
                withScores = true;
            }
            else if (args.Is(j, "LIMIT") && args.Count - j - 1 >= 2)
            {
                if (!ctx.TryGetLong(j + 1, out offset) || !ctx.TryGetLong(j + 2, out limit))
                {
                    return false;
                }
                j += 2;
            }
            else if (reverse is null && args.Is(j, "REV"))
            {
                reverse = true;
            }
            else if (kind is null && (args.Is(j, "BYLEX") || args.Is(j, "BYSCORE")))
            {
                kind = args.Is(j, "BYLEX") ? ZRangeKind.Lex : ZRangeKind.Score;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    /// <summary>Parses the two bounds of a rank, score or lex range, or writes Redis' error for them.</summary>
    private static bool TryParseQuery(CommandContext ctx, ZRangeKind kind, int minIndex, int maxIndex, out ZRangeQuery query)
    {
        query = new ZRangeQuery { Kind = kind };
        switch (kind)
        {
            case ZRangeKind.Rank:
                if (!ctx.TryGetLong(minIndex, out var start) || !ctx.TryGetLong(maxIndex, out var stop))
                {
                    return false;
                }
                query = query with { Start = start, Stop = stop };
                return true;
            case ZRangeKind.Score:
                if (!TryParseScoreRange(ctx, minIndex, maxIndex, out var scores))
                {
                    return false;
                }
                query = query with { Scores = scores };
                return true;
            default:
                if (!TryParseLexRange(ctx, minIndex, maxIndex, out var lex))
                {
                    return false;
                }
                query = query with { Lex = lex };
                return true;
        }
    }

    private static void ZRemRangeByRank(CommandContext ctx) => RemoveRange(ctx, ZRangeKind.Rank);

    private static void ZRemRangeByScore(CommandContext ctx) => RemoveRange(ctx, ZRangeKind.Score);

    private static void ZRemRangeByLex(CommandContext ctx) => RemoveRange(ctx, ZRangeKind.Lex);

    private static void RemoveRange(CommandContext ctx, ZRangeKind kind)
    {
        if (!TryParseQuery(ctx, kind, 2, 3, out var query))
        {
            return;
        }
        if (ctx.Db.ZSets.RemoveRange(ctx.Args[1], query, out var removed) == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(removed);
    }
}
