using Talus.Storage;
using Talus.Storage.Encoding;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>Type-agnostic key commands. Storage: Storage/Types/Keyspace.cs.</summary>
public static class KeyCommands
{
    private static void Del(CommandContext ctx)
    {
        long deleted = 0;
        for (var i = 1; i < ctx.Argc; i++)
        {
            if (ctx.Db.Keys.Delete(ctx.Args[i]))
            {
                deleted++;
            }
        }
        ctx.Writer.WriteInteger(deleted);
    }

    private static void Exists(CommandContext ctx)
    {
        long count = 0;
        for (var i = 1; i < ctx.Argc; i++)
        {
            if (ctx.Db.Keys.Exists(ctx.Args[i]))
            {
                count++;
            }
        }
        ctx.Writer.WriteInteger(count);
    }

    private static void Type(CommandContext ctx) => ctx.Writer.WriteSimpleString(TypeName(ctx.Db.Keys.TypeOf(ctx.Args[1])));

    public static string TypeName(RedisType type) => type switch
    {
        RedisType.String => "string",
        RedisType.Hash => "hash",
        RedisType.List => "list",
        RedisType.Set => "set",
        RedisType.ZSet => "zset",
        _ => "none",
    };

    private static RedisType? ParseTypeName(string name) => name.ToLowerInvariant() switch
    {
        "string" => RedisType.String,
        "hash" => RedisType.Hash,
        "list" => RedisType.List,
        "set" => RedisType.Set,
        "zset" => RedisType.ZSet,
        _ => null,
    };

    private static void Expire(CommandContext ctx) => ExpireCore(ctx, Expiration.Unit.Seconds);

    private static void PExpire(CommandContext ctx) => ExpireCore(ctx, Expiration.Unit.Milliseconds);

    private static void ExpireAt(CommandContext ctx) => ExpireCore(ctx, Expiration.Unit.UnixSeconds);

    private static void PExpireAt(CommandContext ctx) => ExpireCore(ctx, Expiration.Unit.UnixMilliseconds);

    private static void ExpireCore(CommandContext ctx, Expiration.Unit unit)
    {
        // Redis checks the flags before the time value.
        bool nx = false, xx = false, gt = false, lt = false;
        for (var i = 3; i < ctx.Argc; i++)
        {
            if (ctx.Args.Is(i, "NX"))
            {
                nx = true;
            }
            else if (ctx.Args.Is(i, "XX"))
            {
                xx = true;
            }
            else if (ctx.Args.Is(i, "GT"))
            {
                gt = true;
            }
            else if (ctx.Args.Is(i, "LT"))
            {
                lt = true;
            }
            else
            {
                ctx.WriteErrorQuoting("ERR Unsupported option ", i);
                return;
            }
        }
        if (nx && (xx || gt || lt))
        {
            ctx.Writer.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt)
        {
            ctx.Writer.WriteError("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!ctx.TryGetLong(2, out var value))
        {
            return;
        }
        if (!Expiration.TryToAbsolute(value, unit, out var at))
        {
            ctx.Writer.WriteError($"ERR invalid expire time in '{ctx.Command.Name.ToLowerInvariant()}' command");
            return;
        }
        var condition = nx ? ExpireCondition.IfNoExpiry
            : xx && gt ? ExpireCondition.IfGreater
            : xx && lt ? ExpireCondition.IfLessWithExpiry
            : xx ? ExpireCondition.IfHasExpiry
            : gt ? ExpireCondition.IfGreater
            : lt ? ExpireCondition.IfLess
            : ExpireCondition.Always;
        ctx.Writer.WriteInteger(ctx.Db.Keys.SetExpiry(ctx.Args[1], at, condition) ? 1 : 0);
    }

    private static void Ttl(CommandContext ctx)
    {
        var ms = ctx.Db.Keys.TtlMs(ctx.Args[1]);
        ctx.Writer.WriteInteger(ms < 0 ? ms : (ms + 500) / 1000);
    }

    private static void PTtl(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Db.Keys.TtlMs(ctx.Args[1]));

    private static void ExpireTime(CommandContext ctx)
    {
        var at = ctx.Db.Keys.ExpireAtMs(ctx.Args[1]);
        ctx.Writer.WriteInteger(at < 0 ? at : at / 1000);
    }

    private static void PExpireTime(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Db.Keys.ExpireAtMs(ctx.Args[1]));

    private static void Persist(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Db.Keys.Persist(ctx.Args[1]) ? 1 : 0);

    private static void Rename(CommandContext ctx)
    {
        var status = ctx.Db.Keys.Rename(ctx.Args.ToArray(1), ctx.Args.ToArray(2), onlyIfMissing: false);
        if (status == OpStatus.NotFound)
        {
            ctx.Writer.WriteError(Errors.NoSuchKey);
            return;
        }
        ctx.Server.Blocking.Signal(ctx.Db.Index, ctx.Args[2]); // a list renamed onto a key may serve its blocked clients
        ctx.Writer.WriteOk();
    }

    private static void RenameNx(CommandContext ctx)
    {
        var status = ctx.Db.Keys.Rename(ctx.Args.ToArray(1), ctx.Args.ToArray(2), onlyIfMissing: true);
        if (status == OpStatus.NotFound)
        {
            ctx.Writer.WriteError(Errors.NoSuchKey);
            return;
        }
        if (status == OpStatus.Ok)
        {
            ctx.Server.Blocking.Signal(ctx.Db.Index, ctx.Args[2]);
        }
        ctx.Writer.WriteInteger(status == OpStatus.Ok ? 1 : 0);
    }

    private static void Copy(CommandContext ctx)
    {
        var target = ctx.Db;
        var replace = false;
        for (var i = 3; i < ctx.Argc; i++)
        {
            if (ctx.Args.Is(i, "REPLACE"))
            {
                replace = true;
            }
            else if (ctx.Args.Is(i, "DB") && i + 1 < ctx.Argc)
            {
                if (!ctx.TryGetDbIndex(++i, out var index))
                {
                    return;
                }
                target = ctx.Server.Dataset[index];
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (target.Index == ctx.Db.Index && ctx.Args[1].SequenceEqual(ctx.Args[2]))
        {
            ctx.Writer.WriteError("ERR source and destination objects are the same");
            return;
        }
        var copied = ctx.Db.Keys.Copy(ctx.Args.ToArray(1), target, ctx.Args.ToArray(2), replace);
        if (copied)
        {
            ctx.Server.Blocking.Signal(target.Index, ctx.Args[2]);
        }
        ctx.Writer.WriteInteger(copied ? 1 : 0);
    }

    /// <summary>MOVE key db: to another logical database, keeping the expiry; 0 when the key is missing or exists there.</summary>
    private static void Move(CommandContext ctx)
    {
        if (!ctx.TryGetDbIndex(2, out var index))
        {
            return;
        }
        if (index == ctx.Db.Index)
        {
            ctx.Writer.WriteError(Errors.SameObject);
            return;
        }
        var target = ctx.Server.Dataset[index];
        var moved = ctx.Db.Keys.Move(ctx.Args.ToArray(1), target);
        if (moved)
        {
            ctx.Server.Blocking.Signal(target.Index, ctx.Args[1]); // a list or sorted set may serve clients blocked there
        }
        ctx.Writer.WriteInteger(moved ? 1 : 0);
    }

    private static void Keys(CommandContext ctx)
    {
        var keys = ctx.Db.Keys.Keys(ctx.Args[1]);
        ctx.Writer.WriteArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            ctx.Writer.WriteBulk(key);
        }
    }

    private static void Scan(CommandContext ctx)
    {
        if (!TryParseCursor(ctx, 1, out var cursor) || !TryParseScanOptions(ctx, 2, allowType: true, out var pattern, out var count, out var type))
        {
            return;
        }
        var page = ctx.Db.Keys.Scan(cursor, pattern, count, type);
        WriteScanPage(ctx, page);
    }

    /// <summary>Parses a SCAN-family cursor (an unsigned decimal), or writes "ERR invalid cursor".</summary>
    public static bool TryParseCursor(CommandContext ctx, int index, out long cursor)
    {
        if (!ulong.TryParse(ctx.Args[index], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            cursor = 0;
            ctx.Writer.WriteError(Errors.InvalidCursor);
            return false;
        }
        cursor = (long)value;
        return true;
    }

    /// <summary>Parses MATCH / COUNT (/ TYPE) options of SCAN, HSCAN, SSCAN and ZSCAN.</summary>
    public static bool TryParseScanOptions(CommandContext ctx, int start, bool allowType, out byte[] pattern, out long count, out RedisType type)
    {
        pattern = [];
        count = 10;
        type = RedisType.None;
        for (var i = start; i < ctx.Argc; i++)
        {
            var hasValue = i + 1 < ctx.Argc;
            if (ctx.Args.Is(i, "MATCH") && hasValue)
            {
                pattern = ctx.Args.ToArray(++i);
            }
            else if (ctx.Args.Is(i, "COUNT") && hasValue)
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
            else if (allowType && ctx.Args.Is(i, "TYPE") && hasValue)
            {
                // An unknown type matches nothing, as in Redis 7.0.
                type = ParseTypeName(ctx.Args.GetString(++i)) ?? (RedisType)255;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    public static void WriteScanPage(CommandContext ctx, ScanPage page)
    {
        ctx.Writer.WriteArrayHeader(2);
        ctx.Writer.WriteBulk(page.Cursor.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ctx.Writer.WriteArrayHeader(page.Items.Count);
        foreach (var item in page.Items)
        {
            ctx.Writer.WriteBulk(item);
        }
    }

    private static void RandomKey(CommandContext ctx) => StringCommands.WriteBulkOrNull(ctx.Writer, ctx.Db.Keys.RandomKey());

    /// <summary>
    /// DBSIZE is exact and O(keys). A dataset of up to <see cref="Host.KeyspaceStats.OnTheSpot"/> records is
    /// counted on the spot. A larger one is counted on a thread-pool thread while the connection waits (its
    /// earlier replies flushed), so the event thread serves the other connections meanwhile; the count holds
    /// the execution gate shared, as a command does. Inside EXEC or a script it is counted on the spot.
    /// </summary>
    private static void DbSize(CommandContext ctx)
    {
        var db = ctx.Db;
        if (ctx.Depth > 1)
        {
            ctx.Writer.WriteInteger(db.Keys.Count().Keys);
            return;
        }
        var dataset = ctx.Server.Dataset;
        long[] keys = new long[dataset.DatabaseCount], expires = new long[dataset.DatabaseCount];
        if (Keyspace.CountSlice(dataset.Engine, null, Host.KeyspaceStats.OnTheSpot, keys, expires, Database.NowMs) is null)
        {
            ctx.Writer.WriteInteger(keys[db.Index]);
            return;
        }
        ctx.Deferred = async () =>
        {
            try
            {
                var count = await Task.Run(() => ctx.Server.RunShared(() => db.Keys.Count().Keys)).ConfigureAwait(false);
                ctx.Writer.WriteInteger(count);
            }
            catch (RocksDbSharp.RocksDbException ex)
            {
                ctx.Writer.WriteError(CommandContext.StorageError(ex));
            }
        };
    }

    private static bool TryParseFlushMode(CommandContext ctx)
    {
        if (ctx.Argc == 1 || (ctx.Argc == 2 && (ctx.Args.Is(1, "ASYNC") || ctx.Args.Is(1, "SYNC"))))
        {
            return true;
        }
        ctx.SyntaxError();
        return false;
    }

    private static void FlushDb(CommandContext ctx)
    {
        if (TryParseFlushMode(ctx))
        {
            ctx.Db.Keys.Flush();
            ctx.Server.KeyspaceStats.Invalidate();
            ctx.Writer.WriteOk();
        }
    }

    private static void FlushAll(CommandContext ctx)
    {
        if (TryParseFlushMode(ctx))
        {
            Keyspace.FlushAll(ctx.Server.Dataset);
            ctx.Server.KeyspaceStats.Invalidate();
            ctx.Writer.WriteOk();
        }
    }

    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.Fast;

    public static readonly CommandDescriptor[] Table =
    [
        new("DEL", -2, CommandFlags.Write, 1, -1, 1, Del, "keyspace"),
        new("UNLINK", -2, CommandFlags.Write | CommandFlags.Fast, 1, -1, 1, Del, "keyspace"),
        new("EXISTS", -2, ReadFast, 1, -1, 1, Exists, "keyspace"),
        new("TOUCH", -2, ReadFast, 1, -1, 1, Exists, "keyspace"),
        new("TYPE", 2, ReadFast, 1, 1, 1, Type, "keyspace"),
        new("EXPIRE", -3, WriteFast, 1, 1, 1, Expire, "keyspace"),
        new("PEXPIRE", -3, WriteFast, 1, 1, 1, PExpire, "keyspace"),
        new("EXPIREAT", -3, WriteFast, 1, 1, 1, ExpireAt, "keyspace"),
        new("PEXPIREAT", -3, WriteFast, 1, 1, 1, PExpireAt, "keyspace"),
        new("EXPIRETIME", 2, ReadFast, 1, 1, 1, ExpireTime, "keyspace"),
        new("PEXPIRETIME", 2, ReadFast, 1, 1, 1, PExpireTime, "keyspace"),
        new("TTL", 2, ReadFast, 1, 1, 1, Ttl, "keyspace"),
        new("PTTL", 2, ReadFast, 1, 1, 1, PTtl, "keyspace"),
        new("PERSIST", 2, WriteFast, 1, 1, 1, Persist, "keyspace"),
        new("RENAME", 3, CommandFlags.Write, 1, 2, 1, Rename, "keyspace"),
        new("RENAMENX", 3, WriteFast, 1, 2, 1, RenameNx, "keyspace"),
        new("COPY", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, Copy, "keyspace"),
        new("MOVE", 3, WriteFast, 1, 1, 1, Move, "keyspace"),
        new("KEYS", 2, CommandFlags.ReadOnly, 0, 0, 0, Keys, "keyspace"),
        new("SCAN", -2, CommandFlags.ReadOnly, 0, 0, 0, Scan, "keyspace"),
        new("RANDOMKEY", 1, CommandFlags.ReadOnly, 0, 0, 0, RandomKey, "keyspace"),
        new("DBSIZE", 1, ReadFast, 0, 0, 0, DbSize, "keyspace"),
        new("FLUSHDB", -1, CommandFlags.Write, 0, 0, 0, FlushDb, "keyspace"),
        new("FLUSHALL", -1, CommandFlags.Write, 0, 0, 0, FlushAll, "keyspace"),
    ];
}
