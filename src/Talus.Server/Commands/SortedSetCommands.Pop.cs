using System.Globalization;
using Talus.Protocol;
using Talus.Storage;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>ZPOPMIN, ZPOPMAX, BZPOPMIN, BZPOPMAX, ZMPOP, BZMPOP, ZRANDMEMBER and ZSCAN.</summary>
public static partial class SortedSetCommands
{
    private const string NotPositive = "ERR value is out of range, must be positive";

    private static void ZPopMin(CommandContext ctx) => PopCore(ctx, max: false);

    private static void ZPopMax(CommandContext ctx) => PopCore(ctx, max: true);

    private static void PopCore(CommandContext ctx, bool max)
    {
        if (ctx.Argc > 3)
        {
            ctx.SyntaxError();
            return;
        }
        long count = -1; // -1: no count given, reply with one flat pair
        if (ctx.Argc == 3 && (!ctx.Args.TryGetLong(2, out count) || count < 0))
        {
            ctx.Writer.WriteError(NotPositive);
            return;
        }
        var popped = new List<ZEntry>();
        var status = ctx.Db.ZSets.Pop(ctx.Args[1], count == -1 ? 1 : count, max, popped);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        // RESP3 with a count: [member, score] pairs; otherwise one flat array.
        var nested = count != -1 && ctx.Writer.Version == RespVersion.Resp3;
        ctx.Writer.WriteArrayHeader(nested ? popped.Count : popped.Count * 2L);
        foreach (var entry in popped)
        {
            WriteEntry(ctx.Writer, entry, withScore: true, nested);
        }
    }

    private static void BZPopMin(CommandContext ctx) => BlockingPop(ctx, max: false);

    private static void BZPopMax(CommandContext ctx) => BlockingPop(ctx, max: true);

    /// <summary>
    /// BZPOPMIN/BZPOPMAX key [key ...] timeout. The first sorted set with members answers [key, member, score]; a
    /// key of another type before it is an error. When every key is missing the client waits in
    /// <see cref="Blocking.BlockingKeys"/> (as BLPOP does), and a write that adds members to one of its keys wakes
    /// it to pop; a key that holds another type by then is skipped, as Redis serves blocked clients only from
    /// sorted sets. The timeout reply is the null array.
    /// </summary>
    private static void BlockingPop(CommandContext ctx, bool max)
    {
        if (!ListCommands.TryParseTimeout(ctx, ctx.Argc - 1, out var timeoutMs))
        {
            return;
        }
        var keys = ctx.Args.ToArrays(1, ctx.Argc - 2);
        bool TryPop(bool woken) => TryPopFirst(ctx, keys, max, 1, skipOtherTypes: woken, static (writer, key, popped) =>
        {
            writer.WriteArrayHeader(3);
            writer.WriteBulk(key);
            WriteEntry(writer, popped[0], withScore: true, nested: false);
        });
        if (TryPop(woken: false))
        {
            return;
        }
        ctx.Pending = ctx.Server.Blocking.Block(ctx, keys, timeoutMs, () => TryPop(woken: true), ctx.Writer.WriteNullArray);
    }

    /// <summary>ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first non-empty key.</summary>
    private static void ZMPop(CommandContext ctx)
    {
        if (!TryParseZMPop(ctx, 1, out var keys, out var max, out var count))
        {
            return;
        }
        if (!TryZMPop(ctx, keys, max, count, skipOtherTypes: false))
        {
            ctx.Writer.WriteNullArray();
        }
    }

    /// <summary>BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]; the timeout is checked after the rest, as in Redis.</summary>
    private static void BZMPop(CommandContext ctx)
    {
        if (!TryParseZMPop(ctx, 2, out var keys, out var max, out var count) || !ListCommands.TryParseTimeout(ctx, 1, out var timeoutMs))
        {
            return;
        }
        if (TryZMPop(ctx, keys, max, count, skipOtherTypes: false))
        {
            return;
        }
        ctx.Pending = ctx.Server.Blocking.Block(ctx, keys, timeoutMs, () => TryZMPop(ctx, keys, max, count, skipOtherTypes: true), ctx.Writer.WriteNullArray);
    }

    /// <summary>"numkeys key [key ...] MIN|MAX [COUNT count]" from <paramref name="numKeysIndex"/> on (ZMPOP, BZMPOP).</summary>
    private static bool TryParseZMPop(CommandContext ctx, int numKeysIndex, out byte[][] keys, out bool max, out long count) =>
        MultiPop.TryParse(ctx, numKeysIndex, "MIN", "MAX", out keys, out max, out count);

    /// <summary>
    /// Pops up to <paramref name="count"/> members from the first of <paramref name="keys"/> that is a sorted set
    /// with members and writes [key, [[member, score] ...]] (ZMPOP, BZMPOP).
    /// </summary>
    private static bool TryZMPop(CommandContext ctx, byte[][] keys, bool max, long count, bool skipOtherTypes) =>
        TryPopFirst(ctx, keys, max, count, skipOtherTypes, static (writer, key, popped) =>
        {
            writer.WriteArrayHeader(2);
            writer.WriteBulk(key);
            writer.WriteArrayHeader(popped.Count);
            foreach (var entry in popped)
            {
                WriteEntry(writer, entry, withScore: true, nested: true);
            }
        });

    /// <summary>
    /// Pops up to <paramref name="count"/> members from the first of <paramref name="keys"/> that is a sorted set
    /// with members and has <paramref name="reply"/> write them; true when a reply was written (also WRONGTYPE for a
    /// key of another type met first, unless <paramref name="skipOtherTypes"/>: a woken client serves only from
    /// sorted sets).
    /// </summary>
    private static bool TryPopFirst(CommandContext ctx, byte[][] keys, bool max, long count, bool skipOtherTypes, Action<RespWriter, byte[], List<ZEntry>> reply)
    {
        var popped = new List<ZEntry>();
        foreach (var key in keys)
        {
            popped.Clear();
            if (ctx.Db.ZSets.Pop(key, count, max, popped) == OpStatus.WrongType)
            {
                if (skipOtherTypes)
                {
                    continue;
                }
                ctx.WrongType();
                return true;
            }
            if (popped.Count > 0)
            {
                reply(ctx.Writer, key, popped);
                return true;
            }
        }
        return false;
    }

    private static void ZRandMember(CommandContext ctx)
    {
        var args = ctx.Args;
        if (args.Count == 2)
        {
            var lookup = ctx.Db.ZSets.RandomMember(args[1], out var entry);
            if (lookup == KeyLookup.WrongType)
            {
                ctx.WrongType();
            }
            else if (entry is { } found)
            {
                ctx.Writer.WriteBulk(found.Member);
            }
            else
            {
                ctx.Writer.WriteNull();
            }
            return;
        }
        if (!ctx.TryGetLong(2, out var count))
        {
            return;
        }
        if (count == long.MinValue)
        {
            ctx.Writer.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        if (args.Count > 4 || (args.Count == 4 && !args.Is(3, "WITHSCORES")))
        {
            ctx.SyntaxError();
            return;
        }
        var withScores = args.Count == 4;
        if (withScores && (count < -long.MaxValue / 2 || count > long.MaxValue / 2))
        {
            ctx.Writer.WriteError("ERR value is out of range");
            return;
        }
        var picks = new List<ZEntry>();
        var unique = count > 0;
        var status = ctx.Db.ZSets.Sample(args[1], unique ? count : -count, unique, picks);
        if (status == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        WriteEntries(ctx, picks, withScores);
    }

    /// <summary>ZSCAN: cursor first, then the key (a missing key answers an empty scan before options are read), then options.</summary>
    private static void ZScan(CommandContext ctx)
    {
        if (!TryParseScanCursor(ctx.Args[2], out var cursor))
        {
            ctx.Writer.WriteError(Errors.InvalidCursor);
            return;
        }
        var lookup = ctx.Db.ZSets.Card(ctx.Args[1], out _);
        if (lookup == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        if (lookup == KeyLookup.Missing)
        {
            WriteScanReply(ctx, 0, new List<ZEntry>(), compact: true);
            return;
        }
        if (!TryParseScanOptions(ctx, out var pattern, out var count))
        {
            return;
        }
        lookup = ctx.Db.ZSets.Scan(ctx.Args[1], cursor, pattern, count, out var page);
        if (lookup == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        WriteScanReply(ctx, page.Cursor, page.Items, page.Compact);
    }

    /// <summary>MATCH and COUNT. Unlike no MATCH at all, MATCH "" matches only the empty member.</summary>
    private static bool TryParseScanOptions(CommandContext ctx, out byte[]? pattern, out long count)
    {
        pattern = null;
        count = 10;
        for (var i = 3; i < ctx.Argc; i++)
        {
            var hasValue = i + 1 < ctx.Argc;
            if (ctx.Args.Is(i, "COUNT") && hasValue)
            {
                if (!ctx.TryGetLong(++i, out count))
                {
                    return false;
                }
                if (count < 1)
                {
                    ctx.SyntaxError();
                    return false;
                }
            }
            else if (ctx.Args.Is(i, "MATCH") && hasValue)
            {
                pattern = ctx.Args.ToArray(++i);
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    private static void WriteScanReply(CommandContext ctx, long cursor, List<ZEntry> items, bool compact)
    {
        var writer = ctx.Writer;
        writer.WriteArrayHeader(2);
        writer.WriteBulk(((ulong)cursor).ToString(CultureInfo.InvariantCulture));
        writer.WriteArrayHeader(items.Count * 2L);
        foreach (var item in items)
        {
            writer.WriteBulk(item.Member);
            writer.WriteBulk(compact ? FormatCompactScore(item.Score) : RespWriter.FormatDouble(item.Score));
        }
    }

    /// <summary>Redis' parseScanCursorOrReply: strtoul base 10 (so "+5", "-1" and "" are accepted), no leading space.</summary>
    private static bool TryParseScanCursor(ReadOnlySpan<byte> arg, out long cursor)
    {
        cursor = 0;
        var s = arg;
        var nul = s.IndexOf((byte)0);
        if (nul >= 0)
        {
            s = s[..nul];
        }
        if (s.Length > 0 && Strtod.IsSpace(s[0]))
        {
            return false;
        }
        var negative = false;
        var i = 0;
        if (i < s.Length && s[i] is (byte)'+' or (byte)'-')
        {
            negative = s[i] == (byte)'-';
            i++;
        }
        if (i == s.Length)
        {
            return s.Length == 0; // "" converts nothing but ends at the terminator; a lone sign does not
        }
        ulong value = 0;
        for (; i < s.Length; i++)
        {
            if (!char.IsAsciiDigit((char)s[i]))
            {
                return false;
            }
            var digit = (ulong)(s[i] - '0');
            if (value > (ulong.MaxValue - digit) / 10)
            {
                return false; // ERANGE
            }
            value = value * 10 + digit;
        }
        cursor = (long)(negative ? unchecked(0UL - value) : value);
        return true;
    }
}
