using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using Talus.Storage.Util;

namespace Talus.Storage.Engine;

/// <summary>
/// The elements of lists read by range (LRANGE), one window of consecutive elements per list, kept in memory so
/// that a later read within that window of a list nobody wrote meanwhile is answered without RocksDB.
/// <para>
/// Coherence rides on the key cache's stripes (<see cref="KeyCache.Stamp"/>): a read stamps the stripe of the
/// list's `meta` key before it takes its snapshot, and its elements are served later only while that stripe is
/// unchanged, that is, while no batch writing a `meta` key of the stripe has begun since. Every batch that
/// changes a list's elements also writes the list's metadata (LSET included), so an entry is never served after
/// a write of its list began. FLUSHDB and FLUSHALL move every stripe on. An entry outlives no write; the price is
/// that a write to another key of the same stripe also retires it.
/// </para>
/// <para>
/// Memory: the entries are kept in the order they came; one that a newer entry of its list replaces, or that a
/// read finds retired, leaves at once, and when the bytes held pass <see cref="Capacity"/> the oldest leave.
/// </para>
/// </summary>
public sealed class ListCache
{
    /// <summary>The most elements one entry holds.</summary>
    public const int MaxElements = 1024;

    /// <summary>The most bytes of elements one entry holds.</summary>
    public const int MaxBytes = 64 * 1024;

    // What an entry costs beyond its elements and its key: its objects, its dictionary and list slots.
    private const int EntryOverhead = 128;

    private readonly KeyCache _stripes;
    private readonly ConcurrentDictionary<byte[], Entry> _entries = new(KeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;

    // The entries in the order they came; with _entries' changes and _bytes, under _gate. Reads take no lock.
    private readonly LinkedList<Entry> _order = new();
    private readonly Lock _gate = new();
    private long _bytes;
    private long _hits;
    private long _misses;

    public ListCache(long capacity, KeyCache stripes)
    {
        Capacity = capacity;
        _stripes = stripes;
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>The most bytes the entries may hold.</summary>
    public long Capacity { get; }

    /// <summary>Bytes held by entries now.</summary>
    public long UsedBytes => Volatile.Read(ref _bytes);

    /// <summary>Range reads answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Range reads the cache could not answer.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>
    /// The entry of the list whose `meta` key is <paramref name="metaKey"/>, when one is cached and its stripe
    /// has not changed since it was read.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> metaKey, [NotNullWhen(true)] out Entry? entry)
    {
        if (_bySpan.TryGetValue(metaKey, out entry))
        {
            if (_stripes.Unchanged(entry.Hash, entry.Stamp))
            {
                return true;
            }
            lock (_gate)
            {
                Remove(entry);
            }
            entry = null;
        }
        return false;
    }

    /// <summary>Counts a read the cache answered, or one it could not (<paramref name="hit"/> false).</summary>
    public void CountRead(bool hit) => Interlocked.Increment(ref hit ? ref _hits : ref _misses);

    /// <summary>A stamp for a read of the list about to start (before its snapshot is taken); -1: do not offer it.</summary>
    public long Stamp(ReadOnlySpan<byte> metaKey, out ulong hash) => _stripes.Stamp(metaKey, out hash);

    /// <summary>
    /// Offers <paramref name="elements"/>, the elements from index <paramref name="first"/> on of a list of
    /// <paramref name="size"/> elements, read from a snapshot taken after <paramref name="stamp"/>. Kept if it is
    /// within an entry's bounds, in place of the list's entry; served only while the stamp holds.
    /// </summary>
    public void Offer(ReadOnlySpan<byte> metaKey, ulong hash, long stamp, long size, long expireAtMs, long first, ValueBuffer elements)
    {
        if (stamp < 0 || elements.Count > MaxElements || elements.ByteCount > MaxBytes || !_stripes.Unchanged(hash, stamp))
        {
            return;
        }
        var entry = new Entry(metaKey.ToArray(), hash, stamp, size, expireAtMs, first, elements);
        lock (_gate)
        {
            if (_entries.TryGetValue(entry.Key, out var replaced))
            {
                Remove(replaced);
            }
            _entries[entry.Key] = entry;
            entry.Node = _order.AddLast(entry);
            Volatile.Write(ref _bytes, _bytes + entry.Cost);
            while (_bytes > Capacity && _order.First is { } oldest)
            {
                Remove(oldest.Value);
            }
        }
    }

    /// <summary>Takes an entry out, unless it is out already. Under <see cref="_gate"/>.</summary>
    private void Remove(Entry entry)
    {
        if (entry.Node is not { List: not null } node)
        {
            return;
        }
        _order.Remove(node);
        _entries.TryRemove(new KeyValuePair<byte[], Entry>(entry.Key, entry));
        Volatile.Write(ref _bytes, _bytes - entry.Cost);
    }

    /// <summary><see cref="Count"/> consecutive elements of a list from index <see cref="First"/> on, as they were at <see cref="Stamp"/>.</summary>
    public sealed class Entry
    {
        private readonly ValueBuffer _elements;

        internal Entry(byte[] key, ulong hash, long stamp, long size, long expireAtMs, long first, ValueBuffer elements)
        {
            First = first;
            Key = key;
            Hash = hash;
            Stamp = stamp;
            Size = size;
            ExpireAtMs = expireAtMs;
            _elements = elements.Copy();
            Cost = EntryOverhead + key.Length + _elements.ByteCount + (4L * _elements.Count);
        }

        internal byte[] Key { get; }

        internal ulong Hash { get; }

        internal long Stamp { get; }

        internal long Cost { get; }

        /// <summary>Its place in the cache's order; its list is null once it is out.</summary>
        internal LinkedListNode<Entry>? Node { get; set; }

        /// <summary>The list's length.</summary>
        public long Size { get; }

        /// <summary>The list's expiry, unix ms; 0 = none.</summary>
        public long ExpireAtMs { get; }

        /// <summary>The index (from the head, 0-based) of the first element held.</summary>
        public long First { get; }

        /// <summary>Elements held.</summary>
        public int Count => _elements.Count;

        /// <summary>The element <paramref name="index"/> places after <see cref="First"/> (below <see cref="Count"/>).</summary>
        public ReadOnlySpan<byte> this[int index] => _elements[index];
    }

    private sealed class KeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] key) => GetHashCode((ReadOnlySpan<byte>)key);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => (int)XxHash3.HashToUInt64(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
