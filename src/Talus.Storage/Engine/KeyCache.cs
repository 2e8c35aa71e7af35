using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Talus.Storage.Engine;

/// <summary>
/// A bounded cache of one column family's committed point reads: per key, the stored record or the fact that
/// there is none. The engine keeps one for `meta` (a string's metadata and value, a collection's metadata) and
/// one for `sub` (a member, a field, an element: the sub-key cache). A hit answers without RocksDB; the record is
/// decoded as one from RocksDB is, so expiry, type and version checks stay where they are.
/// <para>
/// Memory: one native block of <see cref="Capacity"/> bytes cut into sets of <see cref="SetBytes"/>; a key hashes
/// to one set, and a set holds entries back to back (header, key, record), oldest first. An entry that does not
/// fit pushes the oldest ones out of its set; one larger than a set is not cached. Nothing is allocated per read
/// or write. The block is a zeroed mapping: the pages of sets never used are never touched. Beside the block, a
/// small summary per set (its fill, and one bit per entry's hash tag) lets a lookup of a key the set surely does
/// not hold skip the set: in a large cache that read is a cache miss, paid otherwise by every write of a key
/// nobody reads (the elements LPUSH writes).
/// </para>
/// <para>
/// Coherence with writes (docs/storage-format.md, "The key cache"). Sets are guarded by stripe locks; each
/// stripe has a count of writes in flight and an epoch.
/// <list type="bullet">
/// <item>Before a batch is written (<see cref="BeginWrite"/>), each `meta` key it writes leaves the cache, its
/// stripe's in-flight count goes up and its epoch moves on; the epoch it reached is the record's stamp.</item>
/// <item>After the write (<see cref="EndWrite"/>), the count goes down. The key gets its new state (a put's
/// value, a deletion's absence) only if the write succeeded, no other write of the stripe is in flight, and no
/// other write of the stripe began or ended since the stamp: then no other write of that key can have reached
/// the database around this one, and the database holds exactly this state. The epoch moves on either way. A
/// key that was cached goes back in its set, pushing the oldest out if need be; a key that was not cached goes
/// in only if its set has room free (and never with <c>insertOnWrite</c> off), so a stream of writes to keys
/// nobody reads never pushes a read key out, while a key read soon after its write (the common case) is
/// answered from the cache.</item>
/// <item>A read that misses takes the stripe's epoch as a ticket (none while a write of the stripe is in
/// flight), reads the database, and offers what it read (<see cref="Fill"/>); it is kept only if the epoch
/// has not moved. So a value read before a write reached the database never enters after it.</item>
/// <item>A batch with a range deletion in `meta` (FLUSHDB, FLUSHALL), or a record that cannot be read, empties
/// the whole cache before the write and keeps every stripe's writes "in flight" until after it.</item>
/// </list>
/// Snapshot reads never use the cache.
/// </para>
/// </summary>
public sealed class KeyCache
{
    /// <summary>Bytes of one set: the largest entry (8-byte header, key, record) the cache holds.</summary>
    public const int SetBytes = 512;

    private const int EntryHeader = 8; // hash tag (4), key length (2), record length (2; Absent = none)
    private const ushort Absent = 0xFFFF;
    private const int MaxStripes = 4096;

    private readonly unsafe byte* _data;
    private readonly long _capacity;
    private readonly SetSummary[] _summaries;
    private readonly Stripe[] _stripes;
    private readonly int _setMask;
    private readonly int _stripeMask;
    private readonly uint _family;

    /// <summary>
    /// What a thread's <see cref="BeginWrite"/> left for its <see cref="EndWrite"/>, one per cache of an engine
    /// (<see cref="_slot"/>): a batch is begun in every cache before it is written.
    /// </summary>
    [ThreadStatic]
    private static WriteState?[]? t_states;

    private readonly int _slot;
    private readonly bool _insertOnWrite;

    /// <summary>What a lookup found.</summary>
    public enum Lookup
    {
        /// <summary>Not in the cache: read the database, then offer the result to <see cref="Fill"/>.</summary>
        Miss,
        /// <summary>The key has a record; it was copied into the thread's read buffer.</summary>
        Found,
        /// <summary>The key has no record.</summary>
        NotFound,
    }

    /// <summary>Where a missed read may put what it read: the key's hash and the epoch the miss saw (-1: none).</summary>
    public readonly record struct Ticket(ulong Hash, long Epoch);

    /// <summary>A `meta` record of the batch being written: where it lies, its key's hash, its stamp, and whether its key was cached.</summary>
    private struct PendingWrite
    {
        public WriteBatchRecord Record;
        public ulong Hash;
        public long Stamp;
        public bool WasCached;
    }

    /// <summary>
    /// What a set holds, kept apart from its entries: the bytes its entries fill, and the bit (<see cref="TagBit"/>)
    /// of every entry's hash tag. A lookup whose bit is clear knows the key is not in the set without reading the
    /// set. A set bit may belong to another entry (64 bits for all of a set's entries), which costs a walk, never a
    /// wrong answer. Four to a cache line; changed under the stripe's lock.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 16)]
    private struct SetSummary
    {
        [FieldOffset(0)] public ulong Tags;
        [FieldOffset(8)] public int Used;
    }

    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private struct Stripe
    {
        [FieldOffset(0)] public int Lock;
        [FieldOffset(4)] public int InFlight;
        [FieldOffset(8)] public long Epoch;
        [FieldOffset(16)] public long Hits;
        [FieldOffset(24)] public long Misses;
    }

    /// <param name="capacity">Bytes for entries; rounded down to a power of two number of sets (at least 16).</param>
    /// <param name="family">The id in write batches of the column family cached.</param>
    /// <param name="slot">This cache's place among the caches of one engine (0 or 1), for the per-thread state between
    /// <see cref="BeginWrite"/> and <see cref="EndWrite"/>: the engine begins a batch in each of its caches.</param>
    /// <param name="insertOnWrite">Whether a written key that was not cached enters where its set has room (the
    /// `meta` cache); without it a write only updates keys already cached (the sub-key cache, where most written
    /// keys, a list's pushed elements, are never read by key).</param>
    public KeyCache(long capacity, uint family, int slot = 0, bool insertOnWrite = true)
    {
        _slot = slot;
        _insertOnWrite = insertOnWrite;
        var sets = 16L;
        while (sets * 2 * SetBytes <= capacity && sets * 2 * SetBytes <= Array.MaxLength)
        {
            sets *= 2;
        }
        _capacity = sets * SetBytes;
        unsafe
        {
            // Outside the managed heap: the GC neither counts nor scans it, so it does not change how often the
            // GC runs. A large zeroed allocation is an anonymous mapping: pages cost memory once touched.
            _data = (byte*)NativeMemory.AllocZeroed((nuint)_capacity);
        }
        // Pinned, like the stripes, so that a prefetch may take an element's address (PrefetchSummary).
        _summaries = GC.AllocateArray<SetSummary>((int)sets, pinned: true);
        _setMask = (int)sets - 1;
        _stripes = GC.AllocateArray<Stripe>((int)Math.Min(sets, MaxStripes), pinned: true);
        _stripeMask = _stripes.Length - 1;
        _family = family;
    }

    /// <summary>Bytes the cache may fill.</summary>
    public long Capacity => _capacity;

    /// <summary>Reads answered from the cache.</summary>
    public long Hits => Sum(static s => s.Hits);

    /// <summary>Reads the cache could not answer.</summary>
    public long Misses => Sum(static s => s.Misses);

    /// <summary>Bytes held by entries now.</summary>
    public long UsedBytes
    {
        get
        {
            var total = 0L;
            for (var i = 0; i < _summaries.Length; i++)
            {
                total += Volatile.Read(ref _summaries[i].Used);
            }
            return total;
        }
    }

    /// <summary>Looks <paramref name="key"/> up; on <see cref="Lookup.Found"/> its record is in <paramref name="capture"/>.</summary>
    internal Lookup TryRead(ReadOnlySpan<byte> key, ValueCapture capture, out Ticket ticket)
    {
        var hash = XxHash3.HashToUInt64(key);
        var set = (int)hash & _setMask;
        // The stripe and the set's summary load together; the set itself only if the summary may hold the key.
        PrefetchSummary(set);
        if (MayHold(set, (uint)(hash >> 32)))
        {
            PrefetchSet(set);
        }
        ref var stripe = ref _stripes[set & _stripeMask];
        Enter(ref stripe);
        try
        {
            var at = Find(set, (uint)(hash >> 32), key);
            if (at >= 0)
            {
                stripe.Hits++;
                ticket = default;
                var entry = Set(set)[at..];
                var length = BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
                if (length == Absent)
                {
                    return Lookup.NotFound;
                }
                capture.Deserialize(entry.Slice(EntryHeader + key.Length, length));
                return Lookup.Found;
            }
            stripe.Misses++;
            ticket = new Ticket(hash, stripe.InFlight == 0 ? stripe.Epoch : -1);
            return Lookup.Miss;
        }
        finally
        {
            Exit(ref stripe);
        }
    }

    /// <summary>Offers what a missed read found in the database (<paramref name="record"/>, or none).</summary>
    internal void Fill(ReadOnlySpan<byte> key, in Ticket ticket, bool found, ReadOnlySpan<byte> record)
    {
        if (ticket.Epoch < 0)
        {
            return;
        }
        var set = (int)ticket.Hash & _setMask;
        ref var stripe = ref _stripes[set & _stripeMask];
        Enter(ref stripe);
        try
        {
            if (stripe.InFlight == 0 && stripe.Epoch == ticket.Epoch)
            {
                Put(set, (uint)(ticket.Hash >> 32), key, found, record);
            }
        }
        finally
        {
            Exit(ref stripe);
        }
    }

    /// <summary>
    /// The epoch of <paramref name="key"/>'s stripe, -1 while a write of the stripe is in flight: a stamp for data
    /// read from the database after this call that belongs to the key (its metadata and what the metadata names).
    /// While <see cref="Unchanged"/> holds for the stamp, no batch writing a `meta` key of the stripe has begun
    /// since, so the data read is still what the database holds (the list cache, <see cref="ListCache"/>).
    /// </summary>
    internal long Stamp(ReadOnlySpan<byte> key, out ulong hash)
    {
        hash = XxHash3.HashToUInt64(key);
        return StampOf(hash);
    }

    /// <summary>Whether the stripe of the key whose hash is <paramref name="hash"/> is still at <paramref name="stamp"/> with no write in flight.</summary>
    internal bool Unchanged(ulong hash, long stamp) => stamp >= 0 && StampOf(hash) == stamp;

    private long StampOf(ulong hash)
    {
        ref var stripe = ref _stripes[(int)hash & _setMask & _stripeMask];
        Enter(ref stripe);
        var stamp = stripe.InFlight == 0 ? stripe.Epoch : -1;
        Exit(ref stripe);
        return stamp;
    }

    /// <summary>
    /// Before <paramref name="batch"/> (a WriteBatch representation) is written: its `meta` keys leave the cache
    /// and their stripes count a write in flight. Every call is followed by <see cref="EndWrite"/> on the same
    /// thread with the same batch, whether the write succeeded or not.
    /// </summary>
    internal void BeginWrite(ReadOnlySpan<byte> batch) => BeginWrite(batch, this, null);

    /// <summary>
    /// <see cref="BeginWrite(ReadOnlySpan{byte})"/> for the caches of one engine at once (either may be null; their
    /// families differ), reading the batch's records once. Each cache is then ended on its own.
    /// </summary>
    internal static void BeginWrite(ReadOnlySpan<byte> batch, KeyCache? first, KeyCache? second)
    {
        var firstState = first?.State;
        var secondState = second?.State;
        firstState?.Clear();
        secondState?.Clear();
        try
        {
            var pos = WriteBatchFormat.HeaderSize;
            while (pos < batch.Length)
            {
                var record = WriteBatchFormat.ReadRecord(batch, ref pos);
                if (record.Tag == WriteBatchFormat.LogDataTag)
                {
                    continue;
                }
                if (first is not null && record.Family == first._family)
                {
                    first.Collect(firstState!, batch, record);
                }
                else if (second is not null && record.Family == second._family)
                {
                    second.Collect(secondState!, batch, record);
                }
            }
        }
        catch (InvalidDataException)
        {
            // A record that cannot be read: neither cache can know which keys the batch writes.
            firstState?.Whole = true;
            secondState?.Whole = true;
        }
        first?.Begin(batch, firstState!);
        second?.Begin(batch, secondState!);
    }

    /// <summary>Notes one record of this cache's family, and starts loading its stripe and its set's summary.</summary>
    private void Collect(WriteState state, ReadOnlySpan<byte> batch, WriteBatchRecord record)
    {
        if (state.Whole)
        {
            return;
        }
        if (record.Tag is 14 or 15)
        {
            state.Whole = true;
            return;
        }
        var writes = state.Writes;
        if (state.Count == writes.Length)
        {
            Array.Resize(ref writes, writes.Length * 2);
            state.Writes = writes;
        }
        var hash = XxHash3.HashToUInt64(batch.Slice(record.KeyStart, record.KeyLength));
        writes[state.Count++] = new PendingWrite { Record = record, Hash = hash };
        PrefetchSummary((int)hash & _setMask);
    }

    /// <summary>Takes the noted keys out of the cache and counts their writes in flight (all of them, for a whole-cache write).</summary>
    private void Begin(ReadOnlySpan<byte> batch, WriteState state)
    {
        if (state.Whole)
        {
            state.Count = 0;
            BeginWhole();
            return;
        }
        var writes = state.Writes;
        var n = state.Count;
        // The summaries loaded by now: the sets that may hold their key start loading too, together.
        for (var i = 0; i < n; i++)
        {
            var set = (int)writes[i].Hash & _setMask;
            if (MayHold(set, (uint)(writes[i].Hash >> 32)))
            {
                PrefetchSet(set);
            }
        }
        for (var i = 0; i < n; i++)
        {
            ref var write = ref writes[i];
            var set = (int)write.Hash & _setMask;
            ref var stripe = ref _stripes[set & _stripeMask];
            Enter(ref stripe);
            stripe.InFlight++;
            write.Stamp = ++stripe.Epoch;
            var at = Find(set, (uint)(write.Hash >> 32), batch.Slice(write.Record.KeyStart, write.Record.KeyLength));
            if (at >= 0)
            {
                Remove(set, at);
                write.WasCached = true;
            }
            Exit(ref stripe);
        }
    }

    /// <summary>After the write of a batch <see cref="BeginWrite"/> saw; <paramref name="written"/>: whether it reached the database.</summary>
    internal void EndWrite(ReadOnlySpan<byte> batch, bool written)
    {
        var state = State;
        if (state.Whole)
        {
            state.Whole = false;
            EndWhole();
            return;
        }
        var writes = state.Writes;
        var n = state.Count;
        for (var i = 0; i < n; i++)
        {
            ref var write = ref writes[i];
            var record = write.Record;
            var key = batch.Slice(record.KeyStart, record.KeyLength);
            var set = (int)write.Hash & _setMask;
            var tag = (uint)(write.Hash >> 32);
            ref var stripe = ref _stripes[set & _stripeMask];
            Enter(ref stripe);
            stripe.InFlight--;
            // A put leaves its value, a deletion leaves "none"; a merge or single deletion leaves nothing known.
            // A key that was not cached enters only into room its set has free: it never pushes another out.
            if (written && stripe.InFlight == 0 && stripe.Epoch == write.Stamp && record.Tag is 0 or 1 or 4 or 5)
            {
                var found = record.Tag is 1 or 5;
                var value = found ? batch.Slice(record.ValueStart, record.ValueLength) : default;
                if (write.WasCached || (_insertOnWrite && HasRoom(set, key, value.Length)))
                {
                    Put(set, tag, key, found, value);
                }
            }
            stripe.Epoch++;
            Exit(ref stripe);
        }
        state.Count = 0;
    }

    private WriteState State
    {
        get
        {
            var states = t_states ??= new WriteState?[2];
            return states[_slot] ??= new WriteState();
        }
    }

    private sealed class WriteState
    {
        public PendingWrite[] Writes = new PendingWrite[64];
        public int Count;
        public bool Whole;

        public void Clear()
        {
            Count = 0;
            Whole = false;
        }
    }

    private void BeginWhole()
    {
        for (var s = 0; s < _stripes.Length; s++)
        {
            ref var stripe = ref _stripes[s];
            Enter(ref stripe);
            stripe.InFlight++;
            stripe.Epoch++;
            for (var set = s; set <= _setMask; set += _stripes.Length)
            {
                _summaries[set] = default;
            }
            Exit(ref stripe);
        }
    }

    private void EndWhole()
    {
        for (var s = 0; s < _stripes.Length; s++)
        {
            ref var stripe = ref _stripes[s];
            Enter(ref stripe);
            stripe.InFlight--;
            stripe.Epoch++;
            Exit(ref stripe);
        }
    }

    /// <summary>
    /// The memory of one set. Freed only by the finalizer, which cannot run while any thread still uses this
    /// cache, so no read can outlive it.
    /// </summary>
    private unsafe Span<byte> Set(int set) => new(_data + (long)set * SetBytes, SetBytes);

    ~KeyCache()
    {
        unsafe
        {
            NativeMemory.Free(_data);
        }
    }

    /// <summary>The summary bit of an entry whose hash tag is <paramref name="tag"/>.</summary>
    private static ulong TagBit(uint tag) => 1UL << (int)(tag & 63);

    /// <summary>False when the set surely does not hold a key of hash tag <paramref name="tag"/> (its summary's bit is clear).</summary>
    private bool MayHold(int set, uint tag) => (Volatile.Read(ref _summaries[set].Tags) & TagBit(tag)) != 0;

    /// <summary>Starts loading what every lookup of <paramref name="set"/> reads: its stripe and its summary.</summary>
    private unsafe void PrefetchSummary(int set)
    {
        if (Sse.IsSupported)
        {
            // Both arrays are pinned (see the constructor): the addresses stay valid.
            Sse.Prefetch0(Unsafe.AsPointer(ref _stripes[set & _stripeMask]));
            Sse.Prefetch0(Unsafe.AsPointer(ref _summaries[set]));
        }
    }

    /// <summary>Starts loading the lines of a set's entries, so that they arrive together rather than one after another.</summary>
    private unsafe void PrefetchSet(int set)
    {
        if (Sse.IsSupported)
        {
            var start = _data + (long)set * SetBytes;
            var used = Volatile.Read(ref _summaries[set].Used);
            for (var line = 0; line < used; line += 64)
            {
                Sse.Prefetch0(start + line);
            }
        }
    }

    private bool HasRoom(int set, ReadOnlySpan<byte> key, int recordLength) =>
        _summaries[set].Used + EntryHeader + key.Length + recordLength <= SetBytes;

    private static bool Fits(ReadOnlySpan<byte> key, int recordLength) =>
        key.Length < Absent && recordLength < Absent && EntryHeader + key.Length + recordLength <= SetBytes;

    /// <summary>The offset of <paramref name="key"/>'s entry in its set, or -1. Under the stripe's lock.</summary>
    private int Find(int set, uint tag, ReadOnlySpan<byte> key)
    {
        if (!MayHold(set, tag))
        {
            return -1;
        }
        var data = Set(set);
        var used = _summaries[set].Used;
        var pos = 0;
        while (pos < used)
        {
            var entry = data[pos..];
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[4..]);
            if (TagOf(entry) == tag && keyLength == key.Length
                && entry.Slice(EntryHeader, keyLength).SequenceEqual(key))
            {
                return pos;
            }
            pos += Size(entry);
        }
        return -1;
    }

    /// <summary>The hash tag an entry's header starts with.</summary>
    private static uint TagOf(ReadOnlySpan<byte> entry) => BinaryPrimitives.ReadUInt32LittleEndian(entry);

    private static int Size(ReadOnlySpan<byte> entry)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
        return EntryHeader + BinaryPrimitives.ReadUInt16LittleEndian(entry[4..]) + (length == Absent ? 0 : length);
    }

    private void Remove(int set, int at)
    {
        var data = Set(set);
        var used = _summaries[set].Used;
        var size = Size(data[at..]);
        data[(at + size)..used].CopyTo(data[at..]);
        Settle(set, data, used - size);
    }

    /// <summary>
    /// Puts the key's state in its set, pushing out the oldest entries to make room; an entry larger than a set is
    /// left out (the caller has already taken the key's old entry out). Under the stripe's lock.
    /// </summary>
    private void Put(int set, uint tag, ReadOnlySpan<byte> key, bool found, ReadOnlySpan<byte> record)
    {
        if (!Fits(key, found ? record.Length : 0))
        {
            return;
        }
        var at = Find(set, tag, key);
        if (at >= 0)
        {
            Remove(set, at);
        }
        var size = EntryHeader + key.Length + (found ? record.Length : 0);
        var data = Set(set);
        var used = _summaries[set].Used;
        var evicted = used + size > SetBytes;
        if (evicted)
        {
            var drop = 0;
            while (used - drop + size > SetBytes)
            {
                drop += Size(data[drop..]);
            }
            data[drop..used].CopyTo(data);
            used -= drop;
        }
        var entry = data[used..];
        BinaryPrimitives.WriteUInt32LittleEndian(entry, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[4..], (ushort)key.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(entry[6..], found ? (ushort)record.Length : Absent);
        key.CopyTo(entry[EntryHeader..]);
        if (found)
        {
            record.CopyTo(entry[(EntryHeader + key.Length)..]);
        }
        if (evicted)
        {
            // The move above read every line of the set: recomputing its bits costs no cache miss.
            Settle(set, data, used + size);
        }
        else
        {
            // Appended: the entries before it are unchanged (and need not be read again).
            ref var summary = ref _summaries[set];
            Volatile.Write(ref summary.Tags, summary.Tags | TagBit(tag));
            Volatile.Write(ref summary.Used, used + size);
        }
    }

    /// <summary>
    /// Records a set's new fill and recomputes its tag bits from the entries it now holds, after a change that read
    /// them all (a removal walked up to the entry and moved the rest). Under the stripe's lock.
    /// </summary>
    private void Settle(int set, ReadOnlySpan<byte> data, int used)
    {
        var tags = 0UL;
        for (var pos = 0; pos < used; pos += Size(data[pos..]))
        {
            tags |= TagBit(TagOf(data[pos..]));
        }
        ref var summary = ref _summaries[set];
        Volatile.Write(ref summary.Tags, tags);
        Volatile.Write(ref summary.Used, used);
    }

    private static void Enter(ref Stripe stripe)
    {
        if (Interlocked.CompareExchange(ref stripe.Lock, 1, 0) != 0)
        {
            EnterContended(ref stripe);
        }
    }

    private static void EnterContended(ref Stripe stripe)
    {
        var spin = new SpinWait();
        do
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref stripe.Lock) != 0 || Interlocked.CompareExchange(ref stripe.Lock, 1, 0) != 0);
    }

    private static void Exit(ref Stripe stripe) => Volatile.Write(ref stripe.Lock, 0);

    private long Sum(Func<Stripe, long> field)
    {
        var total = 0L;
        foreach (var stripe in _stripes)
        {
            total += field(stripe);
        }
        return total;
    }
}
