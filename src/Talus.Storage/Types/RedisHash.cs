using System.Buffers.Text;
using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>Which parts of a hash's entries HGETALL, HKEYS and HVALS return.</summary>
public enum HashParts
{
    Fields, // HKEYS
    Values, // HVALS
    Both,   // HGETALL: field, value, field, value ...
}

/// <summary>
/// Hashes: each field is a sub-key <c>[db][key length][key][version][field]</c> in the <c>sub</c> column family
/// whose value is the field's value; the metadata record holds the version and the field count (HLEN is O(1)).
/// See <see cref="SubKeyCollection"/> for the locking and batching rules.
/// </summary>
public sealed class RedisHash : SubKeyCollection
{
    internal RedisHash(Database db) : base(db, RedisType.Hash)
    {
    }

    /// <summary>
    /// HSET / HMSET: sets every pair (a later duplicate field wins) and counts the fields that were new. A field
    /// that already holds the value given is not written again: the reply, the data and the key's watchers
    /// (touched by the command, not by the write) are the same, and the write would cost a memtable insert, WAL
    /// and binlog bytes for nothing. A field given twice in one command is always written the second time.
    /// </summary>
    public OpStatus Set(ReadOnlySpan<byte> key, IReadOnlyList<KeyValuePair<byte[], byte[]>> pairs, out long added)
    {
        added = 0;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var batch = ThreadBuffers.Batch();
            HashSet<byte[]>? seen = pairs.Count > 1 ? new(ByteArrayComparer.Instance) : null;
            var writes = false;
            foreach (var (field, value) in pairs)
            {
                var subKey = SubKey(key, meta, field);
                if (seen is null || seen.Add(field))
                {
                    if (found == KeyLookup.Missing || !Engine.TryGet(Engine.Sub, subKey, out var stored))
                    {
                        added++;
                    }
                    else if (stored.SequenceEqual(value))
                    {
                        continue;
                    }
                }
                batch.Put(subKey, value, Engine.Sub);
                writes = true;
            }
            if (added > 0)
            {
                meta.Size += added;
                PutMeta(batch, key, meta);
            }
            if (writes)
            {
                Engine.Write(batch);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// HSET of one field, the common case, as <see cref="Set"/> does it but with the field and value read from the
    /// command's arguments in place and the field's sub-key built on the stack: nothing allocated per command.
    /// </summary>
    public OpStatus SetOne(ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, out long added)
    {
        added = 0;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            using var subKey = StackSubKey(key, meta, field, stackalloc byte[256]);
            if (found == KeyLookup.Missing || !Engine.TryGet(Engine.Sub, subKey.Key, out var stored))
            {
                added = 1;
            }
            else if (stored.SequenceEqual(value))
            {
                return OpStatus.Ok;
            }
            var batch = ThreadBuffers.Batch();
            batch.Put(subKey.Key, value, Engine.Sub);
            if (added > 0)
            {
                meta.Size++;
                PutMeta(batch, key, meta);
            }
            Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>HSETNX: sets the field only when it does not exist; <paramref name="set"/> tells whether it did.</summary>
    public OpStatus SetIfMissing(ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, out bool set)
    {
        set = false;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var subKey = SubKey(key, meta, field);
            if (found == KeyLookup.Found && Exists(subKey))
            {
                return OpStatus.Ok;
            }
            var batch = ThreadBuffers.Batch();
            batch.Put(subKey, value, Engine.Sub);
            meta.Size++;
            PutMeta(batch, key, meta);
            Engine.Write(batch);
            set = true;
            return OpStatus.Ok;
        }
    }

    /// <summary>HGET: the field's value, or null (status Ok) when the key or the field is missing.</summary>
    public OpStatus Get(ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, out byte[]? value)
    {
        value = null;
        var found = Db.Lookup(key, RedisType.Hash, out var meta, out _);
        if (found != KeyLookup.Found)
        {
            return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
        }
        if (Engine.TryGet(Engine.Sub, SubKey(key, meta, field), out var span))
        {
            value = span.ToArray();
        }
        return OpStatus.Ok;
    }

    /// <summary>HMGET: one value (or null) per field, read under the key's lock so they belong together.</summary>
    public OpStatus GetMany(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> fields, out byte[]?[] values)
    {
        values = new byte[]?[fields.Count];
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, RedisType.Hash, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            for (var i = 0; i < fields.Count; i++)
            {
                if (Engine.TryGet(Engine.Sub, SubKey(key, meta, fields[i]), out var span))
                {
                    values[i] = span.ToArray();
                }
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>HEXISTS / HSTRLEN: the length of the field's value; NotFound when the key or the field is missing.</summary>
    public OpStatus ValueLength(ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, out long length)
    {
        length = 0;
        var found = Db.Lookup(key, RedisType.Hash, out var meta, out _);
        if (found != KeyLookup.Found)
        {
            return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
        }
        if (!Engine.TryGet(Engine.Sub, SubKey(key, meta, field), out var span))
        {
            return OpStatus.NotFound;
        }
        length = span.Length;
        return OpStatus.Ok;
    }

    /// <summary>HDEL: removes the fields that exist (each counted once); the key goes when its last field does.</summary>
    public OpStatus Delete(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> fields, out long removed) => RemoveElements(key, fields, out removed);

    /// <summary>HGETALL / HKEYS / HVALS, in field order (Both: field, value, field, value ...).</summary>
    public OpStatus GetAll(ReadOnlySpan<byte> key, HashParts parts, out List<byte[]> items)
    {
        items = [];
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = Db.Lookup(key, RedisType.Hash, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var result = new List<byte[]>((int)Math.Min(parts == HashParts.Both ? meta.Size * 2 : meta.Size, 1 << 20));
            ForEach(key, meta.Version, (field, value) =>
            {
                if (parts != HashParts.Values)
                {
                    result.Add(field.ToArray());
                }
                if (parts != HashParts.Fields)
                {
                    result.Add(value.ToArray());
                }
                return true;
            });
            items = result;
            return OpStatus.Ok;
        }
    }

    /// <summary>HINCRBY: NotInteger when the stored value is not an integer, Overflow when the sum leaves 64 bits.</summary>
    public OpStatus IncrBy(ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, long delta, out long result)
    {
        result = 0;
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var subKey = SubKey(key, meta, field);
            long current = 0;
            ReadOnlySpan<byte> stored = default;
            var exists = found == KeyLookup.Found && Engine.TryGet(Engine.Sub, subKey, out stored);
            if (exists && !Numbers.TryParseLong(stored, out current))
            {
                return OpStatus.NotInteger;
            }
            if ((delta < 0 && current < 0 && delta < long.MinValue - current) || (delta > 0 && current > 0 && delta > long.MaxValue - current))
            {
                return OpStatus.Overflow;
            }
            result = current + delta;
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(result, digits, out var n);
            PutField(key, subKey, digits[..n], meta, exists);
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// HINCRBYFLOAT in Redis' long double arithmetic. NotFloat when the stored value is not a number,
    /// NaNOrInfinity when the sum is not finite; <paramref name="result"/> is the stored text.
    /// </summary>
    public OpStatus IncrByFloat(ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, LongDouble delta, out string result)
    {
        result = "";
        using (Db.Locks.Lock(Db.Index, key))
        {
            var found = LookupForWrite(key, out var meta);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var subKey = SubKey(key, meta, field);
            var current = LongDouble.Zero;
            ReadOnlySpan<byte> stored = default;
            var exists = found == KeyLookup.Found && Engine.TryGet(Engine.Sub, subKey, out stored);
            if (exists && !LongDouble.TryParse(stored, out current))
            {
                return OpStatus.NotFloat;
            }
            var sum = current + delta;
            if (!sum.IsFinite)
            {
                return OpStatus.NaNOrInfinity;
            }
            result = sum.ToString();
            PutField(key, subKey, System.Text.Encoding.ASCII.GetBytes(result), meta, exists);
            return OpStatus.Ok;
        }
    }

    /// <summary>Writes one field's value, counting it when new. Caller holds the key's lock.</summary>
    private void PutField(ReadOnlySpan<byte> key, byte[] subKey, ReadOnlySpan<byte> value, Metadata meta, bool exists)
    {
        var batch = ThreadBuffers.Batch();
        batch.Put(subKey, value, Engine.Sub);
        if (!exists)
        {
            meta.Size++;
            PutMeta(batch, key, meta);
        }
        Engine.Write(batch);
    }

    /// <summary>HRANDFIELD with a count (see <see cref="ElementSample"/>); a missing key gives an empty sample.</summary>
    public OpStatus RandomFields(ReadOnlySpan<byte> key, long count, bool withValues, out ElementSample sample) =>
        Sample(key, count, withValues, out sample);

    /// <summary>HSCAN: matching fields each followed by its value.</summary>
    public OpStatus Scan(ReadOnlySpan<byte> key, long cursor, ReadOnlySpan<byte> pattern, long count, out ScanPage page) =>
        ScanElements(key, cursor, pattern, count, withValues: true, out page);
}
