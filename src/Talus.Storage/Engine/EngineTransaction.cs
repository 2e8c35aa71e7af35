using System.Buffers;
using System.Runtime.CompilerServices;
using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// A transaction scope on the engine (EXEC): while it is open, every <see cref="StorageEngine.Write"/> made by
/// the thread that opened it is collected here instead of being written, and that thread's reads
/// (<see cref="StorageEngine.TryGet"/>, <see cref="StorageEngine.Get(ColumnFamilyHandle, ReadOnlySpan{byte})"/>,
/// <see cref="StorageEngine.NewIterator"/>) see the collected writes over the database, so a later command of the
/// transaction sees an earlier one's effects. <see cref="Commit"/> writes everything as ONE WriteBatch (less the
/// records a later one overwrites, <see cref="WriteBatchCoalescing"/>): one
/// WAL record, hence one binlog entry that a replica applies all or nothing, and all or nothing after a crash.
/// <para>
/// The records of every batch are appended verbatim to <see cref="_records"/> (what is committed). Reads see
/// them through one of two structures:
/// <list type="bullet">
/// <item>a point overlay (<see cref="_points"/>): per key, where in <see cref="_records"/> its last put or
/// deletion is. A point read that finds its key there answers from the records; one that does not reads the
/// database directly. This is the common case (a group of LPUSH or HSET on one key reads its metadata again
/// and again) and costs no native call.</item>
/// <item>a WriteBatchWithIndex (<see cref="_index"/>), built from the records the first time it is needed: by
/// an iterator, or by a range deletion (FLUSHDB, a long LTRIM), which the overlay cannot answer for. A
/// WriteBatchWithIndex cannot index a range deletion either, so there it becomes point deletions of the keys
/// the range holds at that moment. Once built, the index answers every read and the overlay is dropped.</item>
/// </list>
/// The record format is RocksDB's WriteBatch representation (write_batch.cc):
/// a 12-byte header (sequence, count), then records of a tag byte, a column family id (varint32) for the
/// CF tags, and varint32-length-prefixed key (and value, or range end).
/// </para>
/// Other threads never see the collected writes. Not thread-safe: one owner thread.
/// </summary>
public sealed class EngineTransaction : IDisposable
{
    private readonly StorageEngine _engine;
    private readonly ArrayBufferWriter<byte> _records = new();
    private PointOverlay? _points = new();
    private WriteBatchWithIndex? _index;
    private ReadAhead? _ahead;
    private uint _count;
    private bool _wroteElements;
    private bool _disposed;
    // The deferred commits of other pipeline groups (DeferredCommit) that wrote the key slots this transaction took
    // and were not yet written when it took them, in queue order (oldest first): its point reads look there after
    // its own writes and before the database (see ReadThrough for why that is right).
    private List<DeferredCommit>? _readThrough;
    private bool _readThroughFailed;

    internal EngineTransaction(StorageEngine engine) => _engine = engine;

    internal StorageEngine Engine => _engine;

    /// <summary>Number of records (puts, deletes, range deletes) collected so far.</summary>
    public uint Count => _count;

    /// <summary>
    /// True once a record outside the metadata family was collected: a collection's element (a set member, a hash
    /// field, a list element), not only the keys' metadata records (a pop, an INCR).
    /// </summary>
    public bool WroteElements => _wroteElements;

    internal void Append(WriteBatch batch)
    {
        var rep = batch.AsSpan();
        if (rep.Length <= WriteBatchFormat.HeaderSize)
        {
            return;
        }
        var records = rep[WriteBatchFormat.HeaderSize..];
        var (rangeDeletion, element) = Inspect(records, _engine.MetaId);
        if (_index is null && rangeDeletion)
        {
            BuildIndex();
        }
        var offset = _records.WrittenCount;
        _records.Write(records);
        _count += WriteBatchFormat.Count(rep);
        _wroteElements |= element;
        if (_index is not null)
        {
            Replay(records);
        }
        else
        {
            _points!.Add(_records.WrittenSpan, offset);
        }
    }

    /// <summary>True while the transaction reads through deferred commits of other groups: its own batch must be queued behind them.</summary>
    internal bool ReadsThroughDeferred => _readThrough is { Count: > 0 };

    /// <summary>The deferred commits read through (see <see cref="ReadsThroughDeferred"/>), oldest first.</summary>
    internal List<DeferredCommit>? DeferredReadThrough => _readThrough;

    /// <summary>
    /// The owner has just taken the stripe of key slot <paramref name="slot"/>, whose newest unwritten deferred commit
    /// is <paramref name="newest"/>: the commits of the slot's chain not yet written are added to those this
    /// transaction reads through. With the index built (which reads the database alone), they are waited for instead.
    /// <para>
    /// Why reading through them is right. The owner holds the slot's stripe from before this call, so no commit of
    /// the slot is queued after it: every unwritten commit that wrote a key of the slot is in the chain now, and stays
    /// in this list until it is found written. A read of a key walks the list newest first and stops at the first
    /// commit that is written: the committer writes in queue order and marks the commits written in that order, so
    /// every older one is written too, and the database holds them. Before that point, the first commit holding the
    /// key is the newest unwritten write of it, whichever slot's chain brought it here: a commit that wrote the key
    /// is in the chain of the key's slot. When none holds it, the database has the key's latest state.
    /// </para>
    /// </summary>
    internal void ReadThrough(DeferredCommit? newest, int slot)
    {
        for (var commit = newest; commit is not null && !commit.IsSettled; commit = commit.PreviousFor(slot))
        {
            var list = _readThrough ??= new List<DeferredCommit>(4);
            // In queue order; a commit that wrote several taken slots comes once.
            var at = list.Count;
            while (at > 0 && list[at - 1].Sequence > commit.Sequence)
            {
                at--;
            }
            if (at == 0 || !ReferenceEquals(list[at - 1], commit))
            {
                list.Insert(at, commit);
            }
        }
        if (_index is not null)
        {
            AwaitReadThrough();
        }
        else
        {
            PruneReadThrough();
        }
    }

    /// <summary>
    /// Drops the commits read through that are written by now (the oldest ones: they are written in queue order).
    /// What was read ahead goes too, since it may have been read before their write and they no longer answer for
    /// their keys. A dropped commit that failed fails this transaction at its commit (it may have read through it).
    /// </summary>
    internal void PruneReadThrough()
    {
        if (_readThrough is not { } list)
        {
            return;
        }
        var newestWritten = list.FindLastIndex(static commit => commit.IsSettled);
        if (newestWritten >= 0)
        {
            DropReadThrough(list, newestWritten + 1);
        }
    }

    private void DropReadThrough(List<DeferredCommit> list, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _readThroughFailed |= list[i].Failure is not null;
        }
        list.RemoveRange(0, count);
        _ahead = null;
        if (list.Count == 0)
        {
            _readThrough = null;
        }
    }

    /// <summary>
    /// Waits until every deferred commit read through is written, and reads the database alone from then on. When
    /// one of them failed, what this transaction read through it never happened: it fails at its commit.
    /// </summary>
    private void AwaitReadThrough()
    {
        if (_readThrough is not { } list)
        {
            return;
        }
        foreach (var deferred in list)
        {
            deferred.AwaitFinished();
            _readThroughFailed |= deferred.Failure is not null;
        }
        _readThrough = null;
    }

    /// <summary>
    /// Where a deferred commit read through last wrote (family, key), newest first; <see cref="PointOverlay.Lookup.Absent"/>
    /// when none did.
    /// </summary>
    private PointOverlay.Lookup FindReadThrough(uint family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_readThrough is { } list)
        {
            for (var i = list.Count - 1; i >= 0; i--)
            {
                var commit = list[i];
                if (commit.IsSettled)
                {
                    // Written, and so is every older one: the database answers (see ReadThrough).
                    DropReadThrough(list, i + 1);
                    break;
                }
                var found = commit.Find(family, key, out value);
                if (found != PointOverlay.Lookup.Absent)
                {
                    return found;
                }
            }
        }
        return PointOverlay.Lookup.Absent;
    }

    /// <summary>What this transaction itself wrote last at (family, key): for a deferred commit's readers.</summary>
    internal PointOverlay.Lookup FindOwn(uint family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) =>
        _points!.Find(_records.WrittenSpan, family, key, out value);

    /// <summary>Builds the index from every record collected so far; from now on it answers every read.</summary>
    private void BuildIndex()
    {
        // The index reads the database under the collected records: deferred commits read through must be in it.
        AwaitReadThrough();
        _index = new WriteBatchWithIndex(0, true);
        _points = null;
        Replay(_records.WrittenSpan);
    }

    /// <summary>
    /// What a batch's records hold: a range deletion (the transaction then needs its index), and a record outside
    /// the metadata family (<see cref="WroteElements"/>).
    /// </summary>
    private static (bool RangeDeletion, bool Element) Inspect(ReadOnlySpan<byte> records, uint metaId)
    {
        bool rangeDeletion = false, element = false;
        var pos = 0;
        while (pos < records.Length)
        {
            var record = WriteBatchFormat.ReadRecord(records, ref pos);
            rangeDeletion |= record.Tag is 14 or 15;
            element |= record.Tag != WriteBatchFormat.LogDataTag && record.Family != metaId;
        }
        return (rangeDeletion, element);
    }

    private void Replay(ReadOnlySpan<byte> records)
    {
        var index = _index!;
        var pos = 0;
        while (pos < records.Length)
        {
            var record = WriteBatchFormat.ReadRecord(records, ref pos);
            var key = records.Slice(record.KeyStart, record.KeyLength);
            switch (record.Tag)
            {
                case 0 or 4 or 7 or 8: // deletion, single deletion
                    index.Delete(key, _engine.FamilyById(record.Family));
                    break;
                case 1 or 5: // value
                    index.Put(key, records.Slice(record.ValueStart, record.ValueLength), _engine.FamilyById(record.Family));
                    break;
                case 14 or 15: // range deletion [begin, end)
                    DeleteRange(_engine.FamilyById(record.Family), key.ToArray(), records.Slice(record.ValueStart, record.ValueLength).ToArray());
                    break;
                case WriteBatchFormat.LogDataTag: // not a data change
                    break;
                default:
                    throw new NotSupportedException($"write batch record tag {record.Tag} inside a transaction");
            }
        }
    }

    /// <summary>Makes the index hide every key of [begin, end) as it is now (database plus earlier writes).</summary>
    private void DeleteRange(ColumnFamilyHandle family, byte[] begin, byte[] end)
    {
        var keys = new List<byte[]>();
        using (var it = NewIterator(family, new ReadOptions().SetIterateLowerBound(begin).SetIterateUpperBound(end)))
        {
            for (it.Seek(begin); it.Valid(); it.Next())
            {
                keys.Add(it.Key());
            }
        }
        foreach (var key in keys)
        {
            _index!.Delete(key, family);
        }
    }

    /// <summary>
    /// Reads a key as the transaction sees it. True with the value when it is set: a span into the collected
    /// records or the thread's read buffer, valid until this thread's next read or write.
    /// </summary>
    internal bool TryGet(RocksDb db, ColumnFamilyHandle family, ReadOnlySpan<byte> key, ReadOptions options, out ReadOnlySpan<byte> value)
    {
        if (_points is { } points)
        {
            switch (Find(points, _engine.IdOf(family), key, out value))
            {
                case PointOverlay.Lookup.Set:
                    return true;
                case PointOverlay.Lookup.Deleted:
                    return false;
            }
            return _engine.ReadCommitted(family, key, options, out value);
        }
        var found = _index!.Get(db, key.ToArray(), family, options);
        value = found;
        return found is not null;
    }

    internal byte[]? Get(RocksDb db, ColumnFamilyHandle family, ReadOnlySpan<byte> key, ReadOptions options)
    {
        if (_points is { } points)
        {
            return Find(points, _engine.IdOf(family), key, out var value) switch
            {
                PointOverlay.Lookup.Set => value.ToArray(),
                PointOverlay.Lookup.Deleted => null,
                _ => _engine.GetCommitted(family, key, options),
            };
        }
        return _index!.Get(db, key.ToArray(), family, options);
    }

    /// <summary>
    /// Whether reads of keys in key order may read ahead (<see cref="ReadAhead"/>): only while the owner holds
    /// the stripe of every key it reads until the transaction ends, as a pipeline's group does.
    /// </summary>
    internal bool ReadsAhead { get; set; }

    /// <summary>Whether the first read of a run reads ahead too (more commands of the group are known to follow).</summary>
    internal bool ReadAheadAtOnce { get; set; }

    /// <summary>Reads answered from the read-ahead buffer so far (tests).</summary>
    internal int ReadAheadServed => _ahead?.Served ?? 0;

    /// <summary>
    /// <see cref="Get(RocksDb, ColumnFamilyHandle, ReadOnlySpan{byte}, ReadOptions)"/> for one of a run of keys
    /// read in key order within [<paramref name="lower"/>, <paramref name="upper"/>): the transaction's own
    /// writes first, then what is committed, read ahead when <see cref="ReadsAhead"/> allows.
    /// </summary>
    internal byte[]? GetInOrder(RocksDb db, ColumnFamilyHandle family, ReadOnlySpan<byte> key, byte[] lower, byte[] upper, bool forward, ReadOptions options)
    {
        if (!ReadsAhead || _points is not { } points)
        {
            return Get(db, family, key, options);
        }
        return Find(points, _engine.IdOf(family), key, out var value) switch
        {
            PointOverlay.Lookup.Set => value.ToArray(),
            PointOverlay.Lookup.Deleted => null,
            _ => (_ahead ??= new ReadAhead()).Get(_engine, family, key, lower, upper, forward, ReadAheadAtOnce, options),
        };
    }

    /// <summary>The transaction's own writes first, then the deferred commits it reads through.</summary>
    private PointOverlay.Lookup Find(PointOverlay points, uint family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var found = points.Find(_records.WrittenSpan, family, key, out value);
        return found == PointOverlay.Lookup.Absent ? FindReadThrough(family, key, out value) : found;
    }

    /// <summary>An iterator over the database (as <paramref name="options"/> bound it) with this transaction's writes laid over it.</summary>
    internal Iterator NewIterator(ColumnFamilyHandle family, ReadOptions options)
    {
        if (_index is null)
        {
            BuildIndex();
        }
        var baseIterator = _engine.Db.NewIterator(family, options);
        // The native call takes ownership of the base iterator; the options bound both it and the overlay.
        var handle = Native.Instance.rocksdb_writebatch_wi_create_iterator_with_base_cf_readopts(_index!.Handle, baseIterator.Handle, family.Handle, options.Handle);
        baseIterator.Detach();
        return IteratorAccess.Create(handle, options);
    }

    /// <summary>Writes every collected record as one batch and ends the transaction.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfReadThroughFailed();
        if (ReadsThroughDeferred)
        {
            throw new InvalidOperationException("a transaction that reads through deferred commits is queued behind them, not written");
        }
        if (_count > 0)
        {
            var rep = CoalescedBatch();
            using var batch = new WriteBatch(rep, rep.Length);
            StorageEngine.End(this);
            _engine.Write(batch);
        }
        if (_ahead is not null && _engine.ReadAheadCarry is { } carry && !Writes(_records.WrittenSpan, _engine.IdOf(_engine.Sub)))
        {
            // Written (or nothing to write), the owner still holding its stripes: what was read ahead is what the
            // database holds, unless this batch wrote elements.
            _ahead.HandOn(carry);
        }
        Dispose();
    }

    /// <summary>
    /// The batch to write: every collected record, less those a later one overwrites (a hot key's metadata,
    /// rewritten by every command of a group): the same final state with fewer memtable inserts and binlog bytes.
    /// </summary>
    private byte[] CoalescedBatch()
    {
        // The kept records are copied into the batch's own array at once: one scratch writer per thread serves them.
        var coalesced = t_coalesced ??= new ArrayBufferWriter<byte>(4096);
        coalesced.ResetWrittenCount();
        var kept = WriteBatchCoalescing.Coalesce(_records.WrittenSpan, coalesced);
        var batch = kept < 0
            ? WriteBatchCoalescing.ToBatch(_records.WrittenSpan, (int)_count)
            : WriteBatchCoalescing.ToBatch(coalesced.WrittenSpan, kept);
        if (coalesced.Capacity > 1024 * 1024)
        {
            // One huge group does not leave a huge buffer on the thread.
            t_coalesced = null;
        }
        return batch;
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_coalesced;

    private void ThrowIfReadThroughFailed()
    {
        if (_readThroughFailed)
        {
            throw new IOException("a write this transaction read through failed, so it was not written");
        }
    }

    /// <summary>
    /// Whether the transaction can be handed to the committer (<see cref="Defer"/>): it answers its reads from its
    /// point overlay (no index), so later groups can read through it.
    /// </summary>
    internal bool CanDefer => _points is not null && !_disposed;

    /// <summary>
    /// Ends the transaction on this thread without writing it, and returns its batch (null when it wrote nothing);
    /// its records stay readable (<see cref="FindOwn"/>) by the groups that read through it once queued.
    /// </summary>
    internal byte[]? Defer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfReadThroughFailed();
        if (!CanDefer)
        {
            throw new InvalidOperationException("only a transaction without an index can be deferred");
        }
        var rep = _count > 0 ? CoalescedBatch() : null;
        _disposed = true;
        StorageEngine.End(this);
        return rep;
    }

    /// <summary>Whether any record of <paramref name="records"/> is in the column family <paramref name="family"/>.</summary>
    private static bool Writes(ReadOnlySpan<byte> records, uint family)
    {
        var pos = 0;
        while (pos < records.Length)
        {
            var record = WriteBatchFormat.ReadRecord(records, ref pos);
            if (record.Family == family && record.Tag != WriteBatchFormat.LogDataTag)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Ends the transaction; uncommitted writes are dropped.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        StorageEngine.End(this);
        _index?.Dispose();
    }

    /// <summary>The binding's Iterator constructor is internal; the overlay iterator needs one around a native handle.</summary>
    private static class IteratorAccess
    {
        [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
        public static extern Iterator Create(IntPtr handle, ReadOptions options);
    }
}
