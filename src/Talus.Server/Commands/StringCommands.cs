using Talus.Protocol;
using Talus.Storage;
using Talus.Storage.Engine;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>String commands (Redis 7 semantics); bit commands in StringCommands.Bits.cs. Storage: Storage/Types/RedisString.cs.</summary>
public static partial class StringCommands
{
    private static void Get(CommandContext ctx)
    {
        var found = ctx.Db.Strings.Get(ctx.Args[1], out var value);
        switch (found)
        {
            case KeyLookup.Found:
                Interlocked.Increment(ref ctx.Server.Stats.KeyspaceHits);
                ctx.Writer.WriteBulk(value);
                break;
            case KeyLookup.WrongType:
                ctx.WrongType();
                break;
            default:
                Interlocked.Increment(ref ctx.Server.Stats.KeyspaceMisses);
                ctx.Writer.WriteNull();
                break;
        }
    }

    private static void Set(CommandContext ctx)
    {
        var args = ctx.Args;
        if (!TryParseStringOptions(ctx, 3, isSet: true, out var options, out var expireIndex))
        {
            return;
        }
        long expireAt = 0;
        if (expireIndex > 0 && !TryGetExpireAt(ctx, expireIndex, options, out expireAt))
        {
            return;
        }
        var condition = (options & StringOptions.Nx) != 0 ? SetCondition.IfMissing
            : (options & StringOptions.Xx) != 0 ? SetCondition.IfExists
            : SetCondition.Always;
        var keepTtl = (options & StringOptions.KeepTtl) != 0;
        var returnOld = (options & StringOptions.Get) != 0;
        if (condition == SetCondition.Always && !keepTtl && !returnOld)
        {
            // A plain SET reads nothing, so it can join the pipeline's group commit; its +OK is held until the
            // group is committed (or becomes the storage error if that fails).
            if (ctx.TryGetWriteGroup(out var group) && ctx.Db.Strings.Set(args[1], args[2], expireAt, group))
            {
                ctx.HeldReplies.HoldOk(ctx.Writer);
                return;
            }
            if (!ctx.CommitWrites())
            {
                return;
            }
            ctx.Db.Strings.Set(args[1], args[2], expireAt);
            ctx.Writer.WriteOk();
            return;
        }
        // NX/XX/GET/KEEPTTL read the key: they must see this connection's pending writes.
        if (!ctx.CommitWrites())
        {
            return;
        }
        var status = ctx.Db.Strings.Set(args[1], args[2], expireAt, condition, keepTtl, returnOld, out var old);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
        }
        else if (returnOld)
        {
            WriteBulkOrNull(ctx.Writer, old);
        }
        else if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteOk();
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    private static void SetNx(CommandContext ctx)
    {
        var status = ctx.Db.Strings.Set(ctx.Args[1], ctx.Args[2], 0, SetCondition.IfMissing, false, false, out _);
        ctx.Writer.WriteInteger(status == OpStatus.Ok ? 1 : 0);
    }

    private static void SetEx(CommandContext ctx) => SetWithExpiry(ctx, Expiration.Unit.Seconds);

    private static void PSetEx(CommandContext ctx) => SetWithExpiry(ctx, Expiration.Unit.Milliseconds);

    private static void SetWithExpiry(CommandContext ctx, Expiration.Unit unit)
    {
        if (!Expiration.TryParsePositive(ctx, 2, unit, out var expireAt))
        {
            return;
        }
        ctx.Db.Strings.Set(ctx.Args[1], ctx.Args[3], expireAt);
        ctx.Writer.WriteOk();
    }

    private static void GetSet(CommandContext ctx)
    {
        var status = ctx.Db.Strings.Set(ctx.Args[1], ctx.Args[2], 0, SetCondition.Always, false, true, out var old);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        WriteBulkOrNull(ctx.Writer, old);
    }

    private static void GetDel(CommandContext ctx)
    {
        var status = ctx.Db.Strings.GetDel(ctx.Args[1], out var value);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        WriteBulkOrNull(ctx.Writer, value);
    }

    private static void GetEx(CommandContext ctx)
    {
        var args = ctx.Args;
        if (!TryParseStringOptions(ctx, 2, isSet: false, out var options, out var expireIndex))
        {
            return;
        }
        // Redis looks the key up before it checks the expiry value: a missing key answers nil whatever it is.
        var lookup = ctx.Db.Strings.Get(args[1], out _);
        if (lookup != KeyLookup.Found)
        {
            if (lookup == KeyLookup.WrongType)
            {
                ctx.WrongType();
            }
            else
            {
                ctx.Writer.WriteNull();
            }
            return;
        }
        long? expireAt = null;
        if (expireIndex > 0)
        {
            if (!TryGetExpireAt(ctx, expireIndex, options, out var at))
            {
                return;
            }
            expireAt = at;
        }
        var status = ctx.Db.Strings.GetEx(args[1], expireAt, (options & StringOptions.Persist) != 0, out var value);
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        WriteBulkOrNull(ctx.Writer, value);
    }

    private static void MGet(CommandContext ctx)
    {
        ctx.Writer.WriteArrayHeader(ctx.Argc - 1);
        for (var i = 1; i < ctx.Argc; i++)
        {
            if (ctx.Db.Strings.Get(ctx.Args[i], out var value) == KeyLookup.Found)
            {
                ctx.Writer.WriteBulk(value);
            }
            else
            {
                ctx.Writer.WriteNull();
            }
        }
    }

    private static void MSet(CommandContext ctx) => MSetCore(ctx, false);

    private static void MSetNx(CommandContext ctx) => MSetCore(ctx, true);

    private static void MSetCore(CommandContext ctx, bool onlyIfNoneExist)
    {
        if (ctx.Argc % 2 == 0)
        {
            ctx.WrongArity();
            return;
        }
        if (!onlyIfNoneExist && TryGroupMSet(ctx))
        {
            return;
        }
        if (!ctx.CommitWrites())
        {
            return;
        }
        var pairs = new List<(byte[], byte[])>((ctx.Argc - 1) / 2);
        for (var i = 1; i < ctx.Argc; i += 2)
        {
            pairs.Add((ctx.Args.ToArray(i), ctx.Args.ToArray(i + 1)));
        }
        var done = ctx.Db.Strings.SetMany(pairs, onlyIfNoneExist);
        if (onlyIfNoneExist)
        {
            ctx.Writer.WriteInteger(done ? 1 : 0);
        }
        else
        {
            ctx.Writer.WriteOk();
        }
    }

    /// <summary>
    /// MSET reads nothing, like a plain SET: its pairs join the pipeline's write group together (one batch, so the
    /// command stays atomic) and its +OK is held until the group is written. False when it cannot join (no group,
    /// or a value too large to group): nothing was added then.
    /// </summary>
    private static bool TryGroupMSet(CommandContext ctx)
    {
        var args = ctx.Args;
        for (var i = 2; i < ctx.Argc; i += 2)
        {
            if (args[i].Length >= WriteGroup.MaxValueBytes)
            {
                return false;
            }
        }
        if (!ctx.TryGetWriteGroup(out var group))
        {
            return false;
        }
        for (var i = 1; i < ctx.Argc; i += 2)
        {
            ctx.Db.Strings.SetInGroup(args[i], args[i + 1], group);
        }
        group.CommandAdded();
        ctx.HeldReplies.HoldOk(ctx.Writer);
        return true;
    }

    private static void Append(CommandContext ctx)
    {
        var status = ctx.Db.Strings.Append(ctx.Args[1], ctx.Args[2], ctx.Server.Options.ProtoMaxBulkLen, out var length);
        WriteLengthOrError(ctx, status, length);
    }

    private static void StrLen(CommandContext ctx)
    {
        switch (ctx.Db.Strings.Get(ctx.Args[1], out var value))
        {
            case KeyLookup.WrongType:
                ctx.WrongType();
                break;
            case KeyLookup.Found:
                ctx.Writer.WriteInteger(value.Length);
                break;
            default:
                ctx.Writer.WriteInteger(0);
                break;
        }
    }

    private static void Incr(CommandContext ctx) => IncrByCore(ctx, 1);

    private static void Decr(CommandContext ctx) => IncrByCore(ctx, -1);

    private static void IncrBy(CommandContext ctx)
    {
        if (ctx.TryGetLong(2, out var delta))
        {
            IncrByCore(ctx, delta);
        }
    }

    private static void DecrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var delta))
        {
            return;
        }
        if (delta == long.MinValue)
        {
            ctx.Writer.WriteError("ERR decrement would overflow");
            return;
        }
        IncrByCore(ctx, -delta);
    }

    private static void IncrByCore(CommandContext ctx, long delta)
    {
        var status = ctx.Db.Strings.IncrBy(ctx.Args[1], delta, out var result);
        if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteInteger(result);
        }
        else
        {
            ctx.WriteStatusError(status);
        }
    }

    private static void IncrByFloat(CommandContext ctx)
    {
        var status = ctx.Db.Strings.IncrByFloat(ctx.Args[1], ctx.Args[2], out var result);
        if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteBulk(result);
        }
        else
        {
            ctx.WriteStatusError(status);
        }
    }

    private static void GetRange(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var start) || !ctx.TryGetLong(3, out var end))
        {
            return;
        }
        var found = ctx.Db.Strings.Get(ctx.Args[1], out var value);
        if (found == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        var length = value.Length;
        if (start < 0 && end < 0 && start > end)
        {
            ctx.Writer.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0)
        {
            start = Math.Max(0, length + start);
        }
        if (end < 0)
        {
            end = Math.Max(0, length + end);
        }
        end = Math.Min(end, length - 1);
        if (start > end || length == 0)
        {
            ctx.Writer.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        ctx.Writer.WriteBulk(value.Slice((int)start, (int)(end - start + 1)));
    }

    private static void SetRange(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var offset))
        {
            return;
        }
        if (offset < 0)
        {
            ctx.Writer.WriteError(Errors.OffsetOutOfRange);
            return;
        }
        var status = ctx.Db.Strings.SetRange(ctx.Args[1], offset, ctx.Args[3], ctx.Server.Options.ProtoMaxBulkLen, out var length);
        WriteLengthOrError(ctx, status, length);
    }

    private static void WriteLengthOrError(CommandContext ctx, OpStatus status, long length)
    {
        if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteInteger(length);
        }
        else
        {
            ctx.WriteStatusError(status);
        }
    }

    internal static void WriteBulkOrNull(RespWriter writer, byte[]? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteBulk(value);
        }
    }

    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags WriteSlow = CommandFlags.Write | CommandFlags.DenyOom;

    public static readonly CommandDescriptor[] Table =
    [
        new("GET", 2, ReadFast, 1, 1, 1, Get, "string"),
        new("SET", -3, WriteSlow, 1, 1, 1, Set, "string") { GroupsWrites = true },
        new("SETNX", 3, WriteFast, 1, 1, 1, SetNx, "string") { GroupsReadModifyWrite = true },
        new("SETEX", 4, WriteSlow, 1, 1, 1, SetEx, "string"),
        new("PSETEX", 4, WriteSlow, 1, 1, 1, PSetEx, "string"),
        new("GETSET", 3, WriteFast, 1, 1, 1, GetSet, "string"),
        new("GETDEL", 2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, GetDel, "string"),
        new("GETEX", -2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, GetEx, "string"),
        new("MGET", -2, ReadFast, 1, -1, 1, MGet, "string"),
        new("MSET", -3, WriteSlow, 1, -1, 2, MSet, "string") { GroupsWrites = true },
        new("MSETNX", -3, WriteSlow, 1, -1, 2, MSetNx, "string"),
        new("APPEND", 3, WriteFast, 1, 1, 1, Append, "string") { GroupsReadModifyWrite = true },
        new("STRLEN", 2, ReadFast, 1, 1, 1, StrLen, "string"),
        new("INCR", 2, WriteFast, 1, 1, 1, Incr, "string") { GroupsReadModifyWrite = true },
        new("DECR", 2, WriteFast, 1, 1, 1, Decr, "string") { GroupsReadModifyWrite = true },
        new("INCRBY", 3, WriteFast, 1, 1, 1, IncrBy, "string") { GroupsReadModifyWrite = true },
        new("DECRBY", 3, WriteFast, 1, 1, 1, DecrBy, "string") { GroupsReadModifyWrite = true },
        new("INCRBYFLOAT", 3, WriteFast, 1, 1, 1, IncrByFloat, "string") { GroupsReadModifyWrite = true },
        new("GETRANGE", 4, CommandFlags.ReadOnly, 1, 1, 1, GetRange, "string"),
        new("SUBSTR", 4, CommandFlags.ReadOnly, 1, 1, 1, GetRange, "string"),
        new("SETRANGE", 4, WriteSlow, 1, 1, 1, SetRange, "string"),
        new("SETBIT", 4, WriteSlow, 1, 1, 1, SetBit, "bitmap"),
        new("GETBIT", 3, ReadFast, 1, 1, 1, GetBit, "bitmap"),
        new("BITCOUNT", -2, CommandFlags.ReadOnly, 1, 1, 1, BitCount, "bitmap"),
        new("BITPOS", -3, CommandFlags.ReadOnly, 1, 1, 1, BitPos, "bitmap"),
        new("BITOP", -4, WriteSlow, 2, -1, 1, BitOp, "bitmap"),
    ];
}
