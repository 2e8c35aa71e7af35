using System.Buffers.Text;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>Which existing-key condition a SET carries.</summary>
public enum SetCondition
{
    Always,   // plain SET
    IfMissing, // NX
    IfExists, // XX
}

/// <summary>
/// Strings: the value lives inline in the metadata record (<c>meta</c> CF: header + payload), so a GET is one
/// point read and a SET one Put. Read-modify-write operations hold the key's stripe lock from the read to the
/// write.
/// </summary>
public sealed partial class RedisString
{
    /// <summary>Redis' limit on a string value (also enforced by proto-max-bulk-len).</summary>
    public const long MaxLength = 512L * 1024 * 1024;

    private readonly Database _db;

    internal RedisString(Database db) => _db = db;

    /// <summary>Reads a string. The span is valid until the next read on this thread.</summary>
    public KeyLookup Get(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var found = _db.Lookup(key, RedisType.String, out _, out var raw);
        value = found == KeyLookup.Found ? raw[Metadata.HeaderSize..] : default;
        return found;
    }

    /// <summary>Reads a string into a new array; null when missing. <paramref name="lookup"/> tells missing from wrong type.</summary>
    public byte[]? GetCopy(ReadOnlySpan<byte> key, out KeyLookup lookup)
    {
        lookup = Get(key, out var value);
        return lookup == KeyLookup.Found ? value.ToArray() : null;
    }

    /// <summary>Unconditional SET with an optional absolute expiry (0 = none).</summary>
    public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs = 0)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            Put(key, value, expireAtMs);
        }
    }

    /// <summary>
    /// Unconditional SET added to <paramref name="group"/>: it takes effect when the group commits (the group
    /// takes the key's lock then). Returns false, adding nothing, when the value is too large to group; the
    /// caller then commits the group and uses the ungrouped <see cref="Set(ReadOnlySpan{byte}, ReadOnlySpan{byte}, long)"/>.
    /// </summary>
    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs, WriteGroup group)
    {
        if (value.Length >= WriteGroup.MaxValueBytes)
        {
            return false;
        }
        AddPut(group.Batch, key, value, expireAtMs);
        group.AddKey(_db.Index, key, value.Length);
        group.CommandAdded();
        return true;
    }

    /// <summary>
    /// One key-value pair of an MSET added to <paramref name="group"/> (no expiry, as MSET clears it). The caller
    /// adds every pair of the command, checking first that each value is smaller than
    /// <see cref="WriteGroup.MaxValueBytes"/>, then ends the command with <see cref="WriteGroup.CommandAdded"/>: the
    /// group writes all its pairs in one batch, so MSET stays atomic.
    /// </summary>
    public void SetInGroup(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, WriteGroup group)
    {
        AddPut(group.Batch, key, value, 0);
        group.AddKey(_db.Index, key, value.Length);
    }

    /// <summary>
    /// SET with NX/XX/KEEPTTL/GET. Returns Ok when written, NotPerformed when the condition failed, WrongType when
    /// GET was asked and the old value is not a string (nothing is written then, as in Redis).
    /// </summary>
    public OpStatus Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs, SetCondition condition, bool keepTtl, bool returnOld, out byte[]? old)
    {
        old = null;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Lookup(key, RedisType.None, out var meta, out var raw);
            if (returnOld && lookup == KeyLookup.Found)
            {
                if (meta.Type != RedisType.String)
                {
                    return OpStatus.WrongType;
                }
                old = raw[Metadata.HeaderSize..].ToArray();
            }
            var exists = lookup == KeyLookup.Found;
            if ((condition == SetCondition.IfMissing && exists) || (condition == SetCondition.IfExists && !exists))
            {
                return OpStatus.NotPerformed;
            }
            if (keepTtl && exists)
            {
                expireAtMs = meta.ExpireAtMs;
            }
            Put(key, value, expireAtMs);
            return OpStatus.Ok;
        }
    }

    /// <summary>MSET / MSETNX: all keys in one batch, under all their locks.</summary>
    public bool SetMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs, bool onlyIfNoneExist)
    {
        using (_db.Locks.LockMany(_db.Index, pairs.Select(p => p.Key)))
        {
            if (onlyIfNoneExist && pairs.Any(p => _db.Lookup(p.Key, RedisType.None, out _, out _) == KeyLookup.Found))
            {
                return false;
            }
            var batch = ThreadBuffers.Batch();
            foreach (var (key, value) in pairs)
            {
                AddPut(batch, key, value, 0);
            }
            _db.Engine.Write(batch);
            return true;
        }
    }

    /// <summary>INCRBY/DECRBY/INCR/DECR.</summary>
    public OpStatus IncrBy(ReadOnlySpan<byte> key, long delta, out long result)
    {
        result = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Lookup(key, RedisType.String, out var meta, out var raw);
            if (lookup == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            long current = 0;
            if (lookup == KeyLookup.Found && !TryParseInteger(raw[Metadata.HeaderSize..], out current))
            {
                return OpStatus.NotInteger;
            }
            if ((delta > 0 && current > long.MaxValue - delta) || (delta < 0 && current < long.MinValue - delta))
            {
                return OpStatus.Overflow;
            }
            result = current + delta;
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(result, digits, out var n);
            Put(key, digits[..n], lookup == KeyLookup.Found ? meta.ExpireAtMs : 0);
            return OpStatus.Ok;
        }
    }

    /// <summary>INCRBYFLOAT: computed in 80-bit long double and printed as Redis does (%.17Lf, trailing zeros removed).</summary>
    public OpStatus IncrByFloat(ReadOnlySpan<byte> key, ReadOnlySpan<byte> increment, out string result)
    {
        result = "";
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Lookup(key, RedisType.String, out var meta, out var raw);
            if (lookup == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var current = LongDouble.Zero;
            if (lookup == KeyLookup.Found && !LongDouble.TryParse(raw[Metadata.HeaderSize..], out current))
            {
                return OpStatus.NotFloat;
            }
            // Redis checks the type, then the stored value, then the increment.
            if (!LongDouble.TryParse(increment, out var delta))
            {
                return OpStatus.NotFloat;
            }
            var sum = current + delta;
            if (!sum.IsFinite)
            {
                return OpStatus.NaNOrInfinity;
            }
            result = sum.ToString();
            Put(key, System.Text.Encoding.ASCII.GetBytes(result), lookup == KeyLookup.Found ? meta.ExpireAtMs : 0);
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// APPEND: returns the new length. TooLarge when an existing value would grow beyond
    /// <paramref name="maxLength"/> (proto-max-bulk-len), as Redis' checkStringLength.
    /// </summary>
    public OpStatus Append(ReadOnlySpan<byte> key, ReadOnlySpan<byte> suffix, long maxLength, out long newLength)
    {
        var tail = suffix.ToArray();
        return Modify(key, (current, exists) =>
        {
            if (exists && current.Length + (long)tail.Length > maxLength)
            {
                return null;
            }
            var combined = new byte[current.Length + tail.Length];
            current.CopyTo(combined);
            tail.CopyTo(combined.AsSpan(current.Length));
            return combined;
        }, out newLength);
    }

    /// <summary>
    /// SETRANGE: overwrites from <paramref name="offset"/> (≥ 0), zero-padding; returns the new length. An
    /// empty <paramref name="value"/> changes nothing and creates nothing; TooLarge when the result would
    /// exceed <paramref name="maxLength"/>.
    /// </summary>
    public OpStatus SetRange(ReadOnlySpan<byte> key, long offset, ReadOnlySpan<byte> value, long maxLength, out long newLength)
    {
        var data = value.ToArray();
        return Modify(key, (current, _) =>
        {
            if (data.Length == 0)
            {
                return current; // unchanged: reply the current length
            }
            if (offset > maxLength - data.Length)
            {
                return null;
            }
            var length = Math.Max(current.Length, offset + data.Length);
            var result = new byte[length];
            current.CopyTo(result);
            data.CopyTo(result.AsSpan((int)offset));
            return result;
        }, out newLength);
    }

    /// <summary>GETDEL: the value, then deletes the key.</summary>
    public OpStatus GetDel(ReadOnlySpan<byte> key, out byte[]? value)
    {
        value = null;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Get(key, out var current);
            if (lookup != KeyLookup.Found)
            {
                return lookup == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            value = current.ToArray();
            var batch = ThreadBuffers.Batch();
            batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
            _db.Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>GETEX: the value, and optionally a new expiry (<paramref name="persist"/> removes it).</summary>
    public OpStatus GetEx(ReadOnlySpan<byte> key, long? expireAtMs, bool persist, out byte[]? value)
    {
        value = null;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Lookup(key, RedisType.String, out var meta, out var raw);
            if (lookup != KeyLookup.Found)
            {
                return lookup == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            value = raw[Metadata.HeaderSize..].ToArray();
            if (expireAtMs is { } at && at <= Database.NowMs)
            {
                var batch = ThreadBuffers.Batch();
                batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
                _db.Engine.Write(batch);
            }
            else if (expireAtMs is { } newAt)
            {
                Put(key, value, newAt);
            }
            else if (persist && meta.HasExpiry)
            {
                Put(key, value, 0);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>Writes a string record (header + payload). Caller holds the key's lock.</summary>
    internal void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs)
    {
        var batch = ThreadBuffers.Batch();
        AddPut(batch, key, value, expireAtMs);
        _db.Engine.Write(batch);
    }

    internal void AddPut(RocksDbSharp.WriteBatch batch, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAtMs)
    {
        var record = ThreadBuffers.Value(Metadata.HeaderSize + value.Length);
        new Metadata { Type = RedisType.String, ExpireAtMs = expireAtMs }.Encode(record);
        value.CopyTo(record.AsSpan(Metadata.HeaderSize));
        batch.Put(_db.MetaKeySpan(key), record.AsSpan(0, Metadata.HeaderSize + value.Length), _db.Engine.Meta);
    }

    /// <summary>
    /// Computes the new value from the current one (empty when the key is missing): null means "too large",
    /// the very same array means "unchanged" (nothing is written).
    /// </summary>
    private delegate byte[]? Transform(byte[] current, bool exists);

    /// <summary>Shared read-modify-write for APPEND and SETRANGE; keeps the expiry.</summary>
    private OpStatus Modify(ReadOnlySpan<byte> key, Transform transform, out long newLength)
    {
        newLength = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Lookup(key, RedisType.String, out var meta, out var raw);
            if (lookup == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            var exists = lookup == KeyLookup.Found;
            var current = exists ? raw[Metadata.HeaderSize..].ToArray() : [];
            var updated = transform(current, exists);
            if (updated is null)
            {
                return OpStatus.TooLarge;
            }
            newLength = updated.Length;
            if (!ReferenceEquals(updated, current))
            {
                Put(key, updated, exists ? meta.ExpireAtMs : 0);
            }
            return OpStatus.Ok;
        }
    }

    /// <summary>Parses a stored integer as Redis' string2ll does.</summary>
    public static bool TryParseInteger(ReadOnlySpan<byte> s, out long value) => Numbers.TryParseLong(s, out value);

    /// <summary>Parses a stored float as Redis' string2ld: no spaces, no NaN.</summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> s, out double value) => Numbers.TryParseDouble(s, out value);
}
