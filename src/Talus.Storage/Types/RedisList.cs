using System.Buffers.Binary;
using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Util;

namespace Talus.Storage.Types;

/// <summary>An end of a list (LEFT is the head, RIGHT the tail). Never persisted.</summary>
public enum ListEnd
{
    Left,  // head: LPUSH, LPOP
    Right, // tail: RPUSH, RPOP
}

/// <summary>
/// Supplies the <paramref name="index"/>-th element of a push from <paramref name="state"/> (a command's arguments)
/// without copying them first; a static lambda with its state passed beside it allocates nothing per call.
/// </summary>
public delegate ReadOnlySpan<byte> ElementSource<in TState>(TState state, int index);

/// <summary>
/// Lists. The metadata holds head and tail; element i (0-based from the head) lives in the <c>sub</c> CF at
/// <c>SubKey(db, key, version, BE64(head + i))</c>, and the live elements are exactly the indices [head, tail),
/// so size = tail - head at all times. LPUSH writes at head - 1, RPUSH at tail: both O(1) per element, as are
/// LPOP/RPOP, LINDEX and LSET (one point read or write at a computed index). LRANGE iterates only the
/// requested indices. LINSERT and LREM keep the indices contiguous by rewriting the shorter side of the change
/// (see RedisList.Edit.cs). Every write holds the key's stripe lock and commits one WriteBatch; a list that
/// becomes empty loses its meta key. Multi-read commands read through one RocksDB snapshot so that the
/// metadata and the elements they read agree.
/// </summary>
public sealed partial class RedisList
{
    /// <summary>Above this many entries a command writes through its own batch instead of the per-thread one (whose capacity it would pin).</summary>
    private const int SmallBatch = 256;

    /// <summary>How many snapshots a read of [head, tail) tries before it calls the list damaged (<see cref="CheckAttempt"/>).</summary>
    private const int ReadAttempts = 3;

    private readonly Database _db;

    internal RedisList(Database db) => _db = db;

    /// <summary>LLEN: the length, 0 when missing.</summary>
    public KeyLookup Length(ReadOnlySpan<byte> key, out long length)
    {
        var found = _db.Lookup(key, RedisType.List, out var meta, out _);
        length = found == KeyLookup.Found ? meta.Size : 0;
        return found;
    }

    /// <summary>
    /// LPUSH/RPUSH (and the X variants with <paramref name="onlyIfExists"/>): pushes the elements one by one at
    /// <paramref name="end"/>, so LPUSH a b c leaves c first. Returns the new length (0 for an X variant on a missing key).
    /// </summary>
    public OpStatus Push<TState>(ReadOnlySpan<byte> key, ListEnd end, int count, TState state, ElementSource<TState> elements, bool onlyIfExists, out long length)
    {
        length = 0;
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found == KeyLookup.WrongType)
            {
                return OpStatus.WrongType;
            }
            if (found == KeyLookup.Missing)
            {
                if (onlyIfExists)
                {
                    return OpStatus.Ok;
                }
                meta = Metadata.NewCollection(RedisType.List, _db.Engine.NextVersion());
            }
            using var lease = new BatchLease(count);
            PutElements(lease.Batch, key, ref meta, end, count, state, elements);
            PutMeta(lease.Batch, key, meta);
            _db.Engine.Write(lease.Batch);
            length = meta.Size;
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// SORT ... STORE: replaces <paramref name="key"/> (whatever its type, and without expiry) by a list of
    /// <paramref name="elements"/> in one batch, or deletes it when there are none. True when the key existed or
    /// now exists (a write happened).
    /// </summary>
    public bool Store(ReadOnlySpan<byte> key, IReadOnlyList<byte[]> elements)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            if (elements.Count == 0)
            {
                return _db.Keys.Delete(key);
            }
            var meta = Metadata.NewCollection(RedisType.List, _db.Engine.NextVersion());
            using var lease = new BatchLease(elements.Count);
            PutElements(lease.Batch, key, ref meta, ListEnd.Right, elements.Count, elements, static (list, i) => list[i]);
            PutMeta(lease.Batch, key, meta);
            _db.Engine.Write(lease.Batch);
            return true;
        }
    }

    /// <summary>Pushes byte arrays (tests and internal callers).</summary>
    public OpStatus Push(ReadOnlySpan<byte> key, ListEnd end, IReadOnlyList<byte[]> elements, out long length) =>
        Push(key, end, elements.Count, elements, static (list, i) => list[i], false, out length);

    /// <summary>
    /// LPOP/RPOP: removes up to <paramref name="count"/> elements from <paramref name="end"/>, in pop order.
    /// NotFound when the key is missing.
    /// </summary>
    public OpStatus Pop(ReadOnlySpan<byte> key, ListEnd end, long count, out List<byte[]> values)
    {
        values = [];
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            var n = Math.Min(count, meta.Size);
            if (n == 0)
            {
                return OpStatus.Ok;
            }
            values = new List<byte[]>((int)Math.Min(n, 1024));
            var first = end == ListEnd.Left ? meta.Head : meta.Tail - (ulong)n;
            if (n == 1)
            {
                values.Add(ReadOne(key, meta, first, end));
            }
            else
            {
                var read = ValueBuffer.Take();
                ReadRange(key, meta.Version, first, (ulong)n, null, read);
                values = read.ToList();
            }
            if (end == ListEnd.Right)
            {
                values.Reverse();
            }
            WritePopped(key, meta, end, n);
            return OpStatus.Ok;
        }
    }

    /// <summary>
    /// Pops one element (LPOP/RPOP without a count, BLPOP ...): null when the key is missing (or, with
    /// <paramref name="status"/> WrongType, of another type). Allocates only the value it returns.
    /// </summary>
    public byte[]? PopOne(ReadOnlySpan<byte> key, ListEnd end, out OpStatus status)
    {
        using (_db.Locks.Lock(_db.Index, key))
        {
            var found = _db.Lookup(key, RedisType.List, out var meta, out _);
            if (found != KeyLookup.Found || meta.Size == 0)
            {
                status = found switch
                {
                    KeyLookup.WrongType => OpStatus.WrongType,
                    KeyLookup.Found => OpStatus.Ok,
                    _ => OpStatus.NotFound,
                };
                return null;
            }
            var value = ReadOne(key, meta, end == ListEnd.Left ? meta.Head : meta.Tail - 1, end);
            WritePopped(key, meta, end, 1);
            status = OpStatus.Ok;
            return value;
        }
    }

    /// <summary>
    /// The element at <paramref name="index"/>, the next to pop from <paramref name="end"/>: one point read at a
    /// computed index, since an iterator (read options, bounds, one child iterator per memtable and level) costs
    /// several times as much. In a pipeline's group the pops that follow read the next indices, and those reads
    /// share one iterator (<see cref="StorageEngine.GetInOrder"/>).
    /// </summary>
    private byte[] ReadOne(ReadOnlySpan<byte> key, Metadata meta, ulong index, ListEnd end)
    {
        var elementKey = ElementKeyScratch(key, meta.Version);
        SetIndex(elementKey, index);
        var (lower, upper) = Bounds(key, meta.Version, meta.Head, meta.Tail);
        return _db.Engine.GetInOrder(_db.Engine.Sub, elementKey, lower, upper, forward: end == ListEnd.Left)
            ?? throw new InvalidDataException("list element missing at its index");
    }

    /// <summary>Writes the metadata after <paramref name="n"/> elements were popped from <paramref name="end"/> (or deletes the key when none are left).</summary>
    private void WritePopped(ReadOnlySpan<byte> key, Metadata meta, ListEnd end, long n)
    {
        using var lease = new BatchLease(1);
        if (n == meta.Size)
        {
            // The whole list goes: dropping the meta key orphans the elements, which compaction reclaims.
            lease.Batch.Delete(_db.MetaKeySpan(key), _db.Engine.Meta);
        }
        else
        {
            // The popped elements are not deleted: they fall outside [head, tail), where no read looks, and the
            // sub compaction filter drops them (docs/storage-format.md, "Lists"). No tombstones for a queue.
            if (end == ListEnd.Left)
            {
                meta.Head += (ulong)n;
            }
            else
            {
                meta.Tail -= (ulong)n;
            }
            meta.Size -= n;
            PutMeta(lease.Batch, key, meta);
        }
        _db.Engine.Write(lease.Batch);
    }

    /// <summary>
    /// LMOVE/RPOPLPUSH: pops from <paramref name="from"/> of the source and pushes at <paramref name="to"/> of the
    /// destination, atomically (one batch, both keys locked). NotFound when the source is missing (whatever the
    /// destination holds); WrongType when either key holds another type. Source and destination may be one key.
    /// </summary>
    public OpStatus Move(byte[] source, byte[] destination, ListEnd from, ListEnd to, out byte[]? value)
    {
        value = null;
        using (_db.Locks.LockMany(_db.Index, [source, destination]))
        {
            var found = _db.Lookup(source, RedisType.List, out var src, out _);
            if (found != KeyLookup.Found)
            {
                return found == KeyLookup.WrongType ? OpStatus.WrongType : OpStatus.NotFound;
            }
            var same = source.AsSpan().SequenceEqual(destination);
            var dst = src;
            if (!same)
            {
                found = _db.Lookup(destination, RedisType.List, out dst, out _);
                if (found == KeyLookup.WrongType)
                {
                    return OpStatus.WrongType;
                }
                if (found == KeyLookup.Missing)
                {
                    dst = Metadata.NewCollection(RedisType.List, _db.Engine.NextVersion());
                }
            }
            var popIndex = from == ListEnd.Left ? src.Head : src.Tail - 1;
            var elementKey = ElementKey(source, src.Version);
            SetIndex(elementKey, popIndex);
            value = _db.Engine.Get(_db.Engine.Sub, elementKey) ?? throw new InvalidDataException("list element missing at its index");
            // Like a pop, the moved element is left outside [head, tail) for the compaction filter.
            var batch = ThreadBuffers.Batch();
            if (from == ListEnd.Left)
            {
                src.Head++;
            }
            else
            {
                src.Tail--;
            }
            src.Size--;
            if (same)
            {
                dst = src;
            }
            var pushIndex = to == ListEnd.Left ? --dst.Head : dst.Tail++;
            dst.Size++;
            var target = ElementKey(destination, dst.Version);
            SetIndex(target, pushIndex);
            batch.Put(target, value, _db.Engine.Sub);
            if (!same)
            {
                if (src.Size == 0)
                {
                    batch.Delete(_db.MetaKeySpan(source), _db.Engine.Meta);
                }
                else
                {
                    PutMeta(batch, source, src);
                }
            }
            PutMeta(batch, destination, dst);
            _db.Engine.Write(batch);
            return OpStatus.Ok;
        }
    }

    /// <summary>LINDEX: the element at <paramref name="index"/> (negative counts from the tail), null when out of range.</summary>
    public KeyLookup Index(ReadOnlySpan<byte> key, long index, out byte[]? value)
    {
        value = null;
        for (var attempt = 1; ; attempt++)
        {
            using var view = new SnapshotView(_db.Engine);
            var found = view.Lookup(_db, key, out var meta);
            var at = index < 0 ? index + meta.Size : index;
            if (found != KeyLookup.Found || at < 0 || at >= meta.Size)
            {
                return found;
            }
            var elementKey = ElementKey(key, meta.Version);
            SetIndex(elementKey, meta.Head + (ulong)at);
            value = _db.Engine.Get(_db.Engine.Sub, elementKey, view.Options);
            if (value is not null)
            {
                return found;
            }
            CheckAttempt(attempt);
        }
    }

    /// <summary>
    /// A read at a snapshot found an element of [head, tail) missing. That happens only when, since the snapshot,
    /// a write left the element outside the list (a pop, LTRIM, LREM, DEL) and a compaction dropped it (a
    /// compaction filter does not see snapshots): the read is repeated on a new snapshot. Several misses in a row
    /// mean the list is damaged, and the command fails loudly.
    /// </summary>
    private static void CheckAttempt(int attempt)
    {
        if (attempt >= ReadAttempts)
        {
            throw new InvalidDataException($"list elements missing within [head, tail) in {ReadAttempts} reads");
        }
    }

    /// <summary>
    /// LRANGE with Redis' index rules (negative from the tail, clamped to the list), into the thread's
    /// <see cref="ValueBuffer"/> (no array per element).
    /// </summary>
    public KeyLookup Range(ReadOnlySpan<byte> key, long start, long stop, out ValueBuffer values)
    {
        values = ValueBuffer.Take();
        var cache = _db.Engine.ListCacheForRead;
        var stamp = -1L;
        var hash = 0UL;
        if (cache is not null)
        {
            var metaKey = _db.MetaKeySpan(key);
            if (cache.TryGet(metaKey, out var entry) && !Metadata.IsExpiredAt(entry.ExpireAtMs, Database.NowMs)
                && RangeFrom(entry, start, stop, values))
            {
                cache.CountRead(hit: true);
                return KeyLookup.Found;
            }
            // Stamped before the snapshot: what the snapshot shows is served later only while nothing wrote since.
            stamp = cache.Stamp(metaKey, out hash);
        }
        for (var attempt = 1; ; attempt++)
        {
            using var view = new SnapshotView(_db.Engine);
            var found = view.Lookup(_db, key, out var meta);
            var (from, to) = (start, stop);
            if (found != KeyLookup.Found || !ClampRange(meta.Size, ref from, ref to))
            {
                return found;
            }
            var n = to - from + 1;
            ReadRange(key, meta.Version, meta.Head + (ulong)from, (ulong)n, view.Snapshot, values);
            if (values.Count == n)
            {
                if (cache is not null)
                {
                    cache.CountRead(hit: false);
                    cache.Offer(_db.MetaKeySpan(key), hash, stamp, meta.Size, meta.ExpireAtMs, from, values);
                }
                return found;
            }
            CheckAttempt(attempt);
            values = ValueBuffer.Take();
        }
    }

    /// <summary>
    /// LRANGE from the window of the list an entry holds: false when the range reaches outside it. An empty range
    /// of a cached list is answered too.
    /// </summary>
    private static bool RangeFrom(ListCache.Entry entry, long start, long stop, ValueBuffer values)
    {
        if (!ClampRange(entry.Size, ref start, ref stop))
        {
            return true;
        }
        if (start < entry.First || stop >= entry.First + entry.Count)
        {
            return false;
        }
        for (var i = start; i <= stop; i++)
        {
            values.Add(entry[(int)(i - entry.First)]);
        }
        return true;
    }

    /// <summary>
    /// Redis' LRANGE clamping: negative indices count from the tail; false when the range is empty.
    /// On true, 0 &lt;= start &lt;= stop &lt; size.
    /// </summary>
    public static bool ClampRange(long size, ref long start, ref long stop)
    {
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
            return false;
        }
        if (stop >= size)
        {
            stop = size - 1;
        }
        return true;
    }

    /// <summary>Reads <paramref name="count"/> consecutive elements from index <paramref name="first"/> in head-to-tail order.</summary>
    private void ReadRange(ReadOnlySpan<byte> key, ulong version, ulong first, ulong count, Snapshot? snapshot, ValueBuffer into)
    {
        var (lower, upper) = Bounds(key, version, first, first + count);
        using var it = _db.Engine.NewIterator(_db.Engine.Sub, lower, upper, snapshot);
        for (it.Seek(lower); it.Valid(); it.Next())
        {
            into.Add(it.GetValueSpan());
        }
    }

    private void PutMeta(WriteBatch batch, ReadOnlySpan<byte> key, in Metadata meta)
    {
        Span<byte> encoded = stackalloc byte[Metadata.ListSize];
        var n = meta.Encode(encoded);
        batch.Put(_db.MetaKeySpan(key), encoded[..n], _db.Engine.Meta);
    }

    /// <summary>Pushes <paramref name="count"/> elements one by one at <paramref name="end"/>: their puts, and the new head or tail and size in <paramref name="meta"/>.</summary>
    private void PutElements<TState>(WriteBatch batch, ReadOnlySpan<byte> key, ref Metadata meta, ListEnd end, int count, TState state, ElementSource<TState> elements)
    {
        // The batch copies each key: one per-thread buffer serves every push.
        var elementKey = ElementKeyScratch(key, meta.Version);
        for (var i = 0; i < count; i++)
        {
            var index = end == ListEnd.Left ? --meta.Head : meta.Tail++;
            SetIndex(elementKey, index);
            batch.Put(elementKey, elements(state, i), _db.Engine.Sub);
        }
        meta.Size += count;
    }

    [ThreadStatic]
    private static byte[]? t_elementKey;

    /// <summary>
    /// <see cref="ElementKey"/> in a per-thread buffer, valid until this thread's next call (a push's puts copy it);
    /// a key too long for the buffer gets an array of its own.
    /// </summary>
    private Span<byte> ElementKeyScratch(ReadOnlySpan<byte> key, ulong version)
    {
        var length = KeyCodec.SubKeyPrefixOverhead + key.Length + 16;
        if (length > 512)
        {
            return ElementKey(key, version);
        }
        var buffer = t_elementKey ??= new byte[512];
        var span = buffer.AsSpan(0, length);
        KeyCodec.WriteSubKeyPrefix(_db.Index, key, version, span);
        span[^8..].Clear();
        return span;
    }

    /// <summary>A sub-key buffer for elements of this key version; <see cref="SetIndex"/> fills in the index.</summary>
    private byte[] ElementKey(ReadOnlySpan<byte> key, ulong version)
    {
        Span<byte> zero = stackalloc byte[8];
        zero.Clear();
        return KeyCodec.SubKey(_db.Index, key, version, zero);
    }

    private static void SetIndex(Span<byte> elementKey, ulong index) =>
        BinaryPrimitives.WriteUInt64BigEndian(elementKey[^8..], index);

    /// <summary>
    /// The per-thread batch for small writes, a batch of its own for large ones (so one huge command does not
    /// leave a huge buffer on a thread). Dispose releases only an owned batch.
    /// </summary>
    private readonly struct BatchLease : IDisposable
    {
        private readonly bool _owned;

        public BatchLease(long expectedEntries)
        {
            _owned = expectedEntries > SmallBatch;
            Batch = _owned ? new WriteBatch() : ThreadBuffers.Batch();
        }

        public WriteBatch Batch { get; }

        public void Dispose()
        {
            if (_owned)
            {
                Batch.Dispose();
            }
        }
    }

    /// <summary>A snapshot and the read options that read through it, for reads that must agree with each other.</summary>
    private readonly struct SnapshotView : IDisposable
    {
        public SnapshotView(Engine.StorageEngine engine)
        {
            Snapshot = engine.Db.CreateSnapshot();
            Options = new ReadOptions().SetSnapshot(Snapshot);
        }

        public Snapshot Snapshot { get; }

        public ReadOptions Options { get; }

        /// <summary>The key's list metadata as of the snapshot, hiding expired keys.</summary>
        public KeyLookup Lookup(Database db, ReadOnlySpan<byte> key, out Metadata meta)
        {
            var raw = db.Engine.Get(db.Engine.Meta, db.MetaKeySpan(key), Options);
            if (raw is null || !Metadata.TryDecode(raw, out meta) || meta.IsExpired(Database.NowMs))
            {
                meta = default;
                return KeyLookup.Missing;
            }
            return meta.Type == RedisType.List ? KeyLookup.Found : KeyLookup.WrongType;
        }

        public void Dispose() => Snapshot.Dispose();
    }
}
