namespace Talus.Storage.Engine;

/// <summary>When the RocksDB write-ahead log is forced to disk (Redis' appendfsync).</summary>
public enum FsyncPolicy
{
    Always,   // every write batch is synced before the reply: nothing acknowledged is ever lost
    EverySec, // a background timer syncs the WAL once a second: at most about a second lost on power failure
    No,       // the OS decides; a process crash loses nothing, a machine crash may
}

/// <summary>Everything the storage engine needs to open a dataset.</summary>
public sealed class StorageOptions
{
    public required string Path { get; init; }

    public int Databases { get; init; } = 16;

    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.EverySec;

    public long BlockCacheBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Bytes of the key cache in front of `meta` point reads (<see cref="KeyCache"/>); 0 turns it off.</summary>
    public long KeyCacheBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Bytes of the sub-key cache in front of `sub` point reads (a set's member, a hash's field, a list's element;
    /// a second <see cref="KeyCache"/>); 0 turns it off.
    /// </summary>
    public long SubKeyCacheBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Bytes of the list cache (<see cref="ListCache"/>); 0 turns it off, as does a key cache of 0.</summary>
    public long ListCacheBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Memtable size per column family (a smaller skiplist makes point reads and inserts cheaper).</summary>
    public long WriteBufferBytes { get; init; } = 32L * 1024 * 1024;

    public int MaxWriteBufferNumber { get; init; } = 3;

    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>WAL kept after flush for replicas catching up (binlog retention by age).</summary>
    public ulong WalTtlSeconds { get; init; } = 3600;

    /// <summary>WAL kept after flush for replicas catching up (binlog retention by size).</summary>
    public ulong WalSizeLimitMb { get; init; } = 1024;

    public int MaxBackgroundJobs { get; init; } = 4;

    /// <summary>Fail instead of creating a new dataset (a full-sync staging area must already hold one).</summary>
    public bool CreateIfMissing { get; init; } = true;
}
