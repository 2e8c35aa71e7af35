using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// HyperLogLog commands over string values in Redis' exact HLL format (<see cref="HyperLogLog"/>). As in
/// Redis an HLL is an ordinary string: GET, SET, APPEND and friends see its bytes, and a changed HLL keeps
/// its key's expiry. Each command reads, changes and writes its keys under their locks, in one batch.
/// </summary>
public sealed class RedisHyperLogLog
{
    private readonly Database _db;

    internal RedisHyperLogLog(Database db) => _db = db;

    /// <summary>PFADD: <paramref name="changed"/> is true when the key was created or a register grew.</summary>
    public HyperLogLogStatus Add(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> elements, out bool changed)
    {
        changed = false;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var status = Load(key, out var hll, out var expireAtMs);
            if (status != HyperLogLogStatus.Ok)
            {
                return status;
            }
            changed = hll is null;
            hll ??= HyperLogLog.CreateEmpty();
            foreach (var element in elements)
            {
                switch (hll.Add(element))
                {
                    case 1:
                        changed = true;
                        break;
                    case -1:
                        return HyperLogLogStatus.Corrupted;
                }
            }
            if (changed)
            {
                hll.InvalidateCache();
                Save(key, hll, expireAtMs);
            }
            return HyperLogLogStatus.Ok;
        }
    }

    /// <summary>
    /// PFCOUNT. One key: its cached count, or a fresh count that is then cached in the value when
    /// <paramref name="updateCache"/> (Redis writes it back too; a replica must not, it follows its master).
    /// Several keys: the count of their union, nothing written.
    /// </summary>
    public HyperLogLogStatus Count(IReadOnlyList<byte[]> keys, bool updateCache, out long count)
    {
        count = 0;
        if (keys.Count == 1)
        {
            return CountOne(keys[0], updateCache, out count);
        }
        using (_db.Locks.LockMany(_db.Index, keys))
        {
            var max = new byte[HyperLogLog.RegisterCount];
            foreach (var key in keys)
            {
                var status = MergeKey(key, max, out _);
                if (status != HyperLogLogStatus.Ok)
                {
                    return status;
                }
            }
            count = HyperLogLog.CountRaw(max);
            return HyperLogLogStatus.Ok;
        }
    }

    /// <summary>PFMERGE destination [source ...]: the destination becomes the union (its own registers included).</summary>
    public HyperLogLogStatus Merge(byte[] destination, IReadOnlyList<byte[]> sources)
    {
        using (_db.Locks.LockMany(_db.Index, sources.Prepend(destination)))
        {
            var max = new byte[HyperLogLog.RegisterCount];
            var useDense = false;
            foreach (var key in sources.Prepend(destination))
            {
                var status = MergeKey(key, max, out var dense);
                if (status != HyperLogLogStatus.Ok)
                {
                    return status;
                }
                useDense |= dense;
            }
            Load(destination, out var hll, out var expireAtMs);
            hll ??= HyperLogLog.CreateEmpty();
            // At least one dense input: go dense at once rather than promote after many sparse writes.
            if (useDense && !hll.ToDense())
            {
                return HyperLogLogStatus.Corrupted;
            }
            for (var i = 0; i < max.Length; i++)
            {
                if (max[i] != 0)
                {
                    hll.SetRegister(i, max[i]);
                }
            }
            hll.InvalidateCache();
            Save(destination, hll, expireAtMs);
            return HyperLogLogStatus.Ok;
        }
    }

    private HyperLogLogStatus CountOne(byte[] key, bool updateCache, out long count)
    {
        count = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = _db.Strings.Get(key, out var value);
            if (lookup != KeyLookup.Found)
            {
                return lookup == KeyLookup.WrongType ? HyperLogLogStatus.WrongType : HyperLogLogStatus.Ok;
            }
            if (!HyperLogLog.IsValid(value))
            {
                return HyperLogLogStatus.NotHyperLogLog;
            }
            if (HyperLogLog.TryGetCached(value, out count))
            {
                return HyperLogLogStatus.Ok;
            }
            if (!HyperLogLog.TryCount(value, out count))
            {
                return HyperLogLogStatus.Corrupted;
            }
            if (updateCache)
            {
                var hll = HyperLogLog.From(value);
                hll.SetCached(count);
                _db.Lookup(key, RedisType.String, out var meta, out _);
                Save(key, hll, meta.ExpireAtMs);
            }
            return HyperLogLogStatus.Ok;
        }
    }

    /// <summary>Folds one key's registers into <paramref name="max"/>; a missing key counts as an empty HLL.</summary>
    private HyperLogLogStatus MergeKey(byte[] key, byte[] max, out bool dense)
    {
        dense = false;
        var lookup = _db.Strings.Get(key, out var value);
        if (lookup != KeyLookup.Found)
        {
            return lookup == KeyLookup.WrongType ? HyperLogLogStatus.WrongType : HyperLogLogStatus.Ok;
        }
        if (!HyperLogLog.IsValid(value))
        {
            return HyperLogLogStatus.NotHyperLogLog;
        }
        dense = value[4] == HyperLogLog.Dense;
        return HyperLogLog.MergeInto(value, max) ? HyperLogLogStatus.Ok : HyperLogLogStatus.Corrupted;
    }

    /// <summary>Reads a key as an HLL: null when missing; an error status when it is not one.</summary>
    private HyperLogLogStatus Load(ReadOnlySpan<byte> key, out HyperLogLog? hll, out long expireAtMs)
    {
        hll = null;
        expireAtMs = 0;
        var lookup = _db.Lookup(key, RedisType.String, out var meta, out var raw);
        if (lookup == KeyLookup.WrongType)
        {
            return HyperLogLogStatus.WrongType;
        }
        if (lookup == KeyLookup.Missing)
        {
            return HyperLogLogStatus.Ok;
        }
        var value = raw[Metadata.HeaderSize..];
        if (!HyperLogLog.IsValid(value))
        {
            return HyperLogLogStatus.NotHyperLogLog;
        }
        hll = HyperLogLog.From(value);
        expireAtMs = meta.ExpireAtMs;
        return HyperLogLogStatus.Ok;
    }

    private void Save(ReadOnlySpan<byte> key, HyperLogLog hll, long expireAtMs)
    {
        var batch = ThreadBuffers.Batch();
        _db.Strings.AddPut(batch, key, hll.Span, expireAtMs);
        _db.Engine.Write(batch);
    }
}
