using System.Diagnostics;
using System.Globalization;
using System.Text;
using Talus.Server.Host;

namespace Talus.Server.Commands;

/// <summary>INFO: Redis' sections and field names, plus talus_* fields where Talus has more to say.</summary>
public static partial class ServerCommands
{
    private static readonly string[] DefaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"];

    private static void Info(CommandContext ctx)
    {
        var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 1; i < ctx.Argc; i++)
        {
            var s = ctx.Args.GetString(i).ToLowerInvariant();
            if (s is "all" or "everything" or "default")
            {
                wanted.UnionWith(DefaultSections);
            }
            else
            {
                wanted.Add(s);
            }
        }
        if (wanted.Count == 0)
        {
            wanted.UnionWith(DefaultSections);
        }
        ctx.Writer.WriteVerbatim(BuildInfo(ctx.Server, wanted));
    }

    /// <summary>The INFO text for the given sections, in Redis' section order.</summary>
    public static string BuildInfo(ServerContext server, ISet<string> sections)
    {
        var sb = new StringBuilder();
        void Section(string name, IEnumerable<(string, string)> fields)
        {
            if (!sections.Contains(name))
            {
                return;
            }
            if (sb.Length > 0)
            {
                sb.Append("\r\n");
            }
            sb.Append("# ").Append(char.ToUpperInvariant(name[0])).Append(name[1..]).Append("\r\n");
            foreach (var (k, v) in fields)
            {
                sb.Append(k).Append(':').Append(v).Append("\r\n");
            }
        }
        Section("server", ServerFields(server));
        Section("clients", ClientFields(server));
        Section("memory", MemoryFields(server));
        Section("persistence", PersistenceFields(server));
        Section("stats", StatsFields(server));
        Section("replication", server.Replication.InfoFields());
        Section("cpu", CpuFields());
        Section("keyspace", KeyspaceFields(server));
        return sb.ToString();
    }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<(string, string)> ServerFields(ServerContext server)
    {
        var uptime = (long)(DateTimeOffset.UtcNow - server.StartedAt).TotalSeconds;
        yield return ("redis_version", ConnectionCommands.RedisCompatVersion);
        yield return ("talus_version", Program.Version);
        yield return ("redis_mode", "standalone");
        yield return ("os", $"{Environment.OSVersion.Platform} {Environment.OSVersion.Version} {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}");
        yield return ("arch_bits", N(IntPtr.Size * 8));
        yield return ("multiplexing_api", "epoll");
        yield return ("process_id", N(Environment.ProcessId));
        yield return ("run_id", server.RunId);
        yield return ("tcp_port", N(server.Options.Port));
        yield return ("server_time_usec", N(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000));
        yield return ("uptime_in_seconds", N(uptime));
        yield return ("uptime_in_days", N(uptime / 86400));
        yield return ("executable", Environment.ProcessPath ?? "");
        yield return ("config_file", server.Options.ConfigFile ?? "");
    }

    private static IEnumerable<(string, string)> ClientFields(ServerContext server)
    {
        var clients = server.Clients.All.ToList();
        yield return ("connected_clients", N(clients.Count(c => c.Kind != ClientKind.Replica)));
        yield return ("maxclients", N(server.Options.MaxClients));
        yield return ("client_recent_max_input_buffer", N(clients.Count == 0 ? 0 : clients.Max(c => c.QueryBufferBytes)));
        yield return ("client_recent_max_output_buffer", N(clients.Count == 0 ? 0 : clients.Max(c => c.OutputBytes)));
        yield return ("blocked_clients", N(clients.Count(c => c.Blocked)));
        yield return ("pubsub_clients", N(clients.Count(c => c.Kind == ClientKind.PubSub)));
    }

    private static IEnumerable<(string, string)> MemoryFields(ServerContext server)
    {
        using var process = Process.GetCurrentProcess();
        var rss = process.WorkingSet64;
        var managed = GC.GetTotalMemory(false);
        var engine = server.Dataset.Engine;
        long Prop(string name) => long.TryParse(engine.Property(name), CultureInfo.InvariantCulture, out var v) ? v : 0;
        var memtables = engine.PropertySum("rocksdb.cur-size-all-mem-tables");
        var cache = Prop("rocksdb.block-cache-usage"); // one cache shared by every family
        var keyCache = engine.KeyCache?.UsedBytes ?? 0;
        var subKeyCache = engine.SubKeyCache?.UsedBytes ?? 0;
        var listCache = engine.ListCache?.UsedBytes ?? 0;
        var used = managed + memtables + cache + keyCache + subKeyCache;
        yield return ("used_memory", N(used));
        yield return ("used_memory_human", Human(used));
        yield return ("used_memory_rss", N(rss));
        yield return ("used_memory_rss_human", Human(rss));
        yield return ("used_memory_peak", N(process.PeakWorkingSet64));
        yield return ("used_memory_peak_human", Human(process.PeakWorkingSet64));
        yield return ("maxmemory", N(server.Options.MaxMemory));
        yield return ("maxmemory_policy", server.Options.MaxMemoryPolicy);
        yield return ("mem_allocator", "libc");
        yield return ("talus_managed_heap", N(managed));
        yield return ("talus_rocksdb_memtables", N(memtables));
        yield return ("talus_rocksdb_block_cache", N(cache));
        // The key cache is native memory, outside the managed heap; its pages are touched only as entries arrive.
        yield return ("talus_key_cache_capacity", N(engine.KeyCache?.Capacity ?? 0));
        yield return ("talus_key_cache_used", N(keyCache));
        yield return ("talus_subkey_cache_capacity", N(engine.SubKeyCache?.Capacity ?? 0));
        yield return ("talus_subkey_cache_used", N(subKeyCache));
        // The list cache's entries are managed arrays, counted in talus_managed_heap already.
        yield return ("talus_list_cache_capacity", N(engine.ListCache?.Capacity ?? 0));
        yield return ("talus_list_cache_used", N(listCache));
        yield return ("talus_disk_sst_bytes", N(engine.PropertySum("rocksdb.total-sst-files-size")));
        // The managed heap's garbage collector: what the commands allocate, how often it collects, and how long it
        // has held every thread still in all (a latency that no command's own time shows).
        yield return ("talus_gc_allocated_bytes", N(GC.GetTotalAllocatedBytes(false)));
        yield return ("talus_gc_gen0_collections", N(GC.CollectionCount(0)));
        yield return ("talus_gc_gen1_collections", N(GC.CollectionCount(1)));
        yield return ("talus_gc_gen2_collections", N(GC.CollectionCount(2)));
        yield return ("talus_gc_pause_total_ms", N((long)GC.GetTotalPauseDuration().TotalMilliseconds));
    }

    private static string Human(long bytes) => bytes switch
    {
        < 1024 => $"{bytes}B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.00", CultureInfo.InvariantCulture) + "K",
        < 1024L * 1024 * 1024 => (bytes / 1024.0 / 1024).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        _ => (bytes / 1024.0 / 1024 / 1024).ToString("0.00", CultureInfo.InvariantCulture) + "G",
    };

    private static IEnumerable<(string, string)> PersistenceFields(ServerContext server)
    {
        yield return ("loading", "0");
        yield return ("async_loading", "0");
        yield return ("rdb_changes_since_last_save", "0");
        yield return ("rdb_bgsave_in_progress", "0");
        yield return ("rdb_last_save_time", N(server.LastSaveUnix));
        yield return ("rdb_last_bgsave_status", server.LastBgsaveStatus);
        yield return ("aof_enabled", "1");
        yield return ("aof_rewrite_in_progress", "0");
        var engine = server.Dataset.Engine;
        yield return ("aof_last_write_status", engine.LastWriteFailure is null ? "ok" : "err");
        yield return ("talus_appendfsync", server.Options.AppendFsync.ToString().ToLowerInvariant());
        yield return ("talus_write_errors", N(engine.WriteFailures));
        yield return ("talus_last_write_error", engine.LastWriteFailure ?? "");
        yield return ("talus_binlog_offset", N((long)server.Dataset.Engine.LatestSequence));
        var commits = server.Dataset.Commits;
        yield return ("talus_commit_queue_length", N(commits.Pending));
        yield return ("talus_commit_queue_groups", N(commits.Written));
        yield return ("talus_commit_queue_batches", N(commits.Batches));
        var compaction = server.Dataset.Engine.Compaction;
        yield return ("talus_compaction_in_progress", compaction.Running ? "1" : "0");
        yield return ("talus_compaction_step", compaction.Step);
        yield return ("talus_compaction_seconds", N(compaction.RunningSeconds));
        yield return ("talus_compactions", N(compaction.Completed));
        yield return ("talus_last_compaction_status", compaction.LastStatus);
        yield return ("talus_last_compaction_seconds", compaction.LastSeconds.ToString("0.###", CultureInfo.InvariantCulture));
    }

    private static IEnumerable<(string, string)> StatsFields(ServerContext server)
    {
        var s = server.Stats;
        yield return ("total_connections_received", N(Interlocked.Read(ref s.ConnectionsReceived)));
        yield return ("total_commands_processed", N(Interlocked.Read(ref s.CommandsProcessed)));
        yield return ("instantaneous_ops_per_sec", N((long)s.InstantaneousOps));
        yield return ("total_net_input_bytes", N(Interlocked.Read(ref s.NetInputBytes)));
        yield return ("total_net_output_bytes", N(Interlocked.Read(ref s.NetOutputBytes)));
        yield return ("rejected_connections", N(Interlocked.Read(ref s.RejectedConnections)));
        var master = server.ReplicationManager?.Master;
        yield return ("sync_full", N(master is null ? 0 : Interlocked.Read(ref master.SyncFull)));
        yield return ("sync_partial_ok", N(master is null ? 0 : Interlocked.Read(ref master.SyncPartialOk)));
        yield return ("sync_partial_err", N(master is null ? 0 : Interlocked.Read(ref master.SyncPartialErr)));
        yield return ("expired_keys", N(server.ExpiredKeys()));
        yield return ("evicted_keys", "0");
        yield return ("keyspace_hits", N(Interlocked.Read(ref s.KeyspaceHits)));
        yield return ("keyspace_misses", N(Interlocked.Read(ref s.KeyspaceMisses)));
        yield return ("pubsub_channels", N(server.PubSub.ChannelCount));
        yield return ("pubsub_patterns", N(server.PubSub.PatternCount));
        yield return ("pubsubshard_channels", N(server.ShardPubSub.ChannelCount));
        yield return ("total_error_replies", N(Interlocked.Read(ref s.ErrorReplies)));
        // Redis 7.2's name; 7.0 does not count these disconnections.
        yield return ("client_output_buffer_limit_disconnections", N(Interlocked.Read(ref s.OutputBufferLimitDisconnections)));
        // How often a pipelined read-modify-write command found its key held by another thread (a hot key).
        yield return ("talus_key_waits", N(Interlocked.Read(ref s.KeyWaits)));
        // Point reads of a key's record answered by the key cache, and those it sent on to RocksDB.
        var keyCache = server.Dataset.Engine.KeyCache;
        yield return ("talus_key_cache_hits", N(keyCache?.Hits ?? 0));
        yield return ("talus_key_cache_misses", N(keyCache?.Misses ?? 0));
        // The same for point reads of a member, a field or an element (the sub-key cache).
        var subKeyCache = server.Dataset.Engine.SubKeyCache;
        yield return ("talus_subkey_cache_hits", N(subKeyCache?.Hits ?? 0));
        yield return ("talus_subkey_cache_misses", N(subKeyCache?.Misses ?? 0));
        // LRANGE reads answered by the list cache, and those read from RocksDB.
        var listCache = server.Dataset.Engine.ListCache;
        yield return ("talus_list_cache_hits", N(listCache?.Hits ?? 0));
        yield return ("talus_list_cache_misses", N(listCache?.Misses ?? 0));
    }

    private static IEnumerable<(string, string)> CpuFields()
    {
        using var process = Process.GetCurrentProcess();
        yield return ("used_cpu_sys", process.PrivilegedProcessorTime.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture));
        yield return ("used_cpu_user", process.UserProcessorTime.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture));
    }

    private static IEnumerable<(string, string)> KeyspaceFields(ServerContext server)
    {
        if (server.KeyspaceStats.Read() is not { } counts)
        {
            yield break;
        }
        for (var i = 0; i < counts.Keys.Length; i++)
        {
            if (counts.Keys[i] > 0)
            {
                yield return ($"db{i}", $"keys={counts.Keys[i]},expires={counts.Expires[i]},avg_ttl=0");
            }
        }
    }
}
