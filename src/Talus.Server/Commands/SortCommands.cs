using Talus.Storage;
using Talus.Storage.Encoding;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>
/// SORT and SORT_RO, following Redis' sortCommandGeneric: the elements of a list, set or sorted set, by their
/// own value or by the value of other keys (BY pattern, "*" standing for the element, "key->field" reading a
/// hash field), numerically unless ALPHA, with LIMIT, GET patterns ("#" is the element itself) and STORE into a
/// list. Numeric ties are ordered by the elements' bytes, so the result is deterministic; ALPHA compares bytes
/// (Redis' strcoll in the C locale). The whole collection is read into memory, as the reply needs it. BY without
/// "*" sorts nothing: lists and sorted sets keep their order (reversed by DESC), sets come in member order.
/// </summary>
public static class SortCommands
{
    private sealed class Options
    {
        public bool Desc;
        public bool Alpha;
        public bool DontSort;
        public long LimitStart;
        public long LimitCount = -1;
        public byte[]? By;
        public int StoreAt = -1;
        public readonly List<byte[]> Gets = [];
    }

    private struct Item
    {
        public byte[] Element;
        public double Score;
        public byte[]? ByValue;
    }

    private static void Sort(CommandContext ctx) => Run(ctx, readOnly: false);

    private static void SortReadOnly(CommandContext ctx) => Run(ctx, readOnly: true);

    /// <summary>The argument index of SORT's STORE destination, or -1 (WATCH touches only that key).</summary>
    internal static int StoreIndex(Protocol.CommandArgs args)
    {
        var options = new Options();
        return TryParse(args, readOnly: false, options, out _) ? options.StoreAt : -1;
    }

    private static bool TryParse(Protocol.CommandArgs args, bool readOnly, Options options, out string? error)
    {
        error = null;
        for (var j = 2; j < args.Count; j++)
        {
            var left = args.Count - j - 1;
            if (args.Is(j, "ASC"))
            {
                options.Desc = false;
            }
            else if (args.Is(j, "DESC"))
            {
                options.Desc = true;
            }
            else if (args.Is(j, "ALPHA"))
            {
                options.Alpha = true;
            }
            else if (args.Is(j, "LIMIT") && left >= 2)
            {
                if (!args.TryGetLong(j + 1, out options.LimitStart) || !args.TryGetLong(j + 2, out options.LimitCount))
                {
                    error = Errors.NotInteger;
                    return false;
                }
                j += 2;
            }
            else if (!readOnly && args.Is(j, "STORE") && left >= 1)
            {
                options.StoreAt = j + 1;
                j++;
            }
            else if (args.Is(j, "BY") && left >= 1)
            {
                options.By = args.ToArray(j + 1);
                options.DontSort = args[j + 1].IndexOf((byte)'*') < 0;
                j++;
            }
            else if (args.Is(j, "GET") && left >= 1)
            {
                options.Gets.Add(args.ToArray(j + 1));
                j++;
            }
            else
            {
                error = Errors.Syntax;
                return false;
            }
        }
        return true;
    }

    private static void Run(CommandContext ctx, bool readOnly)
    {
        var options = new Options();
        if (!TryParse(ctx.Args, readOnly, options, out var error))
        {
            ctx.Writer.WriteError(error!);
            return;
        }
        var db = ctx.Db;
        var source = ctx.Args.ToArray(1);
        var destination = options.StoreAt >= 0 ? ctx.Args.ToArray(options.StoreAt) : null;
        // The source's stripe (and the destination's) for the whole command: no write can change the source
        // between its type and its elements, or land on the destination between the read and the store.
        using var locks = db.Locks.LockMany(db.Index, destination is null ? [source] : [source, destination]);
        var type = db.Keys.TypeOf(source);
        if (type is not (RedisType.None or RedisType.List or RedisType.Set or RedisType.ZSet))
        {
            ctx.WrongType();
            return;
        }
        if (options.DontSort && type == RedisType.Set && destination is not null)
        {
            // A set in no particular order is sorted when stored, as Redis does (the stored list must not
            // depend on a hash table's order).
            options.DontSort = false;
            options.Alpha = true;
            options.By = null;
        }
        var elements = Load(db, source, type);
        var count = elements.Count;
        // Clamped to the collection's size first, as Redis does, so that no sum overflows.
        var start = Math.Min(Math.Max(options.LimitStart, 0), count);
        var limitCount = Math.Min(Math.Max(options.LimitCount, -1), count);
        var end = limitCount < 0 ? count - 1 : start + limitCount - 1;
        if (start >= count)
        {
            start = count - 1;
            end = count - 2;
        }
        if (end >= count)
        {
            end = count - 1;
        }
        var items = new Item[count];
        for (var i = 0; i < count; i++)
        {
            items[i].Element = elements[i];
        }
        if (options.DontSort)
        {
            if (options.Desc && type is RedisType.List or RedisType.ZSet)
            {
                Array.Reverse(items);
            }
        }
        else if (!TryWeigh(db, items, options))
        {
            ctx.Writer.WriteError("ERR One or more scores can't be converted into double");
            return;
        }
        else
        {
            Array.Sort(items, Comparer(options));
        }

        var output = new List<byte[]?>();
        for (var j = start; j <= end; j++)
        {
            var element = items[j].Element;
            if (options.Gets.Count == 0)
            {
                output.Add(element);
            }
            foreach (var pattern in options.Gets)
            {
                output.Add(LookupByPattern(db, pattern, element));
            }
        }
        if (destination is null)
        {
            ctx.Writer.WriteArrayHeader(output.Count);
            foreach (var value in output)
            {
                if (value is null)
                {
                    ctx.Writer.WriteNull();
                }
                else
                {
                    ctx.Writer.WriteBulk(value);
                }
            }
            return;
        }
        // A GET that found nothing stores an empty string, as in Redis.
        var stored = output.Select(v => v ?? []).ToList();
        db.Lists.Store(destination, stored);
        if (stored.Count > 0)
        {
            ctx.SignalKey(db.Index, destination);
        }
        ctx.Writer.WriteInteger(stored.Count);
    }

    /// <summary>The elements in the collection's own order (list order, members' byte order, sorted-set order).</summary>
    private static List<byte[]> Load(Database db, byte[] key, RedisType type)
    {
        switch (type)
        {
            case RedisType.List:
                db.Lists.Range(key, 0, -1, out var values);
                return values.ToList();
            case RedisType.Set:
                db.Sets.Members(key, out var members);
                return members;
            case RedisType.ZSet:
                var entries = new List<ZEntry>();
                db.ZSets.Range(key, new ZRangeQuery { Kind = ZRangeKind.Rank, Start = 0, Stop = -1 }, entries);
                return entries.Select(e => e.Member).ToList();
            default:
                return [];
        }
    }

    /// <summary>Each item's sort value: its BY key's value (missing: 0, or null for ALPHA), else itself. False on a non-number.</summary>
    private static bool TryWeigh(Database db, Item[] items, Options options)
    {
        for (var i = 0; i < items.Length; i++)
        {
            byte[]? value;
            if (options.By is { } by)
            {
                value = LookupByPattern(db, by, items[i].Element);
                if (value is null)
                {
                    continue;
                }
            }
            else
            {
                value = items[i].Element;
            }
            if (options.Alpha)
            {
                items[i].ByValue = options.By is null ? null : value;
            }
            else if (!TryParseScore(value, out items[i].Score))
            {
                return false;
            }
        }
        return true;
    }

    private static IComparer<Item> Comparer(Options options) => Comparer<Item>.Create((a, b) =>
    {
        int cmp;
        if (!options.Alpha)
        {
            cmp = a.Score > b.Score ? 1 : a.Score < b.Score ? -1 : a.Element.AsSpan().SequenceCompareTo(b.Element);
        }
        else if (options.By is not null)
        {
            cmp = a.ByValue is null || b.ByValue is null
                ? (a.ByValue is null ? (b.ByValue is null ? 0 : -1) : 1)
                : a.ByValue.AsSpan().SequenceCompareTo(b.ByValue);
        }
        else
        {
            cmp = a.Element.AsSpan().SequenceCompareTo(b.Element);
        }
        return options.Desc ? -cmp : cmp;
    });

    /// <summary>
    /// Redis' lookupKeyByPattern: "#" is the element; otherwise the first "*" is replaced by it, and a "->field"
    /// after the "*" reads that field of a hash. Null when the pattern has no "*", the key is missing, or of
    /// another type.
    /// </summary>
    private static byte[]? LookupByPattern(Database db, byte[] pattern, byte[] element)
    {
        if (pattern is [(byte)'#'])
        {
            return element;
        }
        var star = Array.IndexOf(pattern, (byte)'*');
        if (star < 0)
        {
            return null;
        }
        var arrow = pattern.AsSpan(star + 1).IndexOf("->"u8);
        var field = arrow >= 0 && star + 1 + arrow + 2 < pattern.Length ? pattern[(star + 1 + arrow + 2)..] : null;
        var keyEnd = field is null ? pattern.Length : star + 1 + arrow;
        var key = new byte[star + element.Length + (keyEnd - star - 1)];
        pattern.AsSpan(0, star).CopyTo(key);
        element.CopyTo(key, star);
        pattern.AsSpan(star + 1, keyEnd - star - 1).CopyTo(key.AsSpan(star + element.Length));
        if (field is null)
        {
            return db.Strings.GetCopy(key, out var lookup) is { } value && lookup == KeyLookup.Found ? value : null;
        }
        return db.Hashes.Get(key, field, out var fieldValue) == OpStatus.Ok ? fieldValue : null;
    }

    /// <summary>
    /// Redis' test on each sort value: strtod must stop at the end of the C string (so "" is 0, leading white
    /// space is fine, trailing bytes are not), with no ERANGE (which strtod also sets for a subnormal result)
    /// and no NaN.
    /// </summary>
    private static bool TryParseScore(byte[] value, out double score)
    {
        var consumed = Strtod.Parse(value, out score, out var rangeError);
        var subnormal = score != 0 && Math.Abs(score) < SmallestNormal;
        return (consumed == value.Length || value[consumed] == 0) && !rangeError && !subnormal && !double.IsNaN(score);
    }

    private const double SmallestNormal = 2.2250738585072014E-308;

    public static readonly CommandDescriptor[] Table =
    [
        new("SORT", -2, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, Sort, "generic"),
        new("SORT_RO", -2, CommandFlags.ReadOnly, 1, 1, 1, SortReadOnly, "generic"),
    ];
}
