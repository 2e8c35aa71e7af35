using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>Ranges, ranks, counts and removals by range: bounded walks over one of the two indexes.</summary>
public sealed partial class RedisZSet
{
    /// <summary>ZRANGE and friends: the entries the query selects, in reply order.</summary>
    public KeyLookup Range(ReadOnlySpan<byte> key, ZRangeQuery query, List<ZEntry> result)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup == KeyLookup.Found)
            {
                Select(Prefix(key, meta), meta.Size, query, result);
            }
            return lookup;
        }
    }

    /// <summary>ZRANGESTORE: stores the selected entries as <paramref name="destination"/>; returns how many.</summary>
    public OpStatus RangeStore(byte[] destination, byte[] source, ZRangeQuery query, out long stored)
    {
        stored = 0;
        using (_db.Locks.LockMany(_db.Index, [destination, source]))
        {
            var result = new List<ZEntry>();
            if (Range(source, query, result) == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            Store(destination, result);
            stored = result.Count;
            return OpStatus.Ok;
        }
    }

    /// <summary>ZREMRANGEBYRANK / BYSCORE / BYLEX (offset and limit are ignored).</summary>
    public OpStatus RemoveRange(ReadOnlySpan<byte> key, ZRangeQuery query, out long removed)
    {
        removed = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found)
            {
                return lookup == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var prefix = Prefix(key, meta);
            var victims = new List<ZEntry>();
            Select(prefix, meta.Size, query with { Reverse = false, Offset = 0, Limit = -1 }, victims);
            if (victims.Count == 0)
            {
                return OpStatus.Ok;
            }
            var batch = ThreadBuffers.Batch();
            foreach (var entry in victims)
            {
                DeleteEntry(batch, prefix, entry.Member, entry.Score);
            }
            meta.Size -= victims.Count;
            PutMeta(batch, key, meta);
            _db.Engine.Write(batch);
            removed = victims.Count;
            return OpStatus.Ok;
        }
    }

    /// <summary>ZPOPMIN / ZPOPMAX: removes up to <paramref name="count"/> entries from one end, in pop order.</summary>
    public OpStatus Pop(ReadOnlySpan<byte> key, long count, bool max, List<ZEntry> popped)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found)
            {
                return lookup == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            var prefix = Prefix(key, meta);
            using (var it = ScoreIterator(prefix))
            {
                for (Start(it, max); it.Valid() && popped.Count < count; Step(it, max))
                {
                    popped.Add(ReadScoreEntry(it, prefix.Length));
                }
            }
            if (popped.Count == 0)
            {
                return OpStatus.Ok;
            }
            var batch = ThreadBuffers.Batch();
            foreach (var entry in popped)
            {
                DeleteEntry(batch, prefix, entry.Member, entry.Score);
            }
            meta.Size -= popped.Count;
            PutMeta(batch, key, meta);
            _db.Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>ZRANK / ZREVRANK: the 0-based rank, or null when the member is missing.</summary>
    public KeyLookup Rank(ReadOnlySpan<byte> key, ReadOnlySpan<byte> member, bool reverse, out long? rank)
    {
        rank = null;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup != KeyLookup.Found)
            {
                return lookup;
            }
            var prefix = Prefix(key, meta);
            if (!TryGetScore(prefix, member, out var score))
            {
                return lookup;
            }
            var target = ScoreKey(prefix, score, member);
            // Walk from both ends at once: whichever reaches the member first knows its rank.
            using var front = ScoreIterator(prefix);
            using var back = ScoreIterator(prefix);
            front.SeekToFirst();
            back.SeekToLast();
            for (long i = 0; i < meta.Size && front.Valid() && back.Valid(); i++, front.Next(), back.Prev())
            {
                if (front.GetKeySpan().SequenceEqual(target))
                {
                    rank = i;
                    break;
                }
                if (back.GetKeySpan().SequenceEqual(target))
                {
                    rank = meta.Size - 1 - i;
                    break;
                }
            }
            if (reverse && rank is { } forward)
            {
                rank = meta.Size - 1 - forward;
            }
            return lookup;
        }
    }

    /// <summary>ZCOUNT.</summary>
    public KeyLookup Count(ReadOnlySpan<byte> key, ZScoreRange range, out long count)
    {
        count = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup == KeyLookup.Found && !range.IsEmpty)
            {
                var prefix = Prefix(key, meta);
                var (lower, upper) = ScoreBounds(prefix, range);
                count = CountBetween(_db.Engine.ZScore, prefix, lower, upper, meta.Size);
            }
            return lookup;
        }
    }

    /// <summary>ZLEXCOUNT.</summary>
    public KeyLookup LexCount(ReadOnlySpan<byte> key, ZLexRange range, out long count)
    {
        count = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var lookup = Find(key, out var meta);
            if (lookup == KeyLookup.Found && !range.IsEmpty)
            {
                var prefix = Prefix(key, meta);
                var (lower, upper) = LexBounds(prefix, range);
                count = CountBetween(_db.Engine.Sub, prefix, lower, upper, meta.Size);
            }
            return lookup;
        }
    }

    /// <summary>Runs a query against one stored version (caller holds the lock).</summary>
    private void Select(byte[] prefix, long size, ZRangeQuery query, List<ZEntry> result)
    {
        switch (query.Kind)
        {
            case ZRangeKind.Rank:
                SelectByRank(prefix, size, query.Start, query.Stop, query.Reverse, result);
                break;
            case ZRangeKind.Score when !query.Scores.IsEmpty:
            {
                var (lower, upper) = ScoreBounds(prefix, query.Scores);
                SelectBetween(_db.Engine.ZScore, prefix, lower, upper, size, query, result);
                break;
            }
            case ZRangeKind.Lex when !query.Lex.IsEmpty:
            {
                var (lower, upper) = LexBounds(prefix, query.Lex);
                SelectBetween(_db.Engine.Sub, prefix, lower, upper, size, query, result);
                break;
            }
        }
    }

    private void SelectByRank(byte[] prefix, long size, long start, long stop, bool reverse, List<ZEntry> result)
    {
        // Redis' index sanitising: negative counts from the end; the range is empty when start > stop or start >= size.
        if (start < 0)
        {
            start += size;
        }
        if (stop < 0)
        {
            stop += size;
        }
        if (start < 0)
        {
            start = 0;
        }
        if (start > stop || start >= size)
        {
            return;
        }
        if (stop >= size)
        {
            stop = size - 1;
        }
        // Forward positions first..last of the wanted slice (a reverse rank counts from the end).
        var first = reverse ? size - 1 - stop : start;
        var last = reverse ? size - 1 - start : stop;
        var fromBack = size - first < last + 1;
        var skip = fromBack ? size - 1 - last : first;
        var take = last - first + 1;
        var from = result.Count;
        using (var it = ScoreIterator(prefix))
        {
            for (Start(it, fromBack); it.Valid() && take > 0; Step(it, fromBack))
            {
                if (skip > 0)
                {
                    skip--;
                    continue;
                }
                result.Add(ReadScoreEntry(it, prefix.Length));
                take--;
            }
        }
        if (fromBack != reverse)
        {
            result.Reverse(from, result.Count - from);
        }
    }

    /// <summary>Score or lex query: a bounded walk over the matching index, with LIMIT's offset and count.</summary>
    private void SelectBetween(ColumnFamilyHandle family, byte[] prefix, byte[] lower, byte[] upper, long size, ZRangeQuery query, List<ZEntry> result)
    {
        var offset = query.Offset;
        var limit = query.Limit;
        // Redis: a negative offset skips everything; an offset past the end returns nothing at once.
        if (offset < 0 || (offset > 0 && offset >= size) || limit == 0 || ByteOrder(lower, upper) >= 0)
        {
            return;
        }
        var scoreIndex = family == _db.Engine.ZScore;
        using var it = _db.Engine.NewIterator(family, lower, upper);
        for (Start(it, query.Reverse); it.Valid() && limit != 0; Step(it, query.Reverse))
        {
            if (offset > 0)
            {
                offset--;
                continue;
            }
            result.Add(scoreIndex ? ReadScoreEntry(it, prefix.Length) : ReadMemberEntry(it, prefix.Length));
            if (limit > 0)
            {
                limit--;
            }
        }
    }

    /// <summary>
    /// Counts keys in [lower, upper) of one set version by walking the inside and the outside of the range
    /// in step; whichever walk ends first gives the answer, so the cost is O(min(inside, outside)).
    /// </summary>
    private long CountBetween(ColumnFamilyHandle family, byte[] prefix, byte[] lower, byte[] upper, long size)
    {
        if (ByteOrder(lower, upper) >= 0)
        {
            return 0;
        }
        using var inside = _db.Engine.NewIterator(family, lower, upper);
        using var below = _db.Engine.NewIterator(family, prefix, lower);
        using var above = _db.Engine.NewIterator(family, upper, KeyCodec.PrefixUpperBound(prefix));
        inside.SeekToFirst();
        below.SeekToFirst();
        above.SeekToFirst();
        long insideCount = 0, outsideCount = 0;
        while (true)
        {
            if (!inside.Valid())
            {
                return insideCount;
            }
            if (!below.Valid() && !above.Valid())
            {
                return size - outsideCount;
            }
            insideCount++;
            inside.Next();
            outsideCount++;
            if (below.Valid())
            {
                below.Next();
            }
            else
            {
                above.Next();
            }
        }
    }

    /// <summary>[lower, upper) in the score index for a score range (bounds as keys of the index).</summary>
    private static (byte[] Lower, byte[] Upper) ScoreBounds(byte[] prefix, ZScoreRange range)
    {
        var min = ScoreBound(prefix, range.Min);
        var max = ScoreBound(prefix, range.Max);
        // Every key of score s starts with prefix+s: the keys above them all start at PrefixUpperBound(prefix+s).
        var lower = range.MinExclusive ? KeyCodec.PrefixUpperBound(min)! : min;
        var upper = range.MaxExclusive ? max : KeyCodec.PrefixUpperBound(max)!;
        return (lower, upper);
    }

    /// <summary>[lower, upper) in the member index for a lex range.</summary>
    private static (byte[] Lower, byte[] Upper) LexBounds(byte[] prefix, ZLexRange range)
    {
        var end = KeyCodec.PrefixUpperBound(prefix)!;
        var lower = range.Min.Infinity switch
        {
            < 0 => prefix,
            > 0 => end,
            _ => range.Min.Exclusive ? WithZero(MemberKey(prefix, range.Min.Value)) : MemberKey(prefix, range.Min.Value),
        };
        var upper = range.Max.Infinity switch
        {
            < 0 => prefix,
            > 0 => end,
            _ => range.Max.Exclusive ? MemberKey(prefix, range.Max.Value) : WithZero(MemberKey(prefix, range.Max.Value)),
        };
        return (lower, upper);
    }

    /// <summary>The smallest key after <paramref name="key"/> (itself plus a 0 byte).</summary>
    private static byte[] WithZero(byte[] key)
    {
        var bytes = new byte[key.Length + 1];
        key.CopyTo(bytes, 0);
        return bytes;
    }

    private static int ByteOrder(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);

    private Iterator ScoreIterator(byte[] prefix) =>
        _db.Engine.NewIterator(_db.Engine.ZScore, prefix, KeyCodec.PrefixUpperBound(prefix));

    private Iterator MemberIterator(byte[] prefix) =>
        _db.Engine.NewIterator(_db.Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));

    private static void Start(Iterator it, bool fromBack)
    {
        if (fromBack)
        {
            it.SeekToLast();
        }
        else
        {
            it.SeekToFirst();
        }
    }

    private static void Step(Iterator it, bool backwards)
    {
        if (backwards)
        {
            it.Prev();
        }
        else
        {
            it.Next();
        }
    }

    private static ZEntry ReadScoreEntry(Iterator it, int prefixLength)
    {
        var key = it.GetKeySpan();
        return new ZEntry(key[(prefixLength + 8)..].ToArray(), KeyCodec.DecodeScore(key.Slice(prefixLength, 8)));
    }

    private static ZEntry ReadMemberEntry(Iterator it, int prefixLength) =>
        new(it.GetKeySpan()[prefixLength..].ToArray(), KeyCodec.DecodeScore(it.GetValueSpan()));
}
