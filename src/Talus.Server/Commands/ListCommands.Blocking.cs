using Talus.Storage;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>
/// BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH. When a list has elements they behave like their non-blocking forms;
/// otherwise the client waits in <see cref="Blocking.BlockingKeys"/>, and a push to one of its keys wakes it to
/// retry its own pop, which writes the reply.
/// </summary>
public static partial class ListCommands
{
    private static void BLPop(CommandContext ctx) => BlockingPop(ctx, ListEnd.Left);

    private static void BRPop(CommandContext ctx) => BlockingPop(ctx, ListEnd.Right);

    private static void BlockingPop(CommandContext ctx, ListEnd end)
    {
        if (!TryParseTimeout(ctx, ctx.Argc - 1, out var timeoutMs))
        {
            return;
        }
        var keys = ctx.Args.ToArrays(1, ctx.Argc - 2);
        // First pass as Redis: the first list with elements answers; a key of another type before it is an error.
        foreach (var key in keys)
        {
            var value = ctx.Db.Lists.PopOne(key, end, out var status);
            if (status == OpStatus.WrongType)
            {
                ctx.WrongType();
                return;
            }
            if (value is not null)
            {
                WriteKeyValue(ctx, key, value);
                return;
            }
        }
        if (ctx.Session.DenyBlocking)
        {
            ctx.Writer.WriteNullArray();
            return;
        }
        var db = ctx.Db;
        ctx.Pending = ctx.Server.Blocking.Block(ctx, keys, timeoutMs, () =>
        {
            // Woken: keys that now hold another type are skipped, as Redis only serves from lists.
            foreach (var key in keys)
            {
                if (db.Lists.PopOne(key, end, out _) is { } value)
                {
                    WriteKeyValue(ctx, key, value);
                    return true;
                }
            }
            return false;
        }, ctx.Writer.WriteNullArray);
    }

    /// <summary>BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]; the timeout is checked after the rest, as in Redis.</summary>
    private static void BLMPop(CommandContext ctx)
    {
        if (!TryParseMPop(ctx, 2, out var keys, out var end, out var count) || !TryParseTimeout(ctx, 1, out var timeoutMs))
        {
            return;
        }
        if (TryMPop(ctx, keys, end, count, skipOtherTypes: false))
        {
            return;
        }
        ctx.Pending = ctx.Server.Blocking.Block(ctx, keys, timeoutMs, () => TryMPop(ctx, keys, end, count, skipOtherTypes: true), ctx.Writer.WriteNullArray);
    }

    private static void BRPopLPush(CommandContext ctx)
    {
        if (TryParseTimeout(ctx, 3, out var timeoutMs))
        {
            BlockingMove(ctx, ListEnd.Right, ListEnd.Left, timeoutMs);
        }
    }

    private static void BLMove(CommandContext ctx)
    {
        if (TryParseEnd(ctx, 3, out var from) && TryParseEnd(ctx, 4, out var to) && TryParseTimeout(ctx, 5, out var timeoutMs))
        {
            BlockingMove(ctx, from, to, timeoutMs);
        }
    }

    private static void BlockingMove(CommandContext ctx, ListEnd from, ListEnd to, long timeoutMs)
    {
        var source = ctx.Args.ToArray(1);
        var destination = ctx.Args.ToArray(2);
        var db = ctx.Db;
        var woken = false;
        bool TryMove()
        {
            if (woken && db.Lists.Length(source, out _) != KeyLookup.Found)
            {
                return false; // only a list can serve a blocked client: a source of another type is not an error here
            }
            var status = db.Lists.Move(source, destination, from, to, out var value);
            switch (status)
            {
                case OpStatus.NotFound:
                    return false;
                case OpStatus.Ok:
                    ctx.Server.Blocking.Signal(db.Index, destination);
                    ctx.Writer.WriteBulk(value);
                    return true;
                default:
                    // The destination holds another type: the error ends the wait, as in Redis.
                    ctx.WrongType();
                    return true;
            }
        }
        if (TryMove())
        {
            return;
        }
        woken = true;
        if (ctx.Session.DenyBlocking)
        {
            ctx.Writer.WriteNull();
            return;
        }
        ctx.Pending = ctx.Server.Blocking.Block(ctx, [source], timeoutMs, TryMove, ctx.Writer.WriteNullArray);
    }

    private static void WriteKeyValue(CommandContext ctx, byte[] key, byte[] value)
    {
        ctx.Writer.WriteArrayHeader(2);
        ctx.Writer.WriteBulk(key);
        ctx.Writer.WriteBulk(value);
    }

    /// <summary>
    /// A timeout in seconds as Redis 7.0 reads it: a long double, times 1000 rounded up to whole milliseconds, with
    /// values beyond the 64-bit range wrapping negative (so "inf" and "1e20" are "negative"). 0 = forever.
    /// </summary>
    internal static bool TryParseTimeout(CommandContext ctx, int index, out long milliseconds)
    {
        milliseconds = 0;
        if (!Numbers.TryParseDouble(ctx.Args[index], out var seconds))
        {
            ctx.Writer.WriteError("ERR timeout is not a float or out of range");
            return false;
        }
        var scaled = Math.Ceiling(seconds * 1000.0);
        milliseconds = scaled is >= 9.2233720368547758E18 or < -9.2233720368547758E18 ? long.MinValue : (long)scaled;
        if (milliseconds < 0)
        {
            ctx.Writer.WriteError("ERR timeout is negative");
            return false;
        }
        return true;
    }
}
