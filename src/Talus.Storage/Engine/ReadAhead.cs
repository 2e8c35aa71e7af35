using RocksDbSharp;
using Talus.Storage.Encoding;

namespace Talus.Storage.Engine;

/// <summary>
/// Point reads of keys that a transaction reads one after another in key order, answered from one iterator
/// instead of one RocksDB lookup each: a pipeline of LPOPs (or RPOPs) on one list reads its elements at
/// consecutive indices, and a lookup that has to go to the SST files costs about as much as positioning an
/// iterator, which then yields the next elements for little more each.
/// <para>
/// In each direction, the first read of a transaction is a plain lookup (a lone LPOP pays no iterator) unless
/// the caller knows more reads follow (<c>atOnce</c>: more commands follow in the same read of a pipeline); a
/// later read that the buffer cannot answer reads up to <see cref="Depth"/> keys from the key on, in that
/// direction, within the bounds given, and past the key itself no more than <see cref="MaxBytes"/> of values.
/// Only a transaction whose owner holds the stripes of the keys it reads until it ends (a pipeline's group)
/// reads ahead: nobody else can write those keys meanwhile, so what was read stays what the database holds.
/// The transaction's own writes are looked up before this buffer. What a group read and did not pop goes on to
/// the next group popping from the same list (<see cref="HandOn"/>, <see cref="ReadAheadCarry"/>), which looks
/// there before it reads. Not thread-safe: one owner.
/// </para>
/// </summary>
internal sealed class ReadAhead
{
    /// <summary>
    /// Most keys one refill reads: enough for sixteen groups of 16 pipelined pops, what one group leaves handed on
    /// to the next (<see cref="ReadAheadCarry"/>). Positioning the iterator is most of a refill's cost (a seek in
    /// every memtable and SST file the list's range touches); the keys after it cost a step each.
    /// </summary>
    public const int Depth = 256;

    /// <summary>A refill takes no value past the first that would make it hold more than this many bytes.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// The entries of a lane that has handed its buffer on (and has none until its next refill, which allocates
    /// one): never written, so a group that pops once per buffer allocates no buffer it does not fill.
    /// </summary>
    private static readonly List<(byte[] Key, byte[] Value)> None = new(0);

    private readonly Lane _forward = new();
    private readonly Lane _backward = new();

    /// <summary>Reads answered from what was read ahead so far.</summary>
    public int Served { get; private set; }

    /// <summary>
    /// The committed value of <paramref name="key"/> in <paramref name="family"/>, or null. <paramref name="lower"/>
    /// and <paramref name="upper"/> bound what a refill may read ([lower, upper), and the key lies in them);
    /// <paramref name="options"/> are those of a plain lookup.
    /// Each direction has a buffer of its own, so pops that alternate between a list's two ends each read ahead.
    /// </summary>
    public byte[]? Get(StorageEngine engine, ColumnFamilyHandle family, ReadOnlySpan<byte> key, byte[] lower, byte[] upper, bool forward, bool atOnce, ReadOptions options)
    {
        if ((_forward.Find(family, key) ?? _backward.Find(family, key)) is { } buffered)
        {
            Served++;
            return buffered;
        }
        var lane = forward ? _forward : _backward;
        if (engine.ReadAheadCarry?.Take(family, key, forward) is { } carried)
        {
            // An earlier group's read-ahead of this list, handed on untouched (ReadAheadCarry).
            lane.Family = family;
            lane.Entries = carried;
            lane.Next = 0;
            lane.ReadOnce = true;
            Served++;
            return lane.Find(family, key);
        }
        if (!lane.ReadOnce && !atOnce)
        {
            lane.ReadOnce = true;
            return engine.GetCommitted(family, key, options);
        }
        lane.ReadOnce = true;
        Refill(lane, engine, family, key, lower, upper, forward);
        if (lane.Entries.Count > 0 && key.SequenceEqual(lane.Entries[0].Key))
        {
            lane.Next = 1;
            return lane.Entries[0].Value;
        }
        return null;
    }

    /// <summary>
    /// Hands what was read ahead on to the next group that pops from the same list (<see cref="ReadAheadCarry"/>).
    /// Only after a commit whose batch wrote nothing in <c>sub</c>, with the list's stripe still held.
    /// </summary>
    public void HandOn(ReadAheadCarry carry)
    {
        HandOn(carry, _forward, forward: true);
        HandOn(carry, _backward, forward: false);
    }

    private static void HandOn(ReadAheadCarry carry, Lane lane, bool forward)
    {
        if (lane.Family is { } family && lane.Entries.Count > 0)
        {
            carry.Offer(family, forward, lane.Entries);
            lane.Entries = None;
            lane.Next = 0;
        }
    }

    private static void Refill(Lane lane, StorageEngine engine, ColumnFamilyHandle family, ReadOnlySpan<byte> key, byte[] lower, byte[] upper, bool forward)
    {
        var entries = lane.Entries;
        if (ReferenceEquals(entries, None))
        {
            entries = lane.Entries = new List<(byte[] Key, byte[] Value)>(Depth);
        }
        entries.Clear();
        lane.Next = 0;
        lane.Family = family;
        var options = new ReadOptions();
        options.SetIterateLowerBound(lower);
        options.SetIterateUpperBound(upper);
        using var it = engine.Db.NewIterator(family, options);
        var start = key.ToArray();
        if (forward)
        {
            it.Seek(start);
        }
        else
        {
            it.SeekForPrev(start);
        }
        var bytes = 0;
        while (it.Valid() && entries.Count < Depth)
        {
            // The key asked for is always taken; past it, no value that would take the buffer over MaxBytes.
            var value = it.GetValueSpan();
            if (entries.Count > 0 && bytes + value.Length > MaxBytes)
            {
                break;
            }
            entries.Add((it.Key(), value.ToArray()));
            bytes += value.Length;
            if (forward)
            {
                it.Next();
            }
            else
            {
                it.Prev();
            }
        }
    }

    /// <summary>
    /// Where <paramref name="key"/> is among <paramref name="entries"/> (keys of one list's elements, read in one
    /// direction), or -1. Tried first: <paramref name="hint"/> (the entry after the last one found), then the place
    /// the key's element index gives (the entries are consecutive indices), and only then every entry; so a group's
    /// pops find each element at once, also in a buffer of <see cref="Depth"/> handed on to it.
    /// </summary>
    internal static int IndexOf(List<(byte[] Key, byte[] Value)> entries, ReadOnlySpan<byte> key, int hint)
    {
        var count = entries.Count;
        if ((uint)hint < (uint)count && key.SequenceEqual(entries[hint].Key))
        {
            return hint;
        }
        if (count > 0 && key.Length >= 8 && entries[0].Key.Length == key.Length)
        {
            var offset = (long)(KeyCodec.ListElementIndex(key) - KeyCodec.ListElementIndex(entries[0].Key));
            foreach (var at in (ReadOnlySpan<long>)[offset, -offset])
            {
                if ((ulong)at < (ulong)count && key.SequenceEqual(entries[(int)at].Key))
                {
                    return (int)at;
                }
            }
        }
        for (var i = 0; i < count; i++)
        {
            if (key.SequenceEqual(entries[i].Key))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>What was read ahead in one direction.</summary>
    private sealed class Lane
    {
        public List<(byte[] Key, byte[] Value)> Entries = None;
        public ColumnFamilyHandle? Family;
        public bool ReadOnce;

        /// <summary>The entry after the last one found: a group's pops read consecutive elements.</summary>
        public int Next;

        public byte[]? Find(ColumnFamilyHandle family, ReadOnlySpan<byte> key)
        {
            if (!ReferenceEquals(family, Family))
            {
                return null;
            }
            var at = IndexOf(Entries, key, Next);
            if (at < 0)
            {
                return null;
            }
            Next = at + 1;
            return Entries[at].Value;
        }
    }
}
