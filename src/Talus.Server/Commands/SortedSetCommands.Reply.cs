using System.Globalization;
using Talus.Protocol;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>Range argument parsing and the reply shapes shared by the sorted-set commands.</summary>
public static partial class SortedSetCommands
{
    private const string ScoreIsNaN = "ERR resulting score is not a number (NaN)";
    private const string MinMaxNotFloat = "ERR min or max is not a float";
    private const string MinMaxNotLex = "ERR min or max not valid string range item";

    /// <summary>Redis' zslParseRange: "(" makes a bound exclusive; the rest is strtod up to the end.</summary>
    private static bool TryParseScoreRange(CommandContext ctx, int minIndex, int maxIndex, out ZScoreRange range)
    {
        if (TryParseScoreBound(ctx.Args[minIndex], out var min, out var minEx) && TryParseScoreBound(ctx.Args[maxIndex], out var max, out var maxEx))
        {
            range = new ZScoreRange(min, minEx, max, maxEx);
            return true;
        }
        range = default;
        ctx.Writer.WriteError(MinMaxNotFloat);
        return false;
    }

    private static bool TryParseScoreBound(ReadOnlySpan<byte> arg, out double value, out bool exclusive)
    {
        exclusive = arg.Length > 0 && arg[0] == (byte)'(';
        return Strtod.TryParseRangeBound(exclusive ? arg[1..] : arg, out value);
    }

    /// <summary>Redis' zslParseLexRange: "-", "+", "[member" or "(member".</summary>
    private static bool TryParseLexRange(CommandContext ctx, int minIndex, int maxIndex, out ZLexRange range)
    {
        if (TryParseLexBound(ctx.Args[minIndex], out var min) && TryParseLexBound(ctx.Args[maxIndex], out var max))
        {
            range = new ZLexRange(min, max);
            return true;
        }
        range = default;
        ctx.Writer.WriteError(MinMaxNotLex);
        return false;
    }

    private static bool TryParseLexBound(ReadOnlySpan<byte> arg, out ZLexBound bound)
    {
        bound = default;
        if (arg.Length == 0)
        {
            return false;
        }
        // Redis tests "+" and "-" as C strings: the byte after the sign must be the end (or a NUL).
        var alone = arg.Length == 1 || arg[1] == 0;
        switch (arg[0])
        {
            case (byte)'+' when alone:
                bound = ZLexBound.Plus;
                return true;
            case (byte)'-' when alone:
                bound = ZLexBound.Minus;
                return true;
            case (byte)'(':
                bound = ZLexBound.ExclusiveOf(arg[1..].ToArray());
                return true;
            case (byte)'[':
                bound = ZLexBound.Inclusive(arg[1..].ToArray());
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Members with optional scores: a flat array in RESP2 (member, score, ...), and in RESP3 with scores an
    /// array of [member, score] pairs, as Redis 7 replies to ZRANGE, ZUNION, ZRANDMEMBER and ZPOP with a count.
    /// </summary>
    private static void WriteEntries(CommandContext ctx, IReadOnlyList<ZEntry> entries, bool withScores)
    {
        var writer = ctx.Writer;
        var nested = withScores && writer.Version == RespVersion.Resp3;
        writer.WriteArrayHeader(withScores && !nested ? entries.Count * 2L : entries.Count);
        foreach (var entry in entries)
        {
            WriteEntry(writer, entry, withScores, nested);
        }
    }

    private static void WriteEntry(RespWriter writer, ZEntry entry, bool withScore, bool nested)
    {
        if (nested)
        {
            writer.WriteArrayHeader(2);
        }
        writer.WriteBulk(entry.Member);
        if (withScore)
        {
            writer.WriteDouble(entry.Score);
        }
    }

    /// <summary>
    /// A score as Redis keeps it in a listpack: an integral value within ±2^62 as a plain integer, anything
    /// else as %.17g (ZSCAN of a small set prints these).
    /// </summary>
    private static string FormatCompactScore(double score)
    {
        const double limit = long.MaxValue / 2;
        if (score >= -limit && score <= limit && score == Math.Floor(score))
        {
            return ((long)score).ToString(CultureInfo.InvariantCulture);
        }
        return RespWriter.FormatDouble(score);
    }
}
