using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>
/// Multi-key algebra (ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms), random sampling and ZSCAN.
/// Inputs may be sorted sets or plain sets (every member scoring 1), as in Redis.
/// </summary>
public sealed partial class RedisZSet
{
    /// <summary>
    /// ZUNION / ZINTER / ZDIFF: the result sorted in sorted-set order. WrongType when an input is neither a
    /// sorted set nor a set. <paramref name="weights"/> is null for all 1.
    /// </summary>
    public OpStatus Combine(IReadOnlyList<byte[]> keys, double[]? weights, ZAggregate aggregate, ZSetOperation operation, List<ZEntry> result)
    {
        using (_db.Locks.LockMany(_db.Index, keys))
        {
            return CombineLocked(keys, weights, aggregate, operation, result, 0, out _);
        }
    }

    /// <summary>ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE: returns the stored cardinality.</summary>
    public OpStatus CombineStore(byte[] destination, IReadOnlyList<byte[]> keys, double[]? weights, ZAggregate aggregate, ZSetOperation operation, out long stored)
    {
        stored = 0;
        using (_db.Locks.LockMany(_db.Index, keys.Append(destination)))
        {
            var result = new List<ZEntry>();
            var status = CombineLocked(keys, weights, aggregate, operation, result, 0, out _);
            if (status != OpStatus.Ok)
            {
                return status;
            }
            Store(destination, result);
            stored = result.Count;
            return OpStatus.Ok;
        }
    }

    /// <summary>ZINTERCARD: the size of the intersection, stopping at <paramref name="limit"/> (0 = no limit).</summary>
    public OpStatus InterCard(IReadOnlyList<byte[]> keys, long limit, out long cardinality)
    {
        using (_db.Locks.LockMany(_db.Index, keys))
        {
            return CombineLocked(keys, null, ZAggregate.Sum, ZSetOperation.Inter, null, limit, out cardinality);
        }
    }

    private OpStatus CombineLocked(IReadOnlyList<byte[]> keys, double[]? weights, ZAggregate aggregate, ZSetOperation operation, List<ZEntry>? result, long limit, out long cardinality)
    {
        cardinality = 0;
        var sources = new List<Source>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            var lookup = _db.Lookup(keys[i], RedisType.None, out var meta, out _);
            if (lookup == KeyLookup.Found && meta.Type is not (RedisType.ZSet or RedisType.Set))
            {
                return OpStatus.WrongType;
            }
            var found = lookup == KeyLookup.Found;
            sources.Add(new Source(this, found ? meta.Type : RedisType.None, found ? Prefix(keys[i], meta) : [], found ? meta.Size : 0, weights?[i] ?? 1));
        }
        // Redis orders inputs by size (a stable sort), which also fixes the order in which sums are added.
        var ordered = operation == ZSetOperation.Diff
            ? sources.Take(1).Concat(sources.Skip(1).OrderByDescending(s => s.Size)).ToList()
            : sources.OrderBy(s => s.Size).ToList();
        var entries = new List<ZEntry>();
        switch (operation)
        {
            case ZSetOperation.Inter:
                Intersect(ordered, aggregate, result is null ? null : entries, limit, out cardinality);
                break;
            case ZSetOperation.Union:
                Unite(ordered, aggregate, entries);
                break;
            default:
                Subtract(ordered, entries);
                break;
        }
        if (result is not null)
        {
            entries.Sort(ZEntry.Compare);
            result.AddRange(entries);
        }
        return OpStatus.Ok;
    }

    private static void Intersect(List<Source> sources, ZAggregate aggregate, List<ZEntry>? result, long limit, out long cardinality)
    {
        long found = 0;
        var smallest = sources[0];
        if (smallest.Size == 0)
        {
            cardinality = 0;
            return;
        }
        smallest.ForEach(entry =>
        {
            var score = Weigh(smallest.Weight, entry.Score);
            for (var j = 1; j < sources.Count; j++)
            {
                if (!sources[j].TryFind(entry.Member, out var other))
                {
                    return true;
                }
                // Only the first input's weighted score has NaN (0 × inf) turned into 0; here a NaN sums to 0 and loses MIN/MAX.
                score = Aggregate(score, sources[j].Weight * other, aggregate);
            }
            found++;
            result?.Add(entry with { Score = score });
            return limit == 0 || found < limit;
        });
        cardinality = found;
    }

    private static void Unite(List<Source> sources, ZAggregate aggregate, List<ZEntry> result)
    {
        var scores = new Dictionary<byte[], double>(MemberComparer.Instance);
        foreach (var source in sources)
        {
            source.ForEach(entry =>
            {
                var score = Weigh(source.Weight, entry.Score);
                scores[entry.Member] = scores.TryGetValue(entry.Member, out var current) ? Aggregate(current, score, aggregate) : score;
                return true;
            });
        }
        foreach (var (member, score) in scores)
        {
            result.Add(new ZEntry(member, score));
        }
    }

    private static void Subtract(List<Source> sources, List<ZEntry> result)
    {
        sources[0].ForEach(entry =>
        {
            for (var j = 1; j < sources.Count; j++)
            {
                if (sources[j].TryFind(entry.Member, out _))
                {
                    return true;
                }
            }
            result.Add(entry);
            return true;
        });
    }

    /// <summary>weight × score, with NaN (0 × inf) counted as 0, as Redis does.</summary>
    private static double Weigh(double weight, double score)
    {
        var value = weight * score;
        return double.IsNaN(value) ? 0 : value;
    }

    /// <summary>Redis' zunionInterAggregate (C comparisons, so -0 and 0 tie and the first one stays).</summary>
    private static double Aggregate(double target, double value, ZAggregate aggregate)
    {
        switch (aggregate)
        {
            case ZAggregate.Min:
                return value < target ? value : target;
            case ZAggregate.Max:
                return value > target ? value : target;
            default:
                var sum = target + value;
                return double.IsNaN(sum) ? 0 : sum;
        }
    }

    /// <summary>ZRANDMEMBER without a count: one uniformly chosen entry, or null when the key is missing.</summary>
    public KeyLookup RandomMember(ReadOnlySpan<byte> key, out ZEntry? entry)
    {
        entry = null;
        var picks = new List<ZEntry>(1);
        var lookup = Sample(key, 1, unique: true, picks);
        if (picks.Count > 0)
        {
            entry = picks[0];
        }
        return lookup;
    }

    /// <summary>
    /// ZRANDMEMBER with a count: <paramref name="count"/> distinct entries (all of them when the set is not
    /// larger), or with <paramref name="unique"/> false exactly <paramref name="count"/> independent uniform
    /// picks. One walk of the score index: O(n) time, O(count) memory; the picks come back shuffled.
    /// </summary>
    public KeyLookup Sample(ReadOnlySpan<byte> key, long count, bool unique, List<ZEntry> picks)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found || count <= 0)
            {
                return lookup;
            }
            var prefix = Prefix(key, meta);
            var random = Random.Shared;
            if (unique && count >= meta.Size)
            {
                SelectByRank(prefix, meta.Size, 0, -1, false, picks);
                return lookup;
            }
            if (unique)
            {
                Reservoir(prefix, count, random, picks);
            }
            else if (count >= meta.Size)
            {
                var all = new List<ZEntry>((int)meta.Size);
                SelectByRank(prefix, meta.Size, 0, -1, false, all);
                for (long i = 0; i < count; i++)
                {
                    picks.Add(all[random.Next(all.Count)]);
                }
                return lookup;
            }
            else
            {
                PickPositions(prefix, meta.Size, count, random, picks);
            }
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(picks));
            return lookup;
        }
    }

    /// <summary>Reservoir sampling (Algorithm R) over the score index: every count-subset is equally likely.</summary>
    private void Reservoir(byte[] prefix, long count, Random random, List<ZEntry> picks)
    {
        using var it = ScoreIterator(prefix);
        long seen = 0;
        for (it.SeekToFirst(); it.Valid(); it.Next(), seen++)
        {
            var slot = seen < count ? seen : random.NextInt64(seen + 1);
            if (slot >= count)
            {
                continue;
            }
            var entry = ReadScoreEntry(it, prefix.Length);
            if (seen < count)
            {
                picks.Add(entry);
            }
            else
            {
                picks[(int)slot] = entry;
            }
        }
    }

    /// <summary><paramref name="count"/> (fewer than the size) independent uniform positions, collected in one walk.</summary>
    private void PickPositions(byte[] prefix, long size, long count, Random random, List<ZEntry> picks)
    {
        var positions = new long[count];
        for (var i = 0; i < positions.Length; i++)
        {
            positions[i] = random.NextInt64(size);
        }
        Array.Sort(positions);
        using var it = ScoreIterator(prefix);
        long rank = 0;
        it.SeekToFirst();
        for (var i = 0; i < positions.Length && it.Valid(); it.Next(), rank++)
        {
            if (positions[i] != rank)
            {
                continue;
            }
            var entry = ReadScoreEntry(it, prefix.Length);
            for (; i < positions.Length && positions[i] == rank; i++)
            {
                picks.Add(entry);
            }
        }
    }

    /// <summary>
    /// ZSCAN. A set of at most <see cref="CompactEntries"/> members comes back whole with cursor 0, in score
    /// order (what Redis does for its small listpack encoding); a bigger one is paged in member order over the
    /// member index, about <paramref name="count"/> entries examined per call. Member order, not score order: a
    /// member keeps its place whatever its score becomes, so a member present from the first call to the last is
    /// returned, once, however the scores change between calls (Redis' SCAN guarantee). The pattern (null: none)
    /// matches members.
    /// </summary>
    public KeyLookup Scan(ReadOnlySpan<byte> key, long cursor, byte[]? pattern, long count, out ZScanPage page)
    {
        var items = new List<ZEntry>();
        page = new ZScanPage(0, items, true);
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found)
            {
                return lookup;
            }
            var prefix = Prefix(key, meta);
            var matchAll = pattern is null || Glob.IsMatchAll(pattern);
            var compact = meta.Size <= CompactEntries;
            var start = compact ? prefix : SubKeyCollection.ResumePoint(_db.Index, key, prefix, _db.Dataset.Cursors.Resume(cursor));
            using var it = compact ? ScoreIterator(prefix) : MemberIterator(prefix);
            var memberStart = prefix.Length + (compact ? 8 : 0);
            long examined = 0;
            for (it.Seek(start); it.Valid(); it.Next())
            {
                if (!compact && examined++ >= count)
                {
                    page = new ZScanPage(_db.Dataset.Cursors.Save(it.Key()), items, false);
                    return lookup;
                }
                var member = it.GetKeySpan()[memberStart..];
                if (matchAll || Glob.Match(pattern, member))
                {
                    items.Add(compact ? ReadScoreEntry(it, prefix.Length) : ReadMemberEntry(it, prefix.Length));
                }
            }
            page = new ZScanPage(0, items, compact);
            return lookup;
        }
    }

    /// <summary>One input of a set operation: a sorted set, a set (scores 1) or a missing key (empty).</summary>
    private sealed class Source(RedisZSet owner, RedisType type, byte[] prefix, long size, double weight)
    {
        public long Size => size;

        public double Weight => weight;

        /// <summary>Calls <paramref name="visit"/> for each entry until it returns false.</summary>
        public void ForEach(Func<ZEntry, bool> visit)
        {
            if (type == RedisType.None)
            {
                return;
            }
            var engine = owner._db.Engine;
            var family = type == RedisType.ZSet ? engine.ZScore : engine.Sub;
            using Iterator it = engine.NewIterator(family, prefix, KeyCodec.PrefixUpperBound(prefix));
            for (it.SeekToFirst(); it.Valid(); it.Next())
            {
                var entry = type == RedisType.ZSet
                    ? ReadScoreEntry(it, prefix.Length)
                    : new ZEntry(it.GetKeySpan()[prefix.Length..].ToArray(), 1);
                if (!visit(entry))
                {
                    return;
                }
            }
        }

        public bool TryFind(byte[] member, out double score)
        {
            score = 0;
            switch (type)
            {
                case RedisType.ZSet:
                    return owner.TryGetScore(prefix, member, out score);
                case RedisType.Set:
                    score = 1;
                    return owner._db.Engine.TryGet(owner._db.Engine.Sub, MemberKey(prefix, member), out _);
                default:
                    return false;
            }
        }
    }
}
