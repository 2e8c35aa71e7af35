using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>Which existing expiry an EXPIRE may replace (Redis 7 flags).</summary>
public enum ExpireCondition
{
    Always,       // no flag
    IfNoExpiry,   // NX
    IfHasExpiry,  // XX
    IfGreater,    // GT (a key without expiry counts as infinite)
    IfLess,       // LT (a key without expiry counts as infinite, so any expiry is less)
    IfLessWithExpiry, // XX LT: the key has an expiry and the new one is earlier
}

/// <summary>One SCAN step: the keys found and the cursor to continue from (0 when done).</summary>
public readonly record struct ScanPage(long Cursor, List<byte[]> Items);

/// <summary>
/// Type-agnostic key operations: existence, type, deletion, expiry, rename/copy, iteration and flush.
/// Deleting or overwriting a collection touches only its metadata; its sub-keys carry the old version and
/// are reclaimed by the compaction filter, so DEL and FLUSHDB are O(1) whatever the size.
/// </summary>
public sealed partial class Keyspace
{
    private readonly Database _db;

    internal Keyspace(Database db) => _db = db;

    public bool Exists(ReadOnlySpan<byte> key) => _db.Lookup(key, RedisType.None, out _, out _) == KeyLookup.Found;

    public RedisType TypeOf(ReadOnlySpan<byte> key) =>
        _db.Lookup(key, RedisType.None, out var meta, out _) == KeyLookup.Found ? meta.Type : RedisType.None;

    public bool Delete(ReadOnlySpan<byte> key)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            if (_db.Lookup(key, RedisType.None, out _, out _) != KeyLookup.Found)
            {
                return false;
            }
            var batch = ThreadBuffers.Batch();
            batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
            _db.Engine.Write(batch);
            return true;
        }
    }

    /// <summary>Milliseconds to live: -2 when the key is missing, -1 when it has no expiry.</summary>
    public long TtlMs(ReadOnlySpan<byte> key)
    {
        if (_db.Lookup(key, RedisType.None, out var meta, out _) != KeyLookup.Found)
        {
            return -2;
        }
        return meta.HasExpiry ? Math.Max(0, meta.ExpireAtMs - Database.NowMs) : -1;
    }

    /// <summary>Absolute expiry in unix ms: -2 when missing, -1 when none.</summary>
    public long ExpireAtMs(ReadOnlySpan<byte> key)
    {
        if (_db.Lookup(key, RedisType.None, out var meta, out _) != KeyLookup.Found)
        {
            return -2;
        }
        return meta.HasExpiry ? meta.ExpireAtMs : -1;
    }

    /// <summary>EXPIRE family. A time in the past deletes the key. Returns whether the expiry was set.</summary>
    public bool SetExpiry(ReadOnlySpan<byte> key, long expireAtMs, ExpireCondition condition)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            if (_db.Lookup(key, RedisType.None, out var meta, out var raw) != KeyLookup.Found)
            {
                return false;
            }
            var allowed = condition switch
            {
                ExpireCondition.IfNoExpiry => !meta.HasExpiry,
                ExpireCondition.IfHasExpiry => meta.HasExpiry,
                ExpireCondition.IfGreater => meta.HasExpiry && expireAtMs > meta.ExpireAtMs,
                ExpireCondition.IfLess => !meta.HasExpiry || expireAtMs < meta.ExpireAtMs,
                ExpireCondition.IfLessWithExpiry => meta.HasExpiry && expireAtMs < meta.ExpireAtMs,
                _ => true,
            };
            if (!allowed)
            {
                return false;
            }
            var batch = ThreadBuffers.Batch();
            if (expireAtMs <= Database.NowMs)
            {
                batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
            }
            else
            {
                PutWithExpiry(batch, key, raw, expireAtMs);
            }
            _db.Engine.Write(batch);
            return true;
        }
    }

    public bool Persist(ReadOnlySpan<byte> key)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            if (_db.Lookup(key, RedisType.None, out var meta, out var raw) != KeyLookup.Found || !meta.HasExpiry)
            {
                return false;
            }
            var batch = ThreadBuffers.Batch();
            PutWithExpiry(batch, key, raw, 0);
            _db.Engine.Write(batch);
            return true;
        }
    }

    private void PutWithExpiry(WriteBatch batch, ReadOnlySpan<byte> key, ReadOnlySpan<byte> raw, long expireAtMs)
    {
        var record = raw.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(2), expireAtMs);
        batch.Put(_db.MetaKeySpan(key), record, _db.Engine.Meta);
    }

    /// <summary>
    /// RENAME / RENAMENX. NotFound when the source is missing; NotPerformed when <paramref name="onlyIfMissing"/>
    /// and the destination exists. Keeps the source's expiry.
    /// </summary>
    public OpStatus Rename(byte[] source, byte[] destination, bool onlyIfMissing)
    {
        using (_db.Locks.LockMany(_db.Index, [source, destination]))
        {
            if (_db.Lookup(source, RedisType.None, out _, out _) != KeyLookup.Found)
            {
                return OpStatus.NotFound;
            }
            if (source.AsSpan().SequenceEqual(destination))
            {
                return onlyIfMissing ? OpStatus.NotPerformed : OpStatus.Ok;
            }
            if (onlyIfMissing && _db.Lookup(destination, RedisType.None, out _, out _) == KeyLookup.Found)
            {
                return OpStatus.NotPerformed;
            }
            using var batch = new WriteBatch();
            CopyInto(batch, source, _db, destination);
            batch.Delete(_db.MetaKey(source), _db.Engine.Meta);
            _db.Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>COPY source [DB n] destination [REPLACE]. Returns whether a copy was made.</summary>
    public bool Copy(byte[] source, Database target, byte[] destination, bool replace)
    {
        var sameKey = target.Index == _db.Index && source.AsSpan().SequenceEqual(destination);
        using (_db.Locks.LockMany([(_db.Index, source), (target.Index, destination)]))
        {
            if (sameKey || _db.Lookup(source, RedisType.None, out _, out _) != KeyLookup.Found)
            {
                return false;
            }
            if (!replace && target.Lookup(destination, RedisType.None, out _, out _) == KeyLookup.Found)
            {
                return false;
            }
            using var batch = new WriteBatch();
            CopyInto(batch, source, target, destination);
            _db.Engine.Write(batch);
            return true;
        }
    }

    /// <summary>
    /// MOVE: the key, with its expiry, to the same name in <paramref name="target"/>, and out of this database, in one
    /// batch. False when the key is missing here or exists there.
    /// </summary>
    public bool Move(byte[] key, Database target)
    {
        using (_db.Locks.LockMany([(_db.Index, key), (target.Index, key)]))
        {
            if (_db.Lookup(key, RedisType.None, out _, out _) != KeyLookup.Found
                || target.Lookup(key, RedisType.None, out _, out _) == KeyLookup.Found)
            {
                return false;
            }
            using var batch = new WriteBatch();
            CopyInto(batch, key, target, key);
            batch.Delete(_db.MetaKey(key), _db.Engine.Meta);
            _db.Engine.Write(batch);
            return true;
        }
    }

    /// <summary>Adds to <paramref name="batch"/> a copy of <paramref name="source"/> (any type) as <paramref name="destination"/> in <paramref name="target"/>.</summary>
    private void CopyInto(WriteBatch batch, byte[] source, Database target, byte[] destination)
    {
        _db.Lookup(source, RedisType.None, out var meta, out var raw);
        if (meta.Type == RedisType.String)
        {
            batch.Put(target.MetaKey(destination), raw.ToArray(), _db.Engine.Meta);
            return;
        }
        var copy = meta;
        copy.Version = _db.Engine.NextVersion();
        batch.Put(target.MetaKey(destination), copy.ToArray(), _db.Engine.Meta);
        var (prefix, ranges) = Content(source, meta);
        var newPrefix = KeyCodec.SubKeyPrefix(target.Index, destination, copy.Version);
        foreach (var (family, lower, upper) in ranges)
        {
            using var it = _db.Engine.NewIterator(family, lower, upper);
            for (it.Seek(lower); it.Valid(); it.Next())
            {
                var suffix = it.GetKeySpan()[prefix.Length..];
                var newKey = new byte[newPrefix.Length + suffix.Length];
                newPrefix.CopyTo(newKey, 0);
                suffix.CopyTo(newKey.AsSpan(newPrefix.Length));
                batch.Put(newKey, it.GetValueSpan(), family);
            }
        }
    }

    /// <summary>
    /// MEMORY USAGE: the bytes the key takes in storage before compression, as an estimate: its metadata record
    /// and, for a collection, the average size of its first <paramref name="samples"/> entries in each column
    /// family (0: all of them) times its size, as Redis samples nested values. Null when the key is missing.
    /// </summary>
    public long? Usage(ReadOnlySpan<byte> key, long samples)
    {
        if (_db.Lookup(key, RedisType.None, out var meta, out var raw) != KeyLookup.Found)
        {
            return null;
        }
        long bytes = raw.Length; // before MetaKeySpan, which may reuse the buffer a read landed in
        bytes += _db.MetaKeySpan(key).Length;
        if (meta.Type == RedisType.String || meta.Size == 0)
        {
            return bytes;
        }
        var (_, ranges) = Content(key, meta);
        foreach (var (family, lower, upper) in ranges)
        {
            using var it = _db.Engine.NewIterator(family, lower, upper);
            long seen = 0, seenBytes = 0;
            for (it.Seek(lower); it.Valid() && (samples == 0 || seen < samples); it.Next())
            {
                seen++;
                seenBytes += it.GetKeySpan().Length + it.GetValueSpan().Length;
            }
            if (seen > 0)
            {
                bytes += (long)Math.Round((double)seenBytes / seen * meta.Size);
            }
        }
        return bytes;
    }

    /// <summary>
    /// Where a collection's content lies: the sub-key prefix of its current version, and a range per column family
    /// (every sub-key of the version in <c>sub</c> and <c>zscore</c>; of a list only its live elements [head, tail),
    /// since popped ones stay outside it until compaction drops them, at different times on a master and its
    /// replicas). COPY, RENAME, MOVE and DEBUG DIGEST read it.
    /// </summary>
    private (byte[] Prefix, (ColumnFamilyHandle Family, byte[] Lower, byte[]? Upper)[] Ranges) Content(ReadOnlySpan<byte> userKey, in Metadata meta)
    {
        var prefix = KeyCodec.SubKeyPrefix(_db.Index, userKey, meta.Version);
        if (meta.Type == RedisType.List)
        {
            var (lower, upper) = KeyCodec.ListElementBounds(_db.Index, userKey, meta.Version, meta.Head, meta.Tail);
            return (prefix, [(_db.Engine.Sub, lower, upper)]);
        }
        var end = KeyCodec.PrefixUpperBound(prefix);
        return (prefix, [(_db.Engine.Sub, prefix, end), (_db.Engine.ZScore, prefix, end)]);
    }

    /// <summary>One SCAN step over this database's keys, filtered by glob and type, examining about <paramref name="count"/> keys.</summary>
    public ScanPage Scan(long cursor, ReadOnlySpan<byte> pattern, long count, RedisType type)
    {
        var items = new List<byte[]>();
        var (lower, upper) = Range();
        var start = _db.Dataset.Cursors.Resume(cursor) ?? lower;
        var now = Database.NowMs;
        var matchAll = pattern.IsEmpty || Glob.IsMatchAll(pattern);
        using var it = _db.Engine.NewIterator(_db.Engine.Meta, lower, upper);
        long examined = 0;
        for (it.Seek(start); it.Valid(); it.Next())
        {
            if (examined++ >= count)
            {
                return new ScanPage(_db.Dataset.Cursors.Save(it.Key()), items);
            }
            var key = it.GetKeySpan()[1..];
            if (!Metadata.TryDecode(it.GetValueSpan(), out var meta) || meta.IsExpired(now))
            {
                continue;
            }
            if ((type != RedisType.None && meta.Type != type) || (!matchAll && !Glob.Match(pattern, key)))
            {
                continue;
            }
            items.Add(key.ToArray());
        }
        return new ScanPage(0, items);
    }

    /// <summary>KEYS pattern: every live key matching the glob (narrowed to the pattern's literal prefix).</summary>
    public List<byte[]> Keys(ReadOnlySpan<byte> pattern)
    {
        var result = new List<byte[]>();
        var (lower, upper) = Range();
        var literal = Glob.LiteralPrefix(pattern);
        var seek = new byte[1 + literal.Length];
        seek[0] = (byte)_db.Index;
        literal.CopyTo(seek.AsSpan(1));
        var now = Database.NowMs;
        var matchAll = Glob.IsMatchAll(pattern);
        using var it = _db.Engine.NewIterator(_db.Engine.Meta, lower, upper);
        for (it.Seek(seek); it.Valid(); it.Next())
        {
            var key = it.GetKeySpan()[1..];
            if (!key.StartsWith(literal))
            {
                break;
            }
            if (Metadata.TryDecode(it.GetValueSpan(), out var meta) && !meta.IsExpired(now) && (matchAll || Glob.Match(pattern, key)))
            {
                result.Add(key.ToArray());
            }
        }
        return result;
    }

    /// <summary>A random live key, or null when the database is empty.</summary>
    public byte[]? RandomKey()
    {
        var (lower, upper) = Range();
        var probe = new byte[9];
        probe[0] = (byte)_db.Index;
        Random.Shared.NextBytes(probe.AsSpan(1));
        var now = Database.NowMs;
        using var it = _db.Engine.NewIterator(_db.Engine.Meta, lower, upper);
        foreach (var from in new[] { probe, lower })
        {
            for (it.Seek(from); it.Valid(); it.Next())
            {
                if (Metadata.TryDecode(it.GetValueSpan(), out var meta) && !meta.IsExpired(now))
                {
                    return it.GetKeySpan()[1..].ToArray();
                }
            }
        }
        return null;
    }

    /// <summary>Live keys and live keys with an expiry (DBSIZE, INFO keyspace). Walks the database: O(keys).</summary>
    public (long Keys, long Expires) Count()
    {
        var (lower, upper) = Range();
        var now = Database.NowMs;
        long keys = 0, expires = 0;
        using var it = _db.Engine.NewIterator(_db.Engine.Meta, lower, upper);
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            var expireAt = Metadata.ReadExpireAt(it.GetValueSpan());
            if (expireAt > 0 && expireAt <= now)
            {
                continue;
            }
            keys++;
            if (expireAt > 0)
            {
                expires++;
            }
        }
        return (keys, expires);
    }

    /// <summary>
    /// Counts live keys and live keys with an expiry of every database, in key order, starting after the metadata
    /// key <paramref name="after"/> (null: from the start) and stopping after <paramref name="maxKeys"/> records.
    /// Adds into <paramref name="keys"/> and <paramref name="expires"/> (indexed by database) and returns the
    /// last metadata key visited, or null when the walk reached the end. A caller walks a large dataset in
    /// slices, resuming from the returned key, so no single call holds the engine for long.
    /// </summary>
    public static byte[]? CountSlice(StorageEngine engine, byte[]? after, int maxKeys, long[] keys, long[] expires, long nowMs)
    {
        using var it = engine.NewIterator(engine.Meta, after, null);
        var visited = 0;
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            var key = it.GetKeySpan();
            if (visited == 0 && after is not null && key.SequenceEqual(after))
            {
                continue;
            }
            visited++;
            var db = key[0];
            if (db < keys.Length)
            {
                var expireAt = Metadata.ReadExpireAt(it.GetValueSpan());
                if (expireAt <= 0 || expireAt > nowMs)
                {
                    keys[db]++;
                    if (expireAt > 0)
                    {
                        expires[db]++;
                    }
                }
            }
            if (visited == maxKeys)
            {
                return key.ToArray();
            }
        }
        return null;
    }

    /// <summary>FLUSHDB: range-deletes this database in every column family, in one batch.</summary>
    public void Flush()
    {
        using (_db.Locks.LockAll())
        {
            using var batch = new WriteBatch();
            var (lower, upper) = Range();
            foreach (var family in new[] { _db.Engine.Meta, _db.Engine.Sub, _db.Engine.ZScore })
            {
                batch.DeleteRange(lower, (ulong)lower.Length, upper, (ulong)upper.Length, family);
            }
            _db.Engine.Write(batch);
        }
    }

    /// <summary>FLUSHALL: every database, one batch.</summary>
    public static void FlushAll(Dataset dataset)
    {
        using (dataset.Locks.LockAll())
        {
            using var batch = new WriteBatch();
            var engine = dataset.Engine;
            byte[] lower = [0], upper = [0xFF, 0xFF];
            foreach (var family in new[] { engine.Meta, engine.Sub, engine.ZScore })
            {
                batch.DeleteRange(lower, 1, upper, 2, family);
            }
            engine.Write(batch);
        }
    }

    /// <summary>[db, db+1): the key range of this database in every column family.</summary>
    private (byte[] Lower, byte[] Upper) Range() => ([(byte)_db.Index], [(byte)(_db.Index + 1)]);
}
