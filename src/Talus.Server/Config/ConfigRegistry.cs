using System.Globalization;
using Talus.Storage.Engine;

namespace Talus.Server.Config;

/// <summary>One configuration key: how to read it, how to set it, and whether CONFIG SET may change it at runtime.</summary>
public sealed record ConfigEntry(string Name, bool Mutable, Func<ServerOptions, string> Get, Func<ServerOptions, string[], string?> Set, params string[] Aliases)
{
    /// <summary>A byte count: CONFIG GET gives bytes, CONFIG REWRITE writes the largest whole unit (as Redis does).</summary>
    public bool IsMemory { get; init; }
}

/// <summary>
/// The table of configuration keys shared by the config file, the command line and CONFIG GET/SET/REWRITE.
/// A setter returns null on success or the reason the value is invalid.
/// </summary>
public static class ConfigRegistry
{
    private static readonly Dictionary<string, ConfigEntry> ByName = new(StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<ConfigEntry> Entries { get; }

    static ConfigRegistry()
    {
        Entries =
        [
            Int("port", false, o => o.Port, (o, v) => o.Port = v, 0, 65535),
            new ConfigEntry("bind", false, o => string.Join(' ', o.Bind), (o, v) =>
            {
                o.Bind = v.SelectMany(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
                return o.Bind.Count == 0 ? "bind needs at least one address" : null;
            }),
            Str("dir", false, o => o.Dir, (o, v) => o.Dir = v),
            Int("databases", false, o => o.Databases, (o, v) => o.Databases = v, 1, 255),
            Str("requirepass", true, o => o.RequirePass ?? "", (o, v) => o.RequirePass = v.Length == 0 ? null : v),
            Str("masterauth", true, o => o.MasterAuth ?? "", (o, v) => o.MasterAuth = v.Length == 0 ? null : v),
            Str("masteruser", true, o => o.MasterUser ?? "", (o, v) => o.MasterUser = v.Length == 0 ? null : v),
            new ConfigEntry("replicaof", false, o => o.ReplicaOf ?? "", (o, v) =>
            {
                var parts = v.SelectMany(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
                if (parts.Length == 0 || (parts.Length == 2 && parts[0].Equals("no", StringComparison.OrdinalIgnoreCase) && parts[1].Equals("one", StringComparison.OrdinalIgnoreCase)))
                {
                    o.ReplicaOf = null;
                    return null;
                }
                if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                {
                    return "replicaof needs a host and a port";
                }
                o.ReplicaOf = $"{parts[0]} {port}";
                return null;
            }, "slaveof"),
            // Only "yes": a replica's offsets are its RocksDB sequence numbers, and a local write would take one.
            new ConfigEntry("replica-read-only", true, _ => "yes", (_, v) =>
                v.Length != 1 || !ConfigValue.TryParseBool(v[0], out var readOnly) ? "argument must be 'yes' or 'no'"
                : readOnly ? null
                : "Talus replicas are always read-only: a replica's replication offsets are its storage sequence numbers, which a local write would take",
                "slave-read-only"),
            Int("replica-priority", true, o => o.ReplicaPriority, (o, v) => o.ReplicaPriority = v, 0, int.MaxValue, "slave-priority"),
            Str("replica-announce-ip", true, o => o.ReplicaAnnounceIp ?? "", (o, v) => o.ReplicaAnnounceIp = v.Length == 0 ? null : v, "slave-announce-ip"),
            Int("replica-announce-port", true, o => o.ReplicaAnnouncePort, (o, v) => o.ReplicaAnnouncePort = v, 0, 65535, "slave-announce-port"),
            Bool("replica-announced", true, o => o.ReplicaAnnounced, (o, v) => o.ReplicaAnnounced = v),
            OneOf("loglevel", true, o => o.LogLevel, (o, v) => o.LogLevel = v, "debug", "verbose", "notice", "warning", "nothing"),
            Str("logfile", false, o => o.LogFile, (o, v) => o.LogFile = v),
            Str("pidfile", false, o => o.PidFile ?? "", (o, v) => o.PidFile = v.Length == 0 ? null : v),
            Int("maxclients", true, o => o.MaxClients, (o, v) => o.MaxClients = v, 1, 1_000_000),
            Int("timeout", true, o => o.Timeout, (o, v) => o.Timeout = v, 0, int.MaxValue),
            Int("tcp-keepalive", true, o => o.TcpKeepAlive, (o, v) => o.TcpKeepAlive = v, 0, int.MaxValue),
            Bool("socket-inline-completions", false, o => o.SocketInlineCompletions, (o, v) => o.SocketInlineCompletions = v),
            Mem("proto-max-bulk-len", true, o => o.ProtoMaxBulkLen, (o, v) => o.ProtoMaxBulkLen = v, 1024 * 1024),
            Mem("client-query-buffer-limit", true, o => o.ClientQueryBufferLimit, (o, v) => o.ClientQueryBufferLimit = v, 1024 * 1024),
            new ConfigEntry("client-output-buffer-limit", true, o => OutputBufferLimits.Format(o.ClientOutputBufferLimit), (o, v) =>
            {
                var merged = OutputBufferLimits.Merge(o.ClientOutputBufferLimit, string.Join(' ', v), out var error);
                if (merged is null)
                {
                    return error;
                }
                o.ClientOutputBufferLimit = merged;
                return null;
            }),
            OneOf("appendfsync", true, o => o.AppendFsync switch { FsyncPolicy.Always => "always", FsyncPolicy.No => "no", _ => "everysec" },
                (o, v) => o.AppendFsync = v switch { "always" => FsyncPolicy.Always, "no" => FsyncPolicy.No, _ => FsyncPolicy.EverySec },
                "everysec", "always", "no"),
            Bool("appendonly", true, o => o.AppendOnly, (o, v) => o.AppendOnly = v),
            new ConfigEntry("save", true, o => o.Save, (o, v) =>
            {
                // "<seconds> <changes>" pairs, as Redis checks them; Talus persists every write anyway.
                var words = v.SelectMany(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
                if (words.Length % 2 != 0 || words.Any(w => !long.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                {
                    return "Invalid save parameters";
                }
                o.Save = string.Join(' ', words);
                return null;
            }),
            Mem("maxmemory", true, o => o.MaxMemory, (o, v) => o.MaxMemory = v, 0),
            OneOf("maxmemory-policy", true, o => o.MaxMemoryPolicy, (o, v) => o.MaxMemoryPolicy = v,
                "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"),
            Mem("rocksdb-block-cache-size", false, o => o.BlockCacheSize, (o, v) => o.BlockCacheSize = v, 1024 * 1024),
            Mem("key-cache-size", false, o => o.KeyCacheSize, (o, v) => o.KeyCacheSize = v, 0),
            Mem("subkey-cache-size", false, o => o.SubKeyCacheSize, (o, v) => o.SubKeyCacheSize = v, 0),
            Mem("list-cache-size", false, o => o.ListCacheSize, (o, v) => o.ListCacheSize = v, 0),
            Mem("rocksdb-write-buffer-size", false, o => o.WriteBufferSize, (o, v) => o.WriteBufferSize = v, 1024 * 1024),
            Int("rocksdb-max-write-buffer-number", false, o => o.MaxWriteBufferNumber, (o, v) => o.MaxWriteBufferNumber = v, 2, 64),
            Int("rocksdb-bloom-bits-per-key", false, o => o.BloomBitsPerKey, (o, v) => o.BloomBitsPerKey = v, 0, 64),
            Long("binlog-retention-seconds", false, o => o.BinlogRetentionSeconds, (o, v) => o.BinlogRetentionSeconds = v, 0),
            Mem("binlog-retention-size", false, o => o.BinlogRetentionSize, (o, v) => o.BinlogRetentionSize = v, 0),
            Int("snapshot-reuse-seconds", true, o => o.SnapshotReuseSeconds, (o, v) => o.SnapshotReuseSeconds = v, 0, 86400),
            Long("slowlog-log-slower-than", true, o => o.SlowlogLogSlowerThan, (o, v) => o.SlowlogLogSlowerThan = v, -1),
            Int("slowlog-max-len", true, o => o.SlowlogMaxLen, (o, v) => o.SlowlogMaxLen = v, 0, int.MaxValue),
            Int("max-full-sync-parallel", true, o => o.MaxFullSyncParallel, (o, v) => o.MaxFullSyncParallel = v, 1, 64),
            Mem("full-sync-throttle-bytes-per-second", true, o => o.FullSyncThrottleBytesPerSecond, (o, v) => o.FullSyncThrottleBytesPerSecond = v, 0),
            Mem("full-sync-chunk-size", true, o => o.FullSyncChunkSize, (o, v) => o.FullSyncChunkSize = v, 4096),
            Int("repl-timeout", true, o => o.ReplTimeout, (o, v) => o.ReplTimeout = v, 1, int.MaxValue),
            Int("shutdown-timeout", true, o => o.ShutdownTimeout, (o, v) => o.ShutdownTimeout = v, 0, int.MaxValue),
            Int("repl-swap-delay-ms", true, o => o.ReplSwapDelayMs, (o, v) => o.ReplSwapDelayMs = v, 0, 600_000),
            Int("repl-snapshot-delay-ms", true, o => o.ReplSnapshotDelayMs, (o, v) => o.ReplSnapshotDelayMs = v, 0, 600_000),
            Int("repl-ping-replica-period", true, o => o.ReplPingReplicaPeriod, (o, v) => o.ReplPingReplicaPeriod = v, 1, int.MaxValue, "repl-ping-slave-period"),
        ];
        foreach (var entry in Entries)
        {
            ByName[entry.Name] = entry;
            foreach (var alias in entry.Aliases)
            {
                ByName[alias] = entry;
            }
        }
    }

    public static bool TryFind(string name, out ConfigEntry entry) => ByName.TryGetValue(name, out entry!);

    /// <summary>Every name (canonical and alias) CONFIG GET matches against, with the entry it reads.</summary>
    public static IEnumerable<(string Name, ConfigEntry Entry)> AllNames() => ByName.Select(kv => (kv.Key, kv.Value));

    private static ConfigEntry Str(string name, bool mutable, Func<ServerOptions, string> get, Action<ServerOptions, string> set, params string[] aliases) =>
        new(name, mutable, get, (o, v) =>
        {
            set(o, string.Join(' ', v));
            return null;
        }, aliases);

    /// <summary>A setting that takes one of a fixed list of words (case-insensitive), with Redis' error listing them.</summary>
    private static ConfigEntry OneOf(string name, bool mutable, Func<ServerOptions, string> get, Action<ServerOptions, string> set, params string[] allowed) =>
        new(name, mutable, get, (o, v) =>
        {
            var word = v.Length == 1 ? v[0].ToLowerInvariant() : "";
            if (!allowed.Contains(word))
            {
                return "argument(s) must be one of the following: " + string.Join(", ", allowed);
            }
            set(o, word);
            return null;
        });

    private static ConfigEntry Bool(string name, bool mutable, Func<ServerOptions, bool> get, Action<ServerOptions, bool> set, params string[] aliases) =>
        new(name, mutable, o => ConfigValue.FormatBool(get(o)), (o, v) =>
        {
            if (v.Length != 1 || !ConfigValue.TryParseBool(v[0], out var b))
            {
                return "argument must be 'yes' or 'no'";
            }
            set(o, b);
            return null;
        }, aliases);

    private static ConfigEntry Int(string name, bool mutable, Func<ServerOptions, int> get, Action<ServerOptions, int> set, int min, int max, params string[] aliases) =>
        new(name, mutable, o => get(o).ToString(CultureInfo.InvariantCulture), (o, v) =>
        {
            if (v.Length != 1 || !int.TryParse(v[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                return "argument couldn't be parsed into an integer";
            }
            if (n < min || n > max)
            {
                return $"argument must be between {min} and {max} inclusive";
            }
            set(o, n);
            return null;
        }, aliases);

    private static ConfigEntry Long(string name, bool mutable, Func<ServerOptions, long> get, Action<ServerOptions, long> set, long min) =>
        new(name, mutable, o => get(o).ToString(CultureInfo.InvariantCulture), (o, v) =>
        {
            if (v.Length != 1 || !long.TryParse(v[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                return "argument couldn't be parsed into an integer";
            }
            if (n < min)
            {
                return $"argument must be between {min} and {long.MaxValue} inclusive";
            }
            set(o, n);
            return null;
        });

    private static ConfigEntry Mem(string name, bool mutable, Func<ServerOptions, long> get, Action<ServerOptions, long> set, long min) =>
        new(name, mutable, o => get(o).ToString(CultureInfo.InvariantCulture), (o, v) =>
        {
            if (v.Length != 1 || !ConfigValue.TryParseMemory(v[0], out var n))
            {
                return "argument must be a memory value";
            }
            if (n < min)
            {
                return $"argument must be between {min} and {long.MaxValue} inclusive";
            }
            set(o, n);
            return null;
        })
        {
            IsMemory = true,
        };
}
