using Talus.Storage;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>
/// List commands (Redis 7.0 semantics, argument checks in Redis' order). Storage: Storage/Types/RedisList.cs.
/// The blocking variants are in ListCommands.Blocking.cs.
/// </summary>
public static partial class ListCommands
{
    private const string CountNotPositive = "ERR value is out of range, must be positive";
    private const string IndexOutOfRange = "ERR index out of range";

    private static void LPush(CommandContext ctx) => PushCore(ctx, ListEnd.Left, false);

    private static void RPush(CommandContext ctx) => PushCore(ctx, ListEnd.Right, false);

    private static void LPushX(CommandContext ctx) => PushCore(ctx, ListEnd.Left, true);

    private static void RPushX(CommandContext ctx) => PushCore(ctx, ListEnd.Right, true);

    private static void PushCore(CommandContext ctx, ListEnd end, bool onlyIfExists)
    {
        var args = ctx.Args;
        var status = ctx.Db.Lists.Push(args[1], end, ctx.Argc - 2, args, static (a, i) => a[2 + i], onlyIfExists, out var length);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        if (length > 0)
        {
            ctx.SignalKey(ctx.Db.Index, args[1]);
        }
        ctx.Writer.WriteInteger(length);
    }

    private static void LPop(CommandContext ctx) => PopCore(ctx, ListEnd.Left);

    private static void RPop(CommandContext ctx) => PopCore(ctx, ListEnd.Right);

    private static void PopCore(CommandContext ctx, ListEnd end)
    {
        if (ctx.Argc > 3)
        {
            ctx.WrongArity();
            return;
        }
        var hasCount = ctx.Argc == 3;
        long count = 1;
        if (hasCount && (!ctx.Args.TryGetLong(2, out count) || count < 0))
        {
            ctx.Writer.WriteError(CountNotPositive);
            return;
        }
        if (!hasCount)
        {
            var value = ctx.Db.Lists.PopOne(ctx.Args[1], end, out var one);
            if (one == OpStatus.WrongType)
            {
                ctx.WrongType();
            }
            else if (value is null)
            {
                ctx.Writer.WriteNull();
            }
            else
            {
                ctx.Writer.WriteBulk(value);
            }
            return;
        }
        var status = ctx.Db.Lists.Pop(ctx.Args[1], end, count, out var values);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
        }
        else if (status == OpStatus.NotFound)
        {
            ctx.Writer.WriteNullArray();
        }
        else
        {
            WriteArray(ctx, values);
        }
    }

    /// <summary>LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops up to count elements from the first list with any.</summary>
    private static void LMPop(CommandContext ctx)
    {
        if (!TryParseMPop(ctx, 1, out var keys, out var end, out var count))
        {
            return;
        }
        if (!TryMPop(ctx, keys, end, count, skipOtherTypes: false))
        {
            ctx.Writer.WriteNullArray();
        }
    }

    /// <summary>"numkeys key [key ...] LEFT|RIGHT [COUNT count]" from <paramref name="numKeysIndex"/> on (LMPOP, BLMPOP).</summary>
    private static bool TryParseMPop(CommandContext ctx, int numKeysIndex, out byte[][] keys, out ListEnd end, out long count)
    {
        var parsed = MultiPop.TryParse(ctx, numKeysIndex, "LEFT", "RIGHT", out keys, out var right, out count);
        end = right ? ListEnd.Right : ListEnd.Left;
        return parsed;
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> elements from the first of <paramref name="keys"/> that is a list and
    /// writes [key, [elements]]; true when it wrote a reply (also WRONGTYPE for a key of another type met first,
    /// unless <paramref name="skipOtherTypes"/>: a woken BLMPOP serves only from lists).
    /// </summary>
    private static bool TryMPop(CommandContext ctx, byte[][] keys, ListEnd end, long count, bool skipOtherTypes)
    {
        foreach (var key in keys)
        {
            var status = ctx.Db.Lists.Pop(key, end, count, out var values);
            if (status == OpStatus.WrongType)
            {
                if (skipOtherTypes)
                {
                    continue;
                }
                ctx.WrongType();
                return true;
            }
            if (status == OpStatus.Ok && values.Count > 0)
            {
                ctx.Writer.WriteArrayHeader(2);
                ctx.Writer.WriteBulk(key);
                WriteArray(ctx, values);
                return true;
            }
        }
        return false;
    }

    private static void LLen(CommandContext ctx)
    {
        if (ctx.Db.Lists.Length(ctx.Args[1], out var length) == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(length);
    }

    private static void LRange(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var start) || !ctx.TryGetLong(3, out var stop))
        {
            return;
        }
        if (ctx.Db.Lists.Range(ctx.Args[1], start, stop, out var values) == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteArrayHeader(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            ctx.Writer.WriteBulk(values[i]);
        }
    }

    private static void LIndex(CommandContext ctx)
    {
        if (!ctx.Args.TryGetLong(2, out var index))
        {
            // Redis looks the key up before it parses the index.
            switch (ctx.Db.Lists.Length(ctx.Args[1], out _))
            {
                case KeyLookup.Missing:
                    ctx.Writer.WriteNull();
                    break;
                case KeyLookup.WrongType:
                    ctx.WrongType();
                    break;
                default:
                    ctx.Writer.WriteError(Errors.NotInteger);
                    break;
            }
            return;
        }
        var found = ctx.Db.Lists.Index(ctx.Args[1], index, out var value);
        if (found == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        StringCommands.WriteBulkOrNull(ctx.Writer, value);
    }

    private static void LSet(CommandContext ctx)
    {
        if (!ctx.Args.TryGetLong(2, out var index))
        {
            // Redis looks the key up before it parses the index.
            switch (ctx.Db.Lists.Length(ctx.Args[1], out _))
            {
                case KeyLookup.Missing:
                    ctx.Writer.WriteError(Errors.NoSuchKey);
                    break;
                case KeyLookup.WrongType:
                    ctx.WrongType();
                    break;
                default:
                    ctx.Writer.WriteError(Errors.NotInteger);
                    break;
            }
            return;
        }
        switch (ctx.Db.Lists.Set(ctx.Args[1], index, ctx.Args[3]))
        {
            case OpStatus.Ok:
                ctx.Writer.WriteOk();
                break;
            case OpStatus.NotPerformed:
                ctx.Writer.WriteError(IndexOutOfRange);
                break;
            case var status:
                ctx.WriteStatusError(status);
                break;
        }
    }

    private static void LInsert(CommandContext ctx)
    {
        bool after;
        if (ctx.Args.Is(2, "AFTER"))
        {
            after = true;
        }
        else if (ctx.Args.Is(2, "BEFORE"))
        {
            after = false;
        }
        else
        {
            ctx.SyntaxError();
            return;
        }
        var status = ctx.Db.Lists.Insert(ctx.Args[1], after, ctx.Args[3], ctx.Args[4], out var length);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(length);
    }

    private static void LRem(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var count))
        {
            return;
        }
        if (ctx.Db.Lists.Remove(ctx.Args[1], count, ctx.Args[3], out var removed) == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(removed);
    }

    private static void LTrim(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var start) || !ctx.TryGetLong(3, out var stop))
        {
            return;
        }
        if (ctx.Db.Lists.Trim(ctx.Args[1], start, stop) == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteOk();
    }

    private static void LPos(CommandContext ctx)
    {
        if (!TryParseLPosOptions(ctx, out var rank, out var count, out var maxLength))
        {
            return;
        }
        var found = ctx.Db.Lists.Positions(ctx.Args[1], ctx.Args[2], rank, count, maxLength, out var positions);
        if (found == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        if (count is not null)
        {
            ctx.Writer.WriteArrayHeader(positions.Count);
            foreach (var p in positions)
            {
                ctx.Writer.WriteInteger(p);
            }
        }
        else if (positions.Count > 0)
        {
            ctx.Writer.WriteInteger(positions[0]);
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    /// <summary>RANK, COUNT and MAXLEN in any order (the last one of each wins), with Redis' error texts.</summary>
    private static bool TryParseLPosOptions(CommandContext ctx, out long rank, out long? count, out long maxLength)
    {
        rank = 1;
        count = null;
        maxLength = 0;
        for (var i = 3; i < ctx.Argc; i += 2)
        {
            if (i + 1 >= ctx.Argc)
            {
                ctx.SyntaxError();
                return false;
            }
            if (ctx.Args.Is(i, "RANK"))
            {
                if (!ctx.TryGetLong(i + 1, out rank))
                {
                    return false;
                }
                if (rank == 0)
                {
                    ctx.Writer.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return false;
                }
            }
            else if (ctx.Args.Is(i, "COUNT"))
            {
                if (!ctx.Args.TryGetLong(i + 1, out var c) || c < 0)
                {
                    ctx.Writer.WriteError("ERR COUNT can't be negative");
                    return false;
                }
                count = c;
            }
            else if (ctx.Args.Is(i, "MAXLEN"))
            {
                if (!ctx.Args.TryGetLong(i + 1, out maxLength) || maxLength < 0)
                {
                    ctx.Writer.WriteError("ERR MAXLEN can't be negative");
                    return false;
                }
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    private static void RPopLPush(CommandContext ctx) => MoveCore(ctx, ListEnd.Right, ListEnd.Left);

    private static void LMove(CommandContext ctx)
    {
        if (TryParseEnd(ctx, 3, out var from) && TryParseEnd(ctx, 4, out var to))
        {
            MoveCore(ctx, from, to);
        }
    }

    private static void MoveCore(CommandContext ctx, ListEnd from, ListEnd to)
    {
        var destination = ctx.Args.ToArray(2);
        var status = ctx.Db.Lists.Move(ctx.Args.ToArray(1), destination, from, to, out var value);
        switch (status)
        {
            case OpStatus.Ok:
                ctx.Server.Blocking.Signal(ctx.Db.Index, destination);
                ctx.Writer.WriteBulk(value);
                break;
            case OpStatus.NotFound:
                ctx.Writer.WriteNull();
                break;
            default:
                ctx.WrongType();
                break;
        }
    }

    /// <summary>LEFT or RIGHT (any case), or a syntax error.</summary>
    private static bool TryParseEnd(CommandContext ctx, int index, out ListEnd end)
    {
        if (ctx.Args.Is(index, "LEFT"))
        {
            end = ListEnd.Left;
            return true;
        }
        if (ctx.Args.Is(index, "RIGHT"))
        {
            end = ListEnd.Right;
            return true;
        }
        end = default;
        ctx.SyntaxError();
        return false;
    }

    private static void WriteArray(CommandContext ctx, List<byte[]> values)
    {
        ctx.Writer.WriteArrayHeader(values.Count);
        foreach (var value in values)
        {
            ctx.Writer.WriteBulk(value);
        }
    }

    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags WriteSlow = CommandFlags.Write | CommandFlags.DenyOom;
    private const CommandFlags WriteBlocking = CommandFlags.Write | CommandFlags.Blocking;

    public static readonly CommandDescriptor[] Table =
    [
        new("LPUSH", -3, WriteFast, 1, 1, 1, LPush, "list") { GroupsReadModifyWrite = true },
        new("RPUSH", -3, WriteFast, 1, 1, 1, RPush, "list") { GroupsReadModifyWrite = true },
        new("LPUSHX", -3, WriteFast, 1, 1, 1, LPushX, "list") { GroupsReadModifyWrite = true },
        new("RPUSHX", -3, WriteFast, 1, 1, 1, RPushX, "list") { GroupsReadModifyWrite = true },
        new("LPOP", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, LPop, "list") { GroupsReadModifyWrite = true },
        new("RPOP", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, RPop, "list") { GroupsReadModifyWrite = true },
        new("LLEN", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, LLen, "list"),
        new("LRANGE", 4, CommandFlags.ReadOnly, 1, 1, 1, LRange, "list"),
        new("LINDEX", 3, CommandFlags.ReadOnly, 1, 1, 1, LIndex, "list"),
        new("LSET", 4, WriteSlow, 1, 1, 1, LSet, "list"),
        new("LINSERT", 5, WriteSlow, 1, 1, 1, LInsert, "list"),
        new("LREM", 4, CommandFlags.Write, 1, 1, 1, LRem, "list"),
        new("LTRIM", 4, CommandFlags.Write, 1, 1, 1, LTrim, "list"),
        new("LPOS", -3, CommandFlags.ReadOnly, 1, 1, 1, LPos, "list"),
        new("RPOPLPUSH", 3, WriteSlow, 1, 2, 1, RPopLPush, "list"),
        new("LMOVE", 5, WriteSlow, 1, 2, 1, LMove, "list"),
        new("LMPOP", -4, CommandFlags.Write, 0, 0, 0, LMPop, "list"),
        new("BLMPOP", -5, WriteBlocking, 0, 0, 0, BLMPop, "list"),
        new("BLPOP", -3, WriteBlocking, 1, -2, 1, BLPop, "list"),
        new("BRPOP", -3, WriteBlocking, 1, -2, 1, BRPop, "list"),
        new("BRPOPLPUSH", 4, WriteBlocking | CommandFlags.DenyOom, 1, 2, 1, BRPopLPush, "list"),
        new("BLMOVE", 6, WriteBlocking | CommandFlags.DenyOom, 1, 2, 1, BLMove, "list"),
    ];
}
