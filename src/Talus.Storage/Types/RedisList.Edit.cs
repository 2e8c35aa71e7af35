using RocksDbSharp;
using Talus.Storage.Encoding;

namespace Talus.Storage.Types;

/// <summary>
/// The list edits that are not at an end: LSET, LINSERT, LREM, LTRIM, and the search LPOS.
/// Complexity (N = length):
/// <list type="bullet">
/// <item>LSET: O(1), one Put.</item>
/// <item>LTRIM: O(1), the metadata only: the cut elements lie outside [head, tail) and compaction drops them.</item>
/// <item>LINSERT: O(position of the pivot) to find it, then O(min(elements before, elements after)) rewrites: the
/// shorter side moves by one index so the indices stay contiguous.</item>
/// <item>LREM: O(N) scan to find the matches, then the elements between the first and the last match plus the
/// shorter of the outer sides are rewritten at their new indices.</item>
/// <item>LPOS: O(N) scan (or up to MAXLEN elements), streaming.</item>
/// </list>
/// Scans stream through a bounded iterator, never holding the list in managed memory; the rewritten elements do
/// sit in the command's one WriteBatch, which is what keeps the change atomic.
/// </summary>
public sealed partial class RedisList
{
    /// <summary>LSET: NotFound for a missing key, NotPerformed for an index out of range.</summary>
    public OpStatus Set(ReadOnlySpan<byte> key, long index, ReadOnlySpan<byte> value)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            if (index < 0)
            {
                index += meta.Size;
            }
            if (index < 0 || index >= meta.Size)
            {
                return OpStatus.NotPerformed;
            }
            var elementKey = ElementKey(key, meta.Version);
            SetIndex(elementKey, meta.Head + (ulong)index);
            var batch = Util.ThreadBuffers.Batch();
            batch.Put(elementKey, value, _db.Engine.Sub);
            // Unchanged, but written: every batch that changes a list's elements writes its metadata, which is
            // what retires the list's entry in the list cache (docs/storage-format.md, "The list cache").
            PutMeta(batch, key, meta);
            _db.Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// LINSERT: inserts <paramref name="value"/> before or after the first <paramref name="pivot"/>. The new length,
    /// -1 when the pivot is absent, 0 when the key is missing.
    /// </summary>
    public OpStatus Insert(ReadOnlySpan<byte> key, bool after, ReadOnlySpan<byte> pivot, ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var position = FindFirst(key, meta, pivot);
            if (position is not { } p)
            {
                length = -1;
                return OpStatus.Ok;
            }
            // The new element goes into the gap before index q; the shorter side moves one step outwards.
            var q = after ? p + 1 : p;
            var before = q - meta.Head;
            var behind = meta.Tail - q;
            using var lease = new BatchLease((long)Math.Min(before, behind) + 1);
            var elementKey = ElementKey(key, meta.Version);
            if (before < behind)
            {
                MoveRange(lease.Batch, key, meta.Version, meta.Head, q, -1);
                meta.Head--;
                SetIndex(elementKey, q - 1);
            }
            else
            {
                MoveRange(lease.Batch, key, meta.Version, q, meta.Tail, +1);
                meta.Tail++;
                SetIndex(elementKey, q);
            }
            lease.Batch.Put(elementKey, value, _db.Engine.Sub);
            meta.Size++;
            PutMeta(lease.Batch, key, meta);
            _db.Engine.Write(lease.Batch);
            length = meta.Size;
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// LREM: removes up to |<paramref name="count"/>| elements equal to <paramref name="value"/>, from the head when
    /// count &gt; 0, from the tail when count &lt; 0, all when 0.
    /// </summary>
    public OpStatus Remove(ReadOnlySpan<byte> key, long count, ReadOnlySpan<byte> value, out long removed)
    {
        removed = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            var limit = count == 0 ? long.MaxValue : count == long.MinValue ? long.MaxValue : Math.Abs(count);
            var matches = FindMatches(key, meta, value, fromTail: count < 0, limit);
            if (matches.Count == 0)
            {
                return OpStatus.Ok;
            }
            removed = matches.Count;
            using var lease = new BatchLease(meta.Size);
            if (removed == meta.Size)
            {
                lease.Batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
            }
            else
            {
                CompactAfterRemoval(lease.Batch, key, ref meta, matches);
                PutMeta(lease.Batch, key, meta);
            }
            _db.Engine.Write(lease.Batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>LTRIM with Redis' index rules; trimming everything deletes the key.</summary>
    public OpStatus Trim(ReadOnlySpan<byte> key, long start, long stop)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.Ok;
            }
            long leftCut, rightCut;
            if (ClampRange(meta.Size, ref start, ref stop))
            {
                leftCut = start;
                rightCut = meta.Size - stop - 1;
            }
            else
            {
                leftCut = meta.Size;
                rightCut = 0;
            }
            if (leftCut == 0 && rightCut == 0)
            {
                return OpStatus.Ok;
            }
            using var lease = new BatchLease(1);
            if (leftCut + rightCut >= meta.Size)
            {
                lease.Batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
            }
            else
            {
                // As after a pop, the cut elements lie outside [head, tail) and the compaction filter drops them.
                meta.Head += (ulong)leftCut;
                meta.Tail -= (ulong)rightCut;
                meta.Size -= leftCut + rightCut;
                PutMeta(lease.Batch, key, meta);
            }
            _db.Engine.Write(lease.Batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// LPOS. <paramref name="rank"/> is never 0 (negative searches from the tail); <paramref name="count"/> is
    /// null without COUNT, 0 for all matches; <paramref name="maxLength"/> 0 means no limit. Positions count from
    /// the head. The arithmetic follows Redis' C code, wrap-around of RANK -2^63 included.
    /// </summary>
    public KeyLookup Positions(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long rank, long? count, long maxLength, out List<long> positions)
    {
        var fromTail = rank < 0;
        if (fromTail)
        {
            rank = unchecked(-rank);
        }
        for (var attempt = 1; ; attempt++)
        {
            positions = [];
            using var view = new SnapshotView(_db.Engine);
            var found = view.Lookup(_db, key, out var meta);
            if (found != KeyLookup.Found)
            {
                return found;
            }
            var (lower, upper) = Bounds(key, meta.Version, meta.Head, meta.Tail);
            using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper, view.Snapshot);
            if (fromTail)
            {
                it.SeekToLast();
            }
            else
            {
                it.Seek(lower);
            }
            long index = 0, matches = 0;
            var whole = true;
            for (; it.Valid() && (maxLength == 0 || index < maxLength); index++)
            {
                // Positions are counted, so an element missing under the snapshot (CheckAttempt) would shift them.
                if (KeyCodec.ListElementIndex(it.GetKeySpan()) != (fromTail ? meta.Tail - 1 - (ulong)index : meta.Head + (ulong)index))
                {
                    whole = false;
                    break;
                }
                if (it.GetValueSpan().SequenceEqual(value) && ++matches >= rank)
                {
                    positions.Add(fromTail ? meta.Size - index - 1 : index);
                    if (count is not { } c || (c != 0 && unchecked(matches - rank + 1) >= c))
                    {
                        break;
                    }
                }
                if (fromTail)
                {
                    it.Prev();
                }
                else
                {
                    it.Next();
                }
            }
            if (whole && (it.Valid() || index >= meta.Size || (maxLength != 0 && index >= maxLength)))
            {
                return found;
            }
            CheckAttempt(attempt);
        }
    }

    /// <summary>The index of the first element equal to <paramref name="value"/>, scanning from the head.</summary>
    private ulong? FindFirst(ReadOnlySpan<byte> key, in Metadata meta, ReadOnlySpan<byte> value)
    {
        var (lower, upper) = Bounds(key, meta.Version, meta.Head, meta.Tail);
        using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper);
        for (it.Seek(lower); it.Valid(); it.Next())
        {
            if (it.GetValueSpan().SequenceEqual(value))
            {
                return KeyCodec.ListElementIndex(it.GetKeySpan());
            }
        }
        return null;
    }

    /// <summary>Indices (ascending) of up to <paramref name="limit"/> elements equal to <paramref name="value"/>.</summary>
    private List<ulong> FindMatches(ReadOnlySpan<byte> key, in Metadata meta, ReadOnlySpan<byte> value, bool fromTail, long limit)
    {
        var matches = new List<ulong>();
        var (lower, upper) = Bounds(key, meta.Version, meta.Head, meta.Tail);
        using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper);
        if (fromTail)
        {
            it.SeekToLast();
        }
        else
        {
            it.Seek(lower);
        }
        while (it.Valid() && matches.Count < limit)
        {
            if (it.GetValueSpan().SequenceEqual(value))
            {
                matches.Add(KeyCodec.ListElementIndex(it.GetKeySpan()));
            }
            if (fromTail)
            {
                it.Prev();
            }
            else
            {
                it.Next();
            }
        }
        if (fromTail)
        {
            matches.Reverse();
        }
        return matches;
    }

    /// <summary>
    /// Closes the holes left by removing <paramref name="removed"/> (ascending indices): the kept elements between
    /// the first and last hole, plus the shorter outer side, slide together; the freed indices at that end are deleted.
    /// </summary>
    private void CompactAfterRemoval(WriteBatch batch, ReadOnlySpan<byte> key, ref Metadata meta, List<ulong> removed)
    {
        var k = (ulong)removed.Count;
        var headSide = removed[0] - meta.Head;
        var tailSide = meta.Tail - 1 - removed[^1];
        var elementKey = ElementKey(key, meta.Version);
        if (tailSide <= headSide)
        {
            // Slide towards the head: each kept element from the first hole on moves down by the holes before it.
            var (lower, upper) = Bounds(key, meta.Version, removed[0], meta.Tail);
            using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper);
            var next = 0;
            for (it.Seek(lower); it.Valid(); it.Next())
            {
                var index = KeyCodec.ListElementIndex(it.GetKeySpan());
                if (next < removed.Count && removed[next] == index)
                {
                    next++;
                    continue;
                }
                SetIndex(elementKey, index - (ulong)next);
                batch.Put(elementKey, it.GetValueSpan(), _db.Engine.Sub);
            }
            // The k indices freed at the tail end are left to the compaction filter, as a pop leaves them.
            meta.Tail -= k;
        }
        else
        {
            // Slide towards the tail: each kept element up to the last hole moves up by the holes after it.
            var (lower, upper) = Bounds(key, meta.Version, meta.Head, removed[^1] + 1);
            using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper);
            var next = removed.Count - 1;
            var after = 0UL;
            for (it.SeekToLast(); it.Valid(); it.Prev())
            {
                var index = KeyCodec.ListElementIndex(it.GetKeySpan());
                if (next >= 0 && removed[next] == index)
                {
                    next--;
                    after++;
                    continue;
                }
                SetIndex(elementKey, index + after);
                batch.Put(elementKey, it.GetValueSpan(), _db.Engine.Sub);
            }
            meta.Head += k;
        }
        meta.Size -= (long)k;
    }

    /// <summary>Rewrites the elements [from, to) at index + <paramref name="shift"/>.</summary>
    private void MoveRange(WriteBatch batch, ReadOnlySpan<byte> key, ulong version, ulong from, ulong to, int shift)
    {
        if (from >= to)
        {
            return;
        }
        var (lower, upper) = Bounds(key, version, from, to);
        var elementKey = ElementKey(key, version);
        using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper);
        for (it.Seek(lower); it.Valid(); it.Next())
        {
            var index = KeyCodec.ListElementIndex(it.GetKeySpan());
            SetIndex(elementKey, shift < 0 ? index - 1 : index + 1);
            batch.Put(elementKey, it.GetValueSpan(), _db.Engine.Sub);
        }
    }

    /// <summary>Iterator bounds covering the element indices [from, to).</summary>
    private (byte[] Lower, byte[] Upper) Bounds(ReadOnlySpan<byte> key, ulong version, ulong from, ulong to) =>
        KeyCodec.ListElementBounds(_db.Index, key, version, from, to);
}
