using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RocksDbSharp;
using Talus.Storage.Expiry;

namespace Talus.Storage.Engine;

/// <summary>
/// Owns the one RocksDB instance of a dataset: its column families, its write path and its lifetime.
/// Every data change of every command goes through <see cref="Write"/> as one WriteBatch, which makes the
/// RocksDB WAL a complete, ordered log of effects whose sequence numbers replication uses as offsets.
/// After <see cref="Dispose"/> begins, calls throw instead of touching a freed native handle (the binding
/// segfaults on use after dispose); callers still stop their own work first.
/// </summary>
public sealed class StorageEngine : IDisposable
{
    /// <summary>Share of a memtable's size given to its bloom filter (about 13 bits per key for 60-byte entries).</summary>
    private const double MemtableBloomRatio = 0.02;

    /// <summary>RocksDB's kDataBlockBinaryAndHash (table.h): a hash index beside the binary search index of each data block.</summary>
    private const int DataBlockBinaryAndHash = 1;

    private static readonly byte[] Boundary = WriteBatchFormat.BoundaryMarker.ToArray();

    private readonly ILogger _logger;
    private readonly RocksDb _db;
    private readonly DbOptions _dbOptions;
    private readonly CompactionFilters _filters;
    private readonly WriteOptions _syncWrite = new WriteOptions().SetSync(true);
    private readonly WriteOptions _asyncWrite = new WriteOptions().SetSync(false);
    private readonly ReadOptions _readOptions = new();
    private readonly Timer? _walSyncTimer;
    private long _writesSinceSync;

    [ThreadStatic]
    private static long _threadWrites;
    private long _lastVersion;
    private volatile bool _disposed;
    [ThreadStatic]
    private static EngineTransaction? t_transaction;
    private TaskCompletionSource? _written;
    private volatile string? _lastWriteFailure;
    private long _writeFailures;
    private readonly ColumnFamilyHandle[] _families;

    private StorageEngine(StorageOptions options, ILogger logger, RocksDb db, DbOptions dbOptions, CompactionFilters filters)
    {
        Options = options;
        _logger = logger;
        _db = db;
        _dbOptions = dbOptions;
        _filters = filters;
        Meta = db.GetColumnFamily(StorageFormat.MetaFamily);
        Sub = db.GetColumnFamily(StorageFormat.SubFamily);
        ZScore = db.GetColumnFamily(StorageFormat.ZScoreFamily);
        Sys = db.GetColumnFamily(StorageFormat.SysFamily);
        // Indexed by the id a write batch record names a family by; records of the default family name none (0).
        var families = new[] { db.GetDefaultColumnFamily(), Meta, Sub, ZScore, Sys };
        _families = new ColumnFamilyHandle[families.Length];
        foreach (var family in families)
        {
            _families[Native.Instance.rocksdb_column_family_handle_get_id(family.Handle)] = family;
        }
        MetaId = IdOf(Meta);
        if (options.KeyCacheBytes > 0)
        {
            KeyCache = new KeyCache(options.KeyCacheBytes, MetaId);
            if (options.ListCacheBytes > 0)
            {
                ListCache = new ListCache(options.ListCacheBytes, KeyCache);
            }
            ReadAheadCarry = new ReadAheadCarry(KeyCache);
        }
        if (options.SubKeyCacheBytes > 0)
        {
            SubKeyCache = new KeyCache(options.SubKeyCacheBytes, IdOf(Sub), slot: 1, insertOnWrite: false);
        }
        _lastVersion = DateTime.UtcNow.Ticks;
        _walSyncTimer = new Timer(_ => SyncWalIfDirty(), null, 1000, 1000);
        Compaction = new BackgroundCompaction(this, logger);
    }

    /// <summary>The cache of committed `meta` point reads (<see cref="Engine.KeyCache"/>); null when turned off.</summary>
    public KeyCache? KeyCache { get; }

    /// <summary>The cache of committed `sub` point reads (members, fields, elements); null when turned off.</summary>
    public KeyCache? SubKeyCache { get; }

    /// <summary>What pipeline groups read ahead of a list and hand on to the next group (<see cref="Engine.ReadAheadCarry"/>); null without the key cache.</summary>
    internal ReadAheadCarry? ReadAheadCarry { get; }

    /// <summary>The cache of ranges LRANGE read (<see cref="Engine.ListCache"/>); null when turned off.</summary>
    public ListCache? ListCache { get; }

    /// <summary>
    /// The list cache when it may answer a read on this thread: not inside a transaction, whose reads must see
    /// its own writes.
    /// </summary>
    internal ListCache? ListCacheForRead => Current is null ? ListCache : null;

    /// <summary>The background full compaction (COMPACT) of this engine.</summary>
    public BackgroundCompaction Compaction { get; }

    /// <summary>True once <see cref="Dispose"/> has begun.</summary>
    public bool IsClosing => _disposed;

    public StorageOptions Options { get; }

    public string Path => Options.Path;

    public ColumnFamilyHandle Meta { get; }

    public ColumnFamilyHandle Sub { get; }

    public ColumnFamilyHandle ZScore { get; }

    public ColumnFamilyHandle Sys { get; }

    /// <summary>The family a write batch record names by <paramref name="id"/> (0, the default family, when it names none).</summary>
    internal ColumnFamilyHandle FamilyById(uint id) =>
        id < _families.Length && _families[id] is { } family ? family : throw new InvalidDataException($"unknown column family id {id}");

    /// <summary>The id write batch records name the <see cref="Meta"/> family by.</summary>
    internal uint MetaId { get; }

    /// <summary>The id a write batch record names <paramref name="family"/> by.</summary>
    internal uint IdOf(ColumnFamilyHandle family)
    {
        for (var i = 0; i < _families.Length; i++)
        {
            if (ReferenceEquals(_families[i], family))
            {
                return (uint)i;
            }
        }
        throw new ArgumentException("not a column family of this engine", nameof(family));
    }

    /// <summary>
    /// Opens a transaction scope for the calling thread (see <see cref="EngineTransaction"/>): its writes are
    /// collected and committed as one batch. One per thread at a time (EXEC's, or a pipeline's group of
    /// read-modify-write commands); other threads read and write around it.
    /// </summary>
    public EngineTransaction BeginTransaction()
    {
        ThrowIfDisposed();
        if (t_transaction is not null)
        {
            throw new InvalidOperationException("a transaction is already open on this thread");
        }
        return t_transaction = new EngineTransaction(this);
    }

    internal static void End(EngineTransaction transaction)
    {
        if (ReferenceEquals(t_transaction, transaction))
        {
            t_transaction = null;
        }
    }

    /// <summary>The calling thread's open transaction on this engine.</summary>
    private EngineTransaction? Current => t_transaction is { } t && ReferenceEquals(t.Engine, this) ? t : null;

    /// <summary>The RocksDB handle, for replication (WAL tailing, checkpoints). Never dispose it.</summary>
    public RocksDb Db
    {
        get
        {
            ThrowIfDisposed();
            return _db;
        }
    }

    /// <summary>Sequence number of the last committed write: the dataset's binlog offset.</summary>
    public ulong LatestSequence
    {
        get
        {
            ThrowIfDisposed();
            return _db.GetLatestSequenceNumber();
        }
    }

    /// <summary>
    /// The WAL this dataset still holds (live and archived files): the first sequence of its oldest file, and
    /// the bytes of all of them. With no WAL at all the first sequence is one past the latest.
    /// </summary>
    public (ulong FirstSequence, long Bytes) WalHeld()
    {
        ThrowIfDisposed();
        var files = Native.Instance.rocksdb_get_sorted_wal_files(_db.Handle);
        try
        {
            var first = 0UL;
            var bytes = 0L;
            var count = (int)Native.Instance.rocksdb_wal_files_count(files);
            for (var i = 0; i < count; i++)
            {
                // Entries point into the list, which owns them: never destroyed one by one.
                var file = Native.Instance.rocksdb_wal_files_get_wal_file(files, (UIntPtr)i);
                var start = Native.Instance.rocksdb_wal_file_start_sequence(file);
                if (first == 0 && start > 0)
                {
                    first = start;
                }
                bytes += (long)Native.Instance.rocksdb_wal_file_size_file_bytes(file);
            }
            return (first == 0 ? _db.GetLatestSequenceNumber() + 1 : first, bytes);
        }
        finally
        {
            Native.Instance.rocksdb_wal_files_destroy(files);
        }
    }

    /// <summary>
    /// The block cache: an LRU cache in shards of at least <see cref="MinCacheShardBytes"/>. An entry larger than
    /// its shard cannot stay in the cache: it is dropped as soon as its reader lets go of it. RocksDB's own choice
    /// (shards of 512 KB and up, at most 64) gives a 256 MB cache shards of 4 MB, while the bloom filter of one
    /// 64 MB file of small keys (a big set's members, a hash's fields) is several MB: every point read in that
    /// file then read and checksummed its whole filter again (a benchmark's HSET fell to 5,000/s with one core
    /// in pread).
    /// </summary>
    internal static Cache CreateBlockCache(long capacity)
    {
        var options = Native.Instance.rocksdb_lru_cache_options_create();
        try
        {
            Native.Instance.rocksdb_lru_cache_options_set_capacity(options, new UIntPtr((ulong)capacity));
            Native.Instance.rocksdb_lru_cache_options_set_num_shard_bits(options, CacheShardBits(capacity));
            return CacheAccess.Create(Native.Instance.rocksdb_cache_create_lru_opts(options));
        }
        finally
        {
            Native.Instance.rocksdb_lru_cache_options_destroy(options);
        }
    }

    /// <summary>Smallest shard of the block cache (see <see cref="CreateBlockCache"/>).</summary>
    internal const long MinCacheShardBytes = 32L * 1024 * 1024;

    /// <summary>log2 of the number of block cache shards: as many as leave each at least <see cref="MinCacheShardBytes"/>, at most 64.</summary>
    internal static int CacheShardBits(long capacity)
    {
        var bits = 0;
        while (bits < 6 && capacity >> (bits + 1) >= MinCacheShardBytes)
        {
            bits++;
        }
        return bits;
    }

    /// <summary>Opens (or creates) the dataset at <see cref="StorageOptions.Path"/>.</summary>
    public static StorageEngine Open(StorageOptions options, ILogger logger)
    {
        if (options.CreateIfMissing)
        {
            Directory.CreateDirectory(options.Path);
        }
        var filters = new CompactionFilters();
        var cache = CreateBlockCache(options.BlockCacheBytes);
        ColumnFamilyOptions Family(bool bloom, IntPtr filter = default, IntPtr filterFactory = default)
        {
            var table = new BlockBasedTableOptions()
                .SetBlockCache(cache)
                .SetCacheIndexAndFilterBlocks(true)
                .SetPinL0FilterAndIndexBlocksInCache(true)
                .SetFormatVersion(6)
                .SetBlockSize(16 * 1024);
            // A hash index inside each data block: a point read finds its key's restart interval in one probe
            // instead of a binary search over the block's restart points (the largest single cost of a GET once
            // the data is in SST files). Iterators still use the binary search index beside it.
            Native.Instance.rocksdb_block_based_options_set_data_block_index_type(table.Handle, DataBlockBinaryAndHash);
            Native.Instance.rocksdb_block_based_options_set_data_block_hash_ratio(table.Handle, 0.75);
            if (bloom && options.BloomBitsPerKey > 0)
            {
                table.SetFilterPolicy(BloomFilterPolicy.Create(options.BloomBitsPerKey, false));
            }
            var cf = new ColumnFamilyOptions()
                .SetBlockBasedTableFactory(table)
                .SetWriteBufferSize((ulong)options.WriteBufferBytes)
                .SetMaxWriteBufferNumber(options.MaxWriteBufferNumber)
                .SetCompression(Compression.Lz4)
                .SetLevelCompactionDynamicLevelBytes(true);
            if (bloom && options.BloomBitsPerKey > 0)
            {
                // A whole-key bloom filter over the memtable: a point read of a key the memtable does not hold
                // skips the skiplist search, which is the largest cost of a GET while the data is recent.
                Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(cf.Handle, 1);
                Native.Instance.rocksdb_options_set_memtable_prefix_bloom_size_ratio(cf.Handle, MemtableBloomRatio);
            }
            if (filter != IntPtr.Zero)
            {
                cf.SetCompactionFilter(filter);
            }
            if (filterFactory != IntPtr.Zero)
            {
                cf.SetCompactionFilterFactory(filterFactory);
            }
            return cf;
        }

        var dbOptions = new DbOptions()
            .SetCreateIfMissing(options.CreateIfMissing)
            .SetCreateMissingColumnFamilies(options.CreateIfMissing)
            .IncreaseParallelism(Math.Max(2, Environment.ProcessorCount))
            .SetWalTtlSeconds(options.WalTtlSeconds)
            .SetWalSizeLimitMB(options.WalSizeLimitMb)
            .SetMaxTotalWalSize(1024UL * 1024 * 1024);
        Native.Instance.rocksdb_options_set_max_background_jobs(dbOptions.Handle, options.MaxBackgroundJobs);

        var families = new ColumnFamilies(Family(false, IntPtr.Zero))
        {
            { StorageFormat.MetaFamily, Family(true, filters.MetaFilter.Handle) },
            { StorageFormat.SubFamily, Family(true, filterFactory: filters.SubFilterFactory) },
            { StorageFormat.ZScoreFamily, Family(false, filterFactory: filters.ZScoreFilterFactory) },
            { StorageFormat.SysFamily, Family(false, IntPtr.Zero) },
        };
        var db = RocksDb.Open(dbOptions, options.Path, families);
        var engine = new StorageEngine(options, logger, db, dbOptions, filters);
        filters.Attach(engine);
        try
        {
            engine.CheckFormatVersion();
        }
        catch
        {
            engine.Dispose();
            throw;
        }
        return engine;
    }

    private void CheckFormatVersion()
    {
        var stored = _db.Get(StorageFormat.FormatVersionKey, Sys);
        if (stored is null)
        {
            using var batch = new WriteBatch();
            batch.Put(StorageFormat.FormatVersionKey, System.Text.Encoding.ASCII.GetBytes(StorageFormat.Version.ToString(CultureInfo.InvariantCulture)), Sys);
            Write(batch);
            return;
        }
        var version = int.Parse(System.Text.Encoding.ASCII.GetString(stored), CultureInfo.InvariantCulture);
        if (version != StorageFormat.Version)
        {
            throw new InvalidDataException($"dataset at {Path} has storage format {version}; this build reads format {StorageFormat.Version}");
        }
    }

    /// <summary>Reads a value into a per-thread buffer. The span is valid until the next read on this thread.</summary>
    public bool TryGet(ColumnFamilyHandle family, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        ThrowIfDisposed();
        if (Current is { } transaction)
        {
            return transaction.TryGet(_db, family, key, _readOptions, out value);
        }
        return ReadCommitted(family, key, _readOptions, out value);
    }

    /// <summary>
    /// A point read of what is committed, into the thread's read buffer: through the key cache for a `meta` key
    /// read without a snapshot, straight from the database otherwise.
    /// </summary>
    internal bool ReadCommitted(ColumnFamilyHandle family, ReadOnlySpan<byte> key, ReadOptions options, out ReadOnlySpan<byte> value)
    {
        if (CacheFor(family, options) is not { } cache)
        {
            return ReadIntoThreadBuffer(_db, family, key, options, out value);
        }
        var capture = ValueCapture.Current;
        switch (cache.TryRead(key, capture, out var ticket))
        {
            case KeyCache.Lookup.Found:
                value = capture.Span;
                return true;
            case KeyCache.Lookup.NotFound:
                value = default;
                return false;
        }
        var found = _db.Get(key, capture, family, options);
        value = found ? capture.Span : default;
        cache.Fill(key, ticket, found, value);
        return found;
    }

    /// <summary><see cref="ReadCommitted"/> into a new array.</summary>
    internal byte[]? GetCommitted(ColumnFamilyHandle family, ReadOnlySpan<byte> key, ReadOptions options)
    {
        if (CacheFor(family, options) is null)
        {
            return _db.Get(key, family, options);
        }
        return ReadCommitted(family, key, options, out var value) ? value.ToArray() : null;
    }

    /// <summary>The cache that answers this read, if any: the key cache for a `meta` key, the sub-key cache for a `sub` key, read without a snapshot.</summary>
    private KeyCache? CacheFor(ColumnFamilyHandle family, ReadOptions options) =>
        !ReferenceEquals(options, _readOptions) ? null
        : ReferenceEquals(family, Meta) ? KeyCache
        : ReferenceEquals(family, Sub) ? SubKeyCache
        : null;

    /// <summary>A point read of the database alone into the thread's read buffer (see <see cref="TryGet"/>).</summary>
    internal static bool ReadIntoThreadBuffer(RocksDb db, ColumnFamilyHandle family, ReadOnlySpan<byte> key, ReadOptions options, out ReadOnlySpan<byte> value)
    {
        var capture = ValueCapture.Current;
        if (db.Get(key, capture, family, options))
        {
            value = capture.Span;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Reads a value into a new array, for values that must outlive the next read.</summary>
    public byte[]? Get(ColumnFamilyHandle family, ReadOnlySpan<byte> key)
    {
        ThrowIfDisposed();
        return Current is { } transaction ? transaction.Get(_db, family, key, _readOptions) : GetCommitted(family, key, _readOptions);
    }

    /// <summary>
    /// Reads a value into a new array, for one of a run of keys read one after another in key order within
    /// [<paramref name="lower"/>, <paramref name="upper"/>) (<paramref name="forward"/>: ascending). In a
    /// transaction that allows it, the committed keys that follow are read ahead with one iterator
    /// (<see cref="ReadAhead"/>); otherwise it is <see cref="Get(ColumnFamilyHandle, ReadOnlySpan{byte})"/>.
    /// </summary>
    public byte[]? GetInOrder(ColumnFamilyHandle family, ReadOnlySpan<byte> key, byte[] lower, byte[] upper, bool forward)
    {
        ThrowIfDisposed();
        return Current is { } transaction
            ? transaction.GetInOrder(_db, family, key, lower, upper, forward, _readOptions)
            : GetCommitted(family, key, _readOptions);
    }

    /// <summary>Reads a value with explicit read options (a snapshot), seeing an open transaction's writes on its thread.</summary>
    public byte[]? Get(ColumnFamilyHandle family, ReadOnlySpan<byte> key, ReadOptions options)
    {
        ThrowIfDisposed();
        return Current is { } transaction ? transaction.Get(_db, family, key, options) : _db.Get(key, family, options);
    }

    /// <summary>Commits one batch atomically, with the durability the fsync policy asks for.</summary>
    public void Write(WriteBatch batch)
    {
        ThrowIfDisposed();
        _threadWrites++;
        if (Current is { } transaction)
        {
            transaction.Append(batch);
            return;
        }
        MarkBoundary(batch);
        if (Options.Fsync == FsyncPolicy.Always)
        {
            WriteToDb(batch, _syncWrite);
            SignalWritten();
            return;
        }
        WriteToDb(batch, _asyncWrite);
        Interlocked.Increment(ref _writesSinceSync);
        SignalWritten();
    }

    /// <summary>Why the last write (or WAL sync) failed, or null when the last one succeeded (INFO's aof_last_write_status).</summary>
    public string? LastWriteFailure => _lastWriteFailure;

    /// <summary>Writes and WAL syncs that failed since this engine was opened.</summary>
    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    private void WriteToDb(WriteBatch batch, WriteOptions options)
    {
        var cache = KeyCache;
        var subCache = SubKeyCache;
        var records = cache is null && subCache is null ? default : batch.AsSpan();
        var written = false;
        KeyCache.BeginWrite(records, cache, subCache);
        try
        {
            _db.Write(batch, options);
            written = true;
        }
        catch (RocksDbException ex)
        {
            RecordWriteFailure(ex);
            throw;
        }
        finally
        {
            subCache?.EndWrite(records, written);
            cache?.EndWrite(records, written);
        }
        if (_lastWriteFailure is not null)
        {
            _lastWriteFailure = null;
        }
    }

    private void RecordWriteFailure(Exception ex)
    {
        Interlocked.Increment(ref _writeFailures);
        // Once a WAL append has failed, RocksDB answers the next appends and syncs of that log with "Writer has
        // previous error" until it recovers: the failure that is still in force (a full disk) stays the one reported.
        if (_lastWriteFailure is null || !ex.Message.Contains(WriterHasPreviousError, StringComparison.Ordinal))
        {
            _lastWriteFailure = ex.Message;
        }
    }

    /// <summary>RocksDB's message for an operation on a log file whose writer failed before.</summary>
    private const string WriterHasPreviousError = "Writer has previous error";

    /// <summary>Ends the batch with the boundary marker (<see cref="WriteBatchFormat"/>): whole commands end here.</summary>
    private static void MarkBoundary(WriteBatch batch) => batch.PutLogData(Boundary, (ulong)Boundary.Length);

    /// <summary>
    /// Completes when a batch is written after this call (binlog streams wait on it instead of polling the WAL).
    /// Register first, then look for data, then await: a write in between completes the task, so none is missed.
    /// Every waiter of the moment shares one task; a write with no waiter costs one read of a null field.
    /// </summary>
    public Task WrittenAsync()
    {
        var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (Interlocked.CompareExchange(ref _written, fresh, null) ?? fresh).Task;
    }

    private void SignalWritten()
    {
        if (_written is { } waiting && Interlocked.CompareExchange(ref _written, null, waiting) == waiting)
        {
            waiting.TrySetResult();
        }
    }

    /// <summary>
    /// Number of <see cref="Write"/> calls made by the calling thread so far: a caller compares two readings to
    /// learn whether the code in between wrote anything (WATCH invalidation).
    /// </summary>
    public static long ThreadWrites => _threadWrites;

    /// <summary>Commits one batch and syncs the WAL before returning, whatever the fsync policy (replication state changes).</summary>
    public void WriteDurable(WriteBatch batch)
    {
        ThrowIfDisposed();
        MarkBoundary(batch);
        WriteToDb(batch, _syncWrite);
        SignalWritten();
    }

    /// <summary>An iterator over <paramref name="family"/> bounded to [lower, upper). Always dispose it.</summary>
    public Iterator NewIterator(ColumnFamilyHandle family, byte[]? lower, byte[]? upper, Snapshot? snapshot = null)
    {
        ThrowIfDisposed();
        var ro = new ReadOptions();
        if (lower is not null)
        {
            ro.SetIterateLowerBound(lower);
        }
        if (upper is not null)
        {
            ro.SetIterateUpperBound(upper);
        }
        if (snapshot is not null)
        {
            ro.SetSnapshot(snapshot);
        }
        return Current is { } transaction ? transaction.NewIterator(family, ro) : _db.NewIterator(family, ro);
    }

    /// <summary>A new, unique, increasing version for a collection created now (sub-keys of older versions become garbage).</summary>
    public ulong NextVersion()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _lastVersion);
            var next = Math.Max(last + 1, DateTime.UtcNow.Ticks);
            if (Interlocked.CompareExchange(ref _lastVersion, next, last) == last)
            {
                return (ulong)next;
            }
        }
    }

    public string? Property(string name, ColumnFamilyHandle? family = null)
    {
        ThrowIfDisposed();
        return family is null ? _db.GetProperty(name) : _db.GetProperty(name, family);
    }

    /// <summary>
    /// An integer property summed over every column family (a property asked without a family describes the
    /// default family only, which holds no data): memtable sizes, SST file sizes, key estimates.
    /// </summary>
    public long PropertySum(string name)
    {
        ThrowIfDisposed();
        long total = 0;
        foreach (var family in new[] { _db.GetDefaultColumnFamily(), Meta, Sub, ZScore, Sys })
        {
            if (long.TryParse(_db.GetProperty(name, family), System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                total += value;
            }
        }
        return total;
    }

    /// <summary>Writes a consistent checkpoint (hard-linked SST files) into <paramref name="directory"/>, which must not exist.</summary>
    public void Checkpoint(string directory)
    {
        ThrowIfDisposed();
        using var checkpoint = _db.Checkpoint();
        checkpoint.Save(directory);
    }

    /// <summary>Compacts every column family (reclaims expired keys and orphaned sub-keys).</summary>
    public void CompactAll()
    {
        foreach (var family in new[] { Meta, Sub, ZScore })
        {
            CompactFamily(family);
        }
    }

    /// <summary>Compacts one column family over its whole key range; throws once the engine is closing.</summary>
    internal void CompactFamily(ColumnFamilyHandle family)
    {
        ThrowIfDisposed();
        _db.CompactRange((byte[]?)null, (byte[]?)null, family);
    }

    /// <summary>Forces the WAL to disk now.</summary>
    public void SyncWal()
    {
        ThrowIfDisposed();
        Native.Instance.rocksdb_flush_wal(_db.Handle, 1);
    }

    /// <summary>Whether the compaction filter may drop keys because their expiry passed (off on replicas, which wait for the master's DEL).</summary>
    public bool ExpireInCompaction
    {
        get => _filters.ExpireInCompaction;
        set => _filters.ExpireInCompaction = value;
    }

    private void SyncWalIfDirty()
    {
        if (_disposed || Options.Fsync != FsyncPolicy.EverySec || Interlocked.Exchange(ref _writesSinceSync, 0) == 0)
        {
            return;
        }
        try
        {
            SyncWal();
        }
        catch (Exception ex) when (ex is RocksDbException or ObjectDisposedException)
        {
            RecordWriteFailure(ex);
            _logger.LogError(ex, "WAL fsync failed");
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(StorageEngine), "the dataset is closed");
        }
        PerfLevel.OffForThisThread();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _walSyncTimer?.Dispose();
        // A running manual compaction holds the native handle: pause it (RocksDB makes it return) and wait.
        Native.Instance.rocksdb_disable_manual_compaction(_db.Handle);
        Compaction.WaitForExit();
        _filters.Detach();
        try
        {
            Native.Instance.rocksdb_flush_wal(_db.Handle, 1);
        }
        catch (RocksDbException ex)
        {
            _logger.LogError(ex, "final WAL fsync failed");
        }
        _db.Dispose();
        GC.KeepAlive(_dbOptions);
    }

    /// <summary>The binding's Cache constructor is private; a cache made from LRU options needs one around its handle.</summary>
    private static class CacheAccess
    {
        [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
        public static extern Cache Create(IntPtr handle);
    }
}
