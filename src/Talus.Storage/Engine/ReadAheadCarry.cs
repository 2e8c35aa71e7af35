using System.IO.Hashing;
using RocksDbSharp;
using Talus.Storage.Encoding;

namespace Talus.Storage.Engine;

/// <summary>
/// What a pipeline group read ahead (<see cref="ReadAhead"/>) and did not pop, handed on to the next group that
/// pops from the same list, so that a hot list's pops position one iterator per <see cref="ReadAhead.Depth"/>
/// elements instead of one per group.
/// <para>
/// A group hands its read-ahead on when it commits, holding the list's stripe, and only when its batch wrote
/// nothing in <c>sub</c>: then the elements it read are still what the database holds. The hand-over is stamped
/// with the key cache's stripe of the list's <c>meta</c> key (<see cref="KeyCache.Stamp"/>), taken after the
/// group's own write. A later group takes it only while that stripe has not moved: every batch that changes a
/// list's elements writes its metadata (docs/storage-format.md, "Lists"), so no write of the list can have come
/// in between. Entries are found by the list's sub-key prefix (database, key, version), so a list deleted and
/// created again never finds its old elements. Off when the key cache is off.
/// </para>
/// A fixed number of slots, one entry each; a list whose slot another list took just reads again. Thread-safe:
/// slots are exchanged atomically.
/// </summary>
internal sealed class ReadAheadCarry
{
    private const int Slots = 64;

    private readonly Entry?[] _slots = new Entry?[Slots];
    private readonly KeyCache _keyCache;

    private long _taken;

    public ReadAheadCarry(KeyCache keyCache) => _keyCache = keyCache;

    /// <summary>Hand-overs a later group took (tests).</summary>
    public long Taken => Interlocked.Read(ref _taken);

    /// <summary>
    /// Hands on the elements read ahead in one direction, read from the list whose elements' keys they are.
    /// The caller has just written its batch (with nothing in <c>sub</c>) and still holds the list's stripe.
    /// </summary>
    public void Offer(ColumnFamilyHandle family, bool forward, List<(byte[] Key, byte[] Value)> entries)
    {
        if (entries.Count == 0 || !KeyCodec.TryDecodeSubKey(entries[0].Key, out var db, out var userKey, out _, out var field) || field.Length != 8)
        {
            return;
        }
        var stamp = _keyCache.Stamp(KeyCodec.MetaKey(db, userKey), out var hash);
        if (stamp < 0)
        {
            return;
        }
        var prefixLength = entries[0].Key.Length - 8;
        var entry = new Entry(family, forward, entries, prefixLength, hash, stamp);
        Volatile.Write(ref _slots[SlotOf(entries[0].Key.AsSpan(0, prefixLength))], entry);
    }

    /// <summary>
    /// The elements handed on for the list whose element <paramref name="key"/> is, read in the direction
    /// given, when they are still what the database holds and hold that key; the slot is emptied either way.
    /// </summary>
    public List<(byte[] Key, byte[] Value)>? Take(ColumnFamilyHandle family, ReadOnlySpan<byte> key, bool forward)
    {
        if (key.Length <= 8)
        {
            return null;
        }
        var prefix = key[..^8];
        ref var slot = ref _slots[SlotOf(prefix)];
        if (Volatile.Read(ref slot) is not { } seen || !seen.Matches(family, prefix, forward))
        {
            return null;
        }
        if (!ReferenceEquals(Interlocked.CompareExchange(ref slot, null, seen), seen) || !_keyCache.Unchanged(seen.Hash, seen.Stamp))
        {
            return null;
        }
        if (ReadAhead.IndexOf(seen.Entries, key, -1) >= 0)
        {
            Interlocked.Increment(ref _taken);
            return seen.Entries;
        }
        return null;
    }

    private static int SlotOf(ReadOnlySpan<byte> prefix) => (int)(XxHash3.HashToUInt64(prefix) % Slots);

    private sealed class Entry(ColumnFamilyHandle family, bool forward, List<(byte[] Key, byte[] Value)> entries, int prefixLength, ulong hash, long stamp)
    {
        // The list's first key, kept apart: a group popping from another list whose slot this is may read the entry
        // (Matches) after the group that took it has begun to refill the list in place (ReadAhead), when the list
        // may be empty. A key array is never written once read.
        private readonly byte[] _firstKey = entries[0].Key;

        public List<(byte[] Key, byte[] Value)> Entries { get; } = entries;

        public ulong Hash { get; } = hash;

        public long Stamp { get; } = stamp;

        public bool Matches(ColumnFamilyHandle other, ReadOnlySpan<byte> prefix, bool direction) =>
            ReferenceEquals(family, other) && forward == direction && prefix.Length == prefixLength
            && prefix.SequenceEqual(_firstKey.AsSpan(0, prefixLength));
    }
}
