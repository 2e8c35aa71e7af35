using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// Sorted sets, kept in two indexes written together in every batch:
/// <code>
/// sub    : | prefix | member |                  → score (8 bytes, KeyCodec.EncodeScore)   member → score
/// zscore : | prefix | score (8, sortable) | member | → empty                                score order
/// prefix = | db | key length (4, BE) | key | version (8, BE) |
/// </code>
/// The metadata's size is the cardinality. The zscore layout sorts by score, then by member bytes, which is
/// Redis' order (ties broken by memcmp, shorter first). -0.0 is stored as 0 (Redis' listpack does the same).
/// Every operation, reads included, holds the key's stripe lock, so a multi-step read (metadata, then an
/// index) sees one state of the key.
/// <para>Costs, n = cardinality, m = elements returned or removed:</para>
/// <list type="bullet">
/// <item>ZADD, ZREM, ZSCORE, ZINCRBY: O(log n) per member (point reads and writes).</item>
/// <item>ZRANGEBYSCORE, ZRANGEBYLEX and their REM forms: a bounded seek plus O(offset + m).</item>
/// <item>ZRANGE by index, ZRANK, ZREMRANGEBYRANK: there is no order-statistics index, so these walk the
/// score index from whichever end is nearer: O(min(rank, n - rank) + m).</item>
/// <item>ZCOUNT, ZLEXCOUNT: count the inside or the outside of the range, whichever ends first:
/// O(min(m, n - m)).</item>
/// </list>
/// </summary>
public sealed partial class RedisZSet
{
    /// <summary>Redis' zset-max-listpack-entries default: sets up to this size behave as listpack-encoded ones in ZSCAN.</summary>
    public const int CompactEntries = 128;

    private readonly Database _db;

    internal RedisZSet(Database db) => _db = db;

    /// <summary>ZCARD.</summary>
    public KeyLookup Card(ReadOnlySpan<byte> key, out long size)
    {
        var lookup = _db.Lookup(key, RedisType.ZSet, out var meta, out _);
        size = lookup == KeyLookup.Found ? meta.Size : 0;
        return lookup;
    }

    /// <summary>ZSCORE: null when the key or the member is missing.</summary>
    public KeyLookup Score(ReadOnlySpan<byte> key, ReadOnlySpan<byte> member, out double? score)
    {
        score = null;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup == KeyLookup.Found && TryGetScore(Prefix(key, meta), member, out var value))
            {
                score = value;
            }
            return lookup;
        }
    }

    /// <summary>ZMSCORE: one score (or null) per member.</summary>
    public KeyLookup Scores(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> members, out double?[] scores)
    {
        scores = new double?[members.Count];
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found)
            {
                return lookup;
            }
            var prefix = Prefix(key, meta);
            for (var i = 0; i < members.Count; i++)
            {
                if (TryGetScore(prefix, members[i], out var value))
                {
                    scores[i] = value;
                }
            }
            return lookup;
        }
    }

    /// <summary>
    /// ZADD (and ZINCRBY as ZADD INCR). Items apply in order, as in Redis, so a member given twice ends with
    /// the last score. <paramref name="incrResult"/> is the INCR result, or null when a condition skipped it.
    /// NaNOrInfinity means INCR produced NaN; nothing is written then.
    /// </summary>
    public OpStatus Add(ReadOnlySpan<byte> key, IReadOnlyList<ZEntry> items, ZAddFlags flags, out long added, out long updated, out double? incrResult)
    {
        added = updated = 0;
        incrResult = null;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            if (lookup == KeyLookup.Missing)
            {
                if ((flags & ZAddFlags.IfExists) != 0)
                {
                    return OpStatus.Ok;
                }
                meta = Metadata.NewCollection(RedisType.ZSet, _db.Engine.NextVersion());
            }
            var change = new Change(this, key, meta);
            foreach (var item in items)
            {
                var score = item.Score;
                if (change.TryGetScore(item.Member, out var current))
                {
                    if ((flags & ZAddFlags.IfMissing) != 0)
                    {
                        continue;
                    }
                    if ((flags & ZAddFlags.Increment) != 0)
                    {
                        score += current;
                        if (double.IsNaN(score))
                        {
                            return OpStatus.NaNOrInfinity;
                        }
                    }
                    if (((flags & ZAddFlags.LessThan) != 0 && score >= current) || ((flags & ZAddFlags.GreaterThan) != 0 && score <= current))
                    {
                        continue;
                    }
                    incrResult = score;
                    if (score != current)
                    {
                        change.Set(item.Member, score);
                        updated++;
                    }
                }
                else if ((flags & ZAddFlags.IfExists) == 0)
                {
                    change.Set(item.Member, score);
                    incrResult = score;
                    added++;
                }
            }
            change.Commit();
            return OpStatus.Ok;
        }
    }

    /// <summary>ZREM: how many of the members were there.</summary>
    public OpStatus Remove(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> members, out long removed)
    {
        removed = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found)
            {
                return lookup == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var change = new Change(this, key, meta);
            foreach (var member in members)
            {
                if (change.TryGetScore(member, out _))
                {
                    change.Delete(member);
                    removed++;
                }
            }
            change.Commit();
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// Replaces <paramref name="destination"/> (any type, expiry dropped) with a sorted set of
    /// <paramref name="entries"/> (distinct members), or deletes it when there are none, as ZUNIONSTORE and
    /// ZRANGESTORE do. One batch; the caller may hold more locks around its read and this write.
    /// </summary>
    public void Store(ReadOnlySpan<byte> destination, IReadOnlyList<ZEntry> entries)
    {
        using (_db.Locks.Lock(_db.Index, destination))
        {
            var batch = ThreadBuffers.Batch();
            if (entries.Count == 0)
            {
                if (_db.Lookup(destination, RedisType.None, out _, out _) != KeyLookup.Found)
                {
                    return;
                }
                batch.Delete(_db.MetaKeySpan(destination), _db.Engine.Meta);
                _db.Engine.Write(batch);
                return;
            }
            var meta = Metadata.NewCollection(RedisType.ZSet, _db.Engine.NextVersion());
            meta.Size = entries.Count;
            var prefix = Prefix(destination, meta);
            foreach (var entry in entries)
            {
                PutEntry(batch, prefix, entry.Member, entry.Score);
            }
            batch.Put(_db.MetaKeySpan(destination), meta.ToArray(), _db.Engine.Meta);
            _db.Engine.Write(batch);
        }
    }

    private KeyLookup Find(ReadOnlySpan<byte> key, out Metadata meta) => _db.Lookup(key, RedisType.ZSet, out meta, out _);

    private byte[] Prefix(ReadOnlySpan<byte> key, in Metadata meta) => KeyCodec.SubKeyPrefix(_db.Index, key, meta.Version);

    private bool TryGetScore(byte[] prefix, ReadOnlySpan<byte> member, out double score)
    {
        if (_db.Engine.TryGet(_db.Engine.Sub, MemberKey(prefix, member), out var value) && value.Length == 8)
        {
            score = KeyCodec.DecodeScore(value);
            return true;
        }
        score = 0;
        return false;
    }

    private static byte[] MemberKey(byte[] prefix, ReadOnlySpan<byte> member)
    {
        var bytes = new byte[prefix.Length + member.Length];
        prefix.CopyTo(bytes, 0);
        member.CopyTo(bytes.AsSpan(prefix.Length));
        return bytes;
    }

    private static byte[] ScoreKey(byte[] prefix, double score, ReadOnlySpan<byte> member)
    {
        var bytes = new byte[prefix.Length + 8 + member.Length];
        prefix.CopyTo(bytes, 0);
        KeyCodec.EncodeScore(score, bytes.AsSpan(prefix.Length));
        member.CopyTo(bytes.AsSpan(prefix.Length + 8));
        return bytes;
    }

    /// <summary>Score-index key for a score alone: the first key of that score (every member sorts after it).</summary>
    private static byte[] ScoreBound(byte[] prefix, double score) => ScoreKey(prefix, score, []);

    private void PutEntry(WriteBatch batch, byte[] prefix, ReadOnlySpan<byte> member, double score)
    {
        Span<byte> encoded = stackalloc byte[8];
        KeyCodec.EncodeScore(score, encoded);
        batch.Put(MemberKey(prefix, member), encoded, _db.Engine.Sub);
        batch.Put(ScoreKey(prefix, score, member), ReadOnlySpan<byte>.Empty, _db.Engine.ZScore);
    }

    private void DeleteEntry(WriteBatch batch, byte[] prefix, ReadOnlySpan<byte> member, double score)
    {
        batch.Delete(MemberKey(prefix, member), _db.Engine.Sub);
        batch.Delete(ScoreKey(prefix, score, member), _db.Engine.ZScore);
    }

    /// <summary>Writes the metadata after a change of size: deleted when the set became empty (Redis keeps no empty sets).</summary>
    private void PutMeta(WriteBatch batch, ReadOnlySpan<byte> key, Metadata meta)
    {
        if (meta.Size <= 0)
        {
            batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
        }
        else
        {
            batch.Put(_db.MetaKeySpan(key), meta.ToArray(), _db.Engine.Meta);
        }
    }

    /// <summary>
    /// Pending member changes of one command, applied in order over the stored state and written as one
    /// batch: a member touched twice is read back from here, not from disk.
    /// </summary>
    private sealed class Change(RedisZSet owner, ReadOnlySpan<byte> key, Metadata meta)
    {
        private readonly Dictionary<byte[], (double? Stored, double? Current)> _members = new(MemberComparer.Instance);
        private readonly byte[] _key = key.ToArray();
        private readonly byte[] _prefix = owner.Prefix(key, meta);
        private Metadata _meta = meta;

        public bool TryGetScore(byte[] member, out double score)
        {
            if (_members.TryGetValue(member, out var state))
            {
                score = state.Current ?? 0;
                return state.Current.HasValue;
            }
            var found = owner.TryGetScore(_prefix, member, out score);
            _members[member] = (found ? score : null, found ? score : null);
            return found;
        }

        /// <summary>Sets a member's score; the member must have been read with <see cref="TryGetScore"/>.</summary>
        public void Set(byte[] member, double score)
        {
            var state = _members[member];
            if (!state.Current.HasValue)
            {
                _meta.Size++;
            }
            _members[member] = (state.Stored, score);
        }

        public void Delete(byte[] member)
        {
            var state = _members[member];
            if (state.Current.HasValue)
            {
                _meta.Size--;
            }
            _members[member] = (state.Stored, null);
        }

        public void Commit()
        {
            var batch = ThreadBuffers.Batch();
            var changed = false;
            foreach (var (member, (stored, current)) in _members)
            {
                if (stored == current)
                {
                    continue; // unchanged (-0.0 == 0.0 too: both are stored as 0)
                }
                changed = true;
                if (stored is { } old)
                {
                    owner.DeleteEntry(batch, _prefix, member, old);
                }
                if (current is { } score)
                {
                    owner.PutEntry(batch, _prefix, member, score);
                }
            }
            if (!changed)
            {
                return;
            }
            owner.PutMeta(batch, _key, _meta);
            owner._db.Engine.Write(batch);
        }
    }

    /// <summary>Byte-wise equality for member dictionaries.</summary>
    private sealed class MemberComparer : IEqualityComparer<byte[]>
    {
        public static readonly MemberComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
