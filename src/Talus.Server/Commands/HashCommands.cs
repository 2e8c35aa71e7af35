using Talus.Protocol;
using Talus.Storage;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>Hash commands (Redis 7.0 semantics). Storage: Storage/Types/RedisHash.cs.</summary>
public static class HashCommands
{
    private const string HashValueNotInteger = "ERR hash value is not an integer";
    private const string HashValueNotFloat = "ERR hash value is not a float";
    private const string IncrementNotFinite = "ERR value is NaN or Infinity";
    private const string CountOutOfRange = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    private const string WithValuesCountOutOfRange = "ERR value is out of range";

    private static void HSet(CommandContext ctx)
    {
        if (TrySetPairs(ctx, out var added))
        {
            ctx.Writer.WriteInteger(added);
        }
    }

    private static void HMSet(CommandContext ctx)
    {
        if (TrySetPairs(ctx, out _))
        {
            ctx.Writer.WriteOk();
        }
    }

    /// <summary>Shared by HSET and HMSET: checks the pairs, writes them, or writes the error.</summary>
    private static bool TrySetPairs(CommandContext ctx, out long added)
    {
        added = 0;
        if (ctx.Argc % 2 == 1)
        {
            ctx.WrongArity();
            return false;
        }
        OpStatus status;
        if (ctx.Argc == 4)
        {
            // One field (redis-benchmark's HSET, and most clients'): nothing copied out of the arguments.
            status = ctx.Db.Hashes.SetOne(ctx.Args[1], ctx.Args[2], ctx.Args[3], out added);
        }
        else
        {
            var pairs = new List<KeyValuePair<byte[], byte[]>>((ctx.Argc - 2) / 2);
            for (var i = 2; i < ctx.Argc; i += 2)
            {
                pairs.Add(new(ctx.Args.ToArray(i), ctx.Args.ToArray(i + 1)));
            }
            status = ctx.Db.Hashes.Set(ctx.Args[1], pairs, out added);
        }
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return false;
        }
        // Redis counts every HSET as a modification of the key, even one that wrote no field (all held their value).
        ctx.ModifiedWithoutWrite = true;
        return true;
    }

    private static void HSetNx(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.SetIfMissing(ctx.Args[1], ctx.Args[2], ctx.Args[3], out var set);
        WriteIntegerOrError(ctx, status, set ? 1 : 0);
    }

    private static void HGet(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.Get(ctx.Args[1], ctx.Args[2], out var value);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        StringCommands.WriteBulkOrNull(ctx.Writer, value);
    }

    private static void HMGet(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.GetMany(ctx.Args[1], ArgsFrom(ctx, 2), out var values);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        ctx.Writer.WriteArrayHeader(values.Length);
        foreach (var value in values)
        {
            StringCommands.WriteBulkOrNull(ctx.Writer, value);
        }
    }

    private static void HGetAll(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.GetAll(ctx.Args[1], HashParts.Both, out var items);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        ctx.Writer.WriteMapHeader(items.Count / 2);
        WriteBulks(ctx.Writer, items);
    }

    private static void HKeys(CommandContext ctx) => WriteParts(ctx, HashParts.Fields);

    private static void HVals(CommandContext ctx) => WriteParts(ctx, HashParts.Values);

    private static void WriteParts(CommandContext ctx, HashParts parts)
    {
        var status = ctx.Db.Hashes.GetAll(ctx.Args[1], parts, out var items);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        ctx.Writer.WriteArrayHeader(items.Count);
        WriteBulks(ctx.Writer, items);
    }

    private static void HDel(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.Delete(ctx.Args[1], ArgsFrom(ctx, 2), out var removed);
        WriteIntegerOrError(ctx, status, removed);
    }

    private static void HLen(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.Count(ctx.Args[1], out var count);
        WriteIntegerOrError(ctx, status, count);
    }

    private static void HExists(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.ValueLength(ctx.Args[1], ctx.Args[2], out _);
        WriteIntegerOrError(ctx, status == OpStatus.NotFound ? OpStatus.Ok : status, status == OpStatus.Ok ? 1 : 0);
    }

    private static void HStrLen(CommandContext ctx)
    {
        var status = ctx.Db.Hashes.ValueLength(ctx.Args[1], ctx.Args[2], out var length);
        WriteIntegerOrError(ctx, status == OpStatus.NotFound ? OpStatus.Ok : status, length);
    }

    private static void HIncrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(3, out var delta))
        {
            return;
        }
        var status = ctx.Db.Hashes.IncrBy(ctx.Args[1], ctx.Args[2], delta, out var result);
        switch (status)
        {
            case OpStatus.Ok:
                ctx.Writer.WriteInteger(result);
                break;
            case OpStatus.NotInteger:
                ctx.Writer.WriteError(HashValueNotInteger);
                break;
            default:
                ctx.WriteStatusError(status);
                break;
        }
    }

    private static void HIncrByFloat(CommandContext ctx)
    {
        if (!LongDouble.TryParse(ctx.Args[3], out var delta))
        {
            ctx.Writer.WriteError(Errors.NotFloat);
            return;
        }
        if (!delta.IsFinite)
        {
            ctx.Writer.WriteError(IncrementNotFinite);
            return;
        }
        var status = ctx.Db.Hashes.IncrByFloat(ctx.Args[1], ctx.Args[2], delta, out var result);
        switch (status)
        {
            case OpStatus.Ok:
                ctx.Writer.WriteBulk(result);
                break;
            case OpStatus.NotFloat:
                ctx.Writer.WriteError(HashValueNotFloat);
                break;
            default:
                ctx.WriteStatusError(status);
                break;
        }
    }

    private static void HRandField(CommandContext ctx)
    {
        if (ctx.Argc == 2)
        {
            var single = ctx.Db.Hashes.RandomFields(ctx.Args[1], 1, false, out var one);
            if (single != OpStatus.Ok)
            {
                ctx.WriteStatusError(single);
                return;
            }
            StringCommands.WriteBulkOrNull(ctx.Writer, one.Elements.Count > 0 ? one.Elements[0].Key : null);
            return;
        }
        if (!TryParseRandomCount(ctx, out var count))
        {
            return;
        }
        var withValues = ctx.Argc == 4;
        if (ctx.Argc > 4 || (withValues && !ctx.Args.Is(3, "WITHVALUES")))
        {
            ctx.SyntaxError();
            return;
        }
        if (withValues && (count < -long.MaxValue / 2 || count > long.MaxValue / 2))
        {
            ctx.Writer.WriteError(WithValuesCountOutOfRange);
            return;
        }
        var status = ctx.Db.Hashes.RandomFields(ctx.Args[1], count, withValues, out var sample);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        // RESP2 flattens field, value pairs; RESP3 nests each pair in its own array.
        var resp3 = ctx.Writer.Version == RespVersion.Resp3;
        ctx.Writer.WriteArrayHeader(withValues && !resp3 ? sample.Count * 2 : sample.Count);
        foreach (var (field, value) in Picks(sample))
        {
            if (withValues && resp3)
            {
                ctx.Writer.WriteArrayHeader(2);
            }
            ctx.Writer.WriteBulk(field);
            if (withValues)
            {
                ctx.Writer.WriteBulk(value);
            }
        }
    }

    /// <summary>The count of HRANDFIELD and SRANDMEMBER: any integer but long.MinValue (Redis takes -LONG_MAX..LONG_MAX).</summary>
    internal static bool TryParseRandomCount(CommandContext ctx, out long count)
    {
        if (!ctx.TryGetLong(2, out count))
        {
            return false;
        }
        if (count == long.MinValue)
        {
            ctx.Writer.WriteError(CountOutOfRange);
            return false;
        }
        return true;
    }

    /// <summary>The elements a random reply consists of: the sample itself, or Draws uniform picks from it.</summary>
    internal static IEnumerable<KeyValuePair<byte[], byte[]>> Picks(ElementSample sample)
    {
        if (sample.Draws == 0)
        {
            foreach (var element in sample.Elements)
            {
                yield return element;
            }
            yield break;
        }
        for (long i = 0; i < sample.Draws; i++)
        {
            yield return sample.Elements[Random.Shared.Next(sample.Elements.Count)];
        }
    }

    private static void HScan(CommandContext ctx)
    {
        if (!KeyCommands.TryParseCursor(ctx, 2, out var cursor) || !TryCheckScanKey(ctx, Storage.Encoding.RedisType.Hash))
        {
            return;
        }
        if (!KeyCommands.TryParseScanOptions(ctx, 3, allowType: false, out var pattern, out var count, out _))
        {
            return;
        }
        var status = ctx.Db.Hashes.Scan(ctx.Args[1], cursor, pattern, count, out var page);
        if (status != OpStatus.Ok)
        {
            ctx.WriteStatusError(status);
            return;
        }
        KeyCommands.WriteScanPage(ctx, page);
    }

    /// <summary>
    /// HSCAN / SSCAN look at the key before their options, as Redis does: a missing key answers an empty
    /// page whatever the options say, another type answers WRONGTYPE. Returns true when the scan should go on.
    /// </summary>
    internal static bool TryCheckScanKey(CommandContext ctx, Storage.Encoding.RedisType type)
    {
        var actual = ctx.Db.Keys.TypeOf(ctx.Args[1]);
        if (actual == Storage.Encoding.RedisType.None)
        {
            KeyCommands.WriteScanPage(ctx, new ScanPage(0, []));
            return false;
        }
        if (actual != type)
        {
            ctx.WrongType();
            return false;
        }
        return true;
    }

    internal static List<byte[]> ArgsFrom(CommandContext ctx, int start)
    {
        var list = new List<byte[]>(ctx.Argc - start);
        for (var i = start; i < ctx.Argc; i++)
        {
            list.Add(ctx.Args.ToArray(i));
        }
        return list;
    }

    internal static void WriteBulks(RespWriter writer, List<byte[]> items)
    {
        foreach (var item in items)
        {
            writer.WriteBulk(item);
        }
    }

    internal static void WriteIntegerOrError(CommandContext ctx, OpStatus status, long value)
    {
        if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteInteger(value);
        }
        else
        {
            ctx.WriteStatusError(status);
        }
    }

    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;

    public static readonly CommandDescriptor[] Table =
    [
        new("HSET", -4, WriteFast, 1, 1, 1, HSet, "hash") { GroupsReadModifyWrite = true },
        new("HSETNX", 4, WriteFast, 1, 1, 1, HSetNx, "hash") { GroupsReadModifyWrite = true },
        new("HMSET", -4, WriteFast, 1, 1, 1, HMSet, "hash") { GroupsReadModifyWrite = true },
        new("HGET", 3, ReadFast, 1, 1, 1, HGet, "hash"),
        new("HMGET", -3, ReadFast, 1, 1, 1, HMGet, "hash"),
        new("HGETALL", 2, CommandFlags.ReadOnly, 1, 1, 1, HGetAll, "hash"),
        new("HKEYS", 2, CommandFlags.ReadOnly, 1, 1, 1, HKeys, "hash"),
        new("HVALS", 2, CommandFlags.ReadOnly, 1, 1, 1, HVals, "hash"),
        new("HDEL", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, HDel, "hash") { GroupsReadModifyWrite = true },
        new("HLEN", 2, ReadFast, 1, 1, 1, HLen, "hash"),
        new("HEXISTS", 3, ReadFast, 1, 1, 1, HExists, "hash"),
        new("HSTRLEN", 3, ReadFast, 1, 1, 1, HStrLen, "hash"),
        new("HINCRBY", 4, WriteFast, 1, 1, 1, HIncrBy, "hash") { GroupsReadModifyWrite = true },
        new("HINCRBYFLOAT", 4, WriteFast, 1, 1, 1, HIncrByFloat, "hash") { GroupsReadModifyWrite = true },
        new("HRANDFIELD", -2, CommandFlags.ReadOnly, 1, 1, 1, HRandField, "hash"),
        new("HSCAN", -3, CommandFlags.ReadOnly, 1, 1, 1, HScan, "hash"),
    ];
}
