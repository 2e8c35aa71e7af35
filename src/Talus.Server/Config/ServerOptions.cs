using Talus.Storage.Engine;

namespace Talus.Server.Config;

/// <summary>
/// Every setting of a Talus server, with Redis' names and defaults where Redis has the setting. The table
/// of names, parsing and mutability is <see cref="ConfigRegistry"/>; conf/talus.conf documents each one.
/// </summary>
public sealed class ServerOptions
{
    public int Port { get; set; } = 6379;

    public List<string> Bind { get; set; } = ["127.0.0.1"];

    public string Dir { get; set; } = "./data";

    public int Databases { get; set; } = 16;

    public string? RequirePass { get; set; }

    public string? MasterAuth { get; set; }

    public string? MasterUser { get; set; }

    /// <summary>"host port" of the master when this node starts as a replica.</summary>
    public string? ReplicaOf { get; set; }

    public int ReplicaPriority { get; set; } = 100;

    /// <summary>The address a replica gives its master for INFO slaveN (Sentinel connects there); null = the connection's source address.</summary>
    public string? ReplicaAnnounceIp { get; set; }

    /// <summary>The port a replica gives its master for INFO slaveN; 0 = its listening port.</summary>
    public int ReplicaAnnouncePort { get; set; }

    /// <summary>Whether Sentinel should list this replica (INFO replica_announced).</summary>
    public bool ReplicaAnnounced { get; set; } = true;

    public string LogLevel { get; set; } = "notice";

    public string LogFile { get; set; } = "";

    public string? PidFile { get; set; }

    public int MaxClients { get; set; } = 10000;

    /// <summary>Seconds of client idleness before the connection is closed (0 = never).</summary>
    public int Timeout { get; set; }

    public int TcpKeepAlive { get; set; } = 300;

    /// <summary>Run socket completions, and so the commands of client connections, on the socket event threads.</summary>
    public bool SocketInlineCompletions { get; set; } = true;

    public long ProtoMaxBulkLen { get; set; } = 512L * 1024 * 1024;

    public long ClientQueryBufferLimit { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Output buffer limits per class: normal, replica, pubsub (hard bytes, soft bytes, soft seconds).</summary>
    public string ClientOutputBufferLimit { get; set; } = "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60";

    public FsyncPolicy AppendFsync { get; set; } = FsyncPolicy.EverySec;

    public long BlockCacheSize { get; set; } = 256L * 1024 * 1024;

    public long KeyCacheSize { get; set; } = 64L * 1024 * 1024;

    public long SubKeyCacheSize { get; set; } = 64L * 1024 * 1024;

    public long ListCacheSize { get; set; } = 32L * 1024 * 1024;

    /// <summary>Memtable size per column family. 16 MB rather than 64: point reads and inserts walk a smaller skiplist (measured in docs/benchmarks.md).</summary>
    public long WriteBufferSize { get; set; } = 16L * 1024 * 1024;

    public int MaxWriteBufferNumber { get; set; } = 3;

    public int BloomBitsPerKey { get; set; } = 10;

    public long BinlogRetentionSeconds { get; set; } = 3600;

    public long BinlogRetentionSize { get; set; } = 1024L * 1024 * 1024;

    public long SlowlogLogSlowerThan { get; set; } = 10000;

    public int SlowlogMaxLen { get; set; } = 128;

    public int MaxFullSyncParallel { get; set; } = 2;

    public long FullSyncThrottleBytesPerSecond { get; set; }

    public long FullSyncChunkSize { get; set; } = 1024 * 1024;

    public int ReplTimeout { get; set; } = 60;

    /// <summary>Seconds a master waits at shutdown for its replicas to acknowledge its last write (0: no wait).</summary>
    public int ShutdownTimeout { get; set; } = 10;

    /// <summary>Seconds an unread full-sync snapshot stays usable for replicas that arrive later.</summary>
    public int SnapshotReuseSeconds { get; set; } = 60;

    public int ReplPingReplicaPeriod { get; set; } = 10;

    /// <summary>Testing only: milliseconds a replica sleeps inside the dataset swap of a full sync (fault tests kill -9 there).</summary>
    public int ReplSwapDelayMs { get; set; }

    /// <summary>Testing only: milliseconds the master waits between a snapshot's checkpoint and publishing it.</summary>
    public int ReplSnapshotDelayMs { get; set; }

    /// <summary>Accepted for compatibility with Redis configs; Talus' durability is the RocksDB WAL.</summary>
    public bool AppendOnly { get; set; } = true;

    /// <summary>Accepted for compatibility; Talus persists every write, so RDB save points do not apply.</summary>
    public string Save { get; set; } = "";

    public long MaxMemory { get; set; }

    public string MaxMemoryPolicy { get; set; } = "noeviction";

    /// <summary>The config file this server was started with (CONFIG REWRITE writes it back).</summary>
    public string? ConfigFile { get; set; }

    /// <summary>Raised after CONFIG SET changed a setting, with its canonical name.</summary>
    public event Action<string>? Changed;

    internal void OnChanged(string name) => Changed?.Invoke(name);

    public StorageOptions ToStorageOptions() => new()
    {
        Path = Path.Combine(Dir, "db"),
        Databases = Databases,
        Fsync = AppendFsync,
        BlockCacheBytes = BlockCacheSize,
        KeyCacheBytes = KeyCacheSize,
        SubKeyCacheBytes = SubKeyCacheSize,
        ListCacheBytes = ListCacheSize,
        WriteBufferBytes = WriteBufferSize,
        MaxWriteBufferNumber = MaxWriteBufferNumber,
        BloomBitsPerKey = BloomBitsPerKey,
        WalTtlSeconds = (ulong)BinlogRetentionSeconds,
        WalSizeLimitMb = (ulong)(BinlogRetentionSize / (1024 * 1024)),
    };
}
