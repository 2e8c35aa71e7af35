using System.Globalization;
using Microsoft.Extensions.Logging;
using Talus.Replication.Binlog;
using Talus.Replication.Master;
using Talus.Replication.Replica;
using Talus.Storage;
using Talus.Storage.Engine;

namespace Talus.Replication;

/// <summary>Host-provided settings and callbacks the replication layer reads live.</summary>
public sealed class ReplicationHost
{
    public required Dataset Dataset { get; init; }

    public required string DataDir { get; init; }

    public required string RunId { get; init; }

    public required int ListeningPort { get; init; }

    public required Func<string?> MasterAuth { get; init; }

    /// <summary>masteruser (null or empty: AUTH with the password alone).</summary>
    public Func<string?> MasterUser { get; init; } = () => null;

    public required Func<int> ReplicaPriority { get; init; }

    /// <summary>replica-announce-ip (null or empty: the master uses the connection's source address).</summary>
    public Func<string?> AnnounceIp { get; init; } = () => null;

    /// <summary>replica-announce-port (0: <see cref="ListeningPort"/>).</summary>
    public Func<int> AnnouncePort { get; init; } = () => 0;

    /// <summary>replica-announced: INFO replica_announced.</summary>
    public Func<bool> Announced { get; init; } = () => true;

    public required Func<TimeSpan> ReplTimeout { get; init; }

    public required Func<int> MaxFullSyncParallel { get; init; }

    public required Func<long> FullSyncBytesPerSecond { get; init; }

    public required Func<int> FullSyncChunkSize { get; init; }

    public required Func<TimeSpan> SnapshotReuseWindow { get; init; }

    /// <summary>Testing only (<c>repl-swap-delay-ms</c>): how long a replica sleeps inside the dataset swap.</summary>
    public Func<TimeSpan> SwapDelay { get; init; } = () => TimeSpan.Zero;

    /// <summary>Testing only (<c>repl-snapshot-delay-ms</c>): how long the master waits before publishing a new snapshot.</summary>
    public Func<TimeSpan> SnapshotDelay { get; init; } = () => TimeSpan.Zero;

    /// <summary>Runs an action with no command executing (closes and reopens the dataset inside).</summary>
    public required Func<Action, Task> RunExclusiveAsync { get; init; }

    /// <summary>Turns active expiry on (master) or off (replica: expiry is the master's decision).</summary>
    public required Action<bool> SetActiveExpiry { get; init; }

    /// <summary>Opens the live dataset directory as a new engine (after a full sync's swap).</summary>
    public required Func<StorageEngine> OpenEngine { get; init; }

    /// <summary>A replica wrote one of its master's chunks (a WriteBatch representation): the keys in it changed (WATCH).</summary>
    public Action<byte[]> BatchApplied { get; init; } = _ => { };

    /// <summary>Runs an action holding the execution gate shared, as a command does (a replica's apply and its WATCH touch).</summary>
    public Action<Action> RunShared { get; init; } = action => action();

    /// <summary>A full sync replaced the whole dataset: every key may have changed.</summary>
    public Action DatasetReplaced { get; init; } = () => { };
}

/// <summary>
/// The node's replication role and everything behind INFO replication and ROLE. A master owns the
/// <see cref="MasterSyncService"/>; a replica runs one <see cref="ReplicaWorker"/>. Role changes
/// (REPLICAOF host port, REPLICAOF NO ONE) are serialised.
/// </summary>
public sealed class ReplicationManager : IAsyncDisposable
{
    private readonly ReplicationHost _host;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _roleGate = new(1, 1);
    private ReplicaWorker? _worker;

    public ReplicationManager(ReplicationHost host, ILoggerFactory loggers)
    {
        _host = host;
        _loggers = loggers;
        _logger = loggers.CreateLogger("Talus.Replication");
        Directories = new DatasetDirectories(host.DataDir);
        Pins = new BinlogPins(loggers.CreateLogger("Talus.Replication.Binlog"));
        var snapshots = new SnapshotManager(() => host.Dataset.Engine, Path.Combine(host.DataDir, "sync-snapshots"), Pins, loggers.CreateLogger("Talus.Replication.Snapshots"))
        {
            ReuseWindowSource = host.SnapshotReuseWindow,
            DelaySource = host.SnapshotDelay,
        };
        var scheduler = new FullSyncScheduler(host.MaxFullSyncParallel, host.FullSyncBytesPerSecond);
        Master = new MasterSyncService(() => host.Dataset.Engine, snapshots, scheduler, Pins, loggers.CreateLogger("Talus.Replication.Master"))
        {
            Identity = () => (host.RunId, _worker?.Upstream ?? []),
        };
    }

    public ReplicationRole Role => _worker is null ? ReplicationRole.Master : ReplicationRole.Replica;

    /// <summary>Raised after the role changed (the log's role letter follows it).</summary>
    public event Action<ReplicationRole>? RoleChanged;

    public MasterSyncService Master { get; }

    public BinlogPins Pins { get; }

    public DatasetDirectories Directories { get; }

    public ReplicaWorker? Worker => _worker;

    /// <summary>
    /// Starts as a master: a dataset without lineage begins a new history (it has nothing to continue). After a
    /// run the machine went down under (<paramref name="machineRestart"/>, see <see cref="RunMarker"/>) the
    /// history moves on as in a promotion, before any write: a replica at or before the recovered offset
    /// continues, one past it (holding entries this node lost) gets a full sync.
    /// </summary>
    public void StartAsMaster(string? machineRestart = null)
    {
        var lineage = LineageStore.Read(_host.Dataset.Engine);
        if (lineage.IsNone)
        {
            lineage = LineageStore.StartNewHistory(_host.Dataset.Engine);
            _logger.LogInformation("Replication: new history {ReplId} at offset {Offset}", lineage.ReplId, lineage.Offset);
        }
        else if (machineRestart is not null)
        {
            var before = lineage;
            lineage = LineageStore.Promote(_host.Dataset.Engine);
            _logger.LogWarning("Replication: {Reason}; the log's last entries may be lost, so history {Old} continues as {New} (a replica past offset {Offset} gets a full sync)",
                machineRestart, before, lineage, before.Offset);
        }
        _host.SetActiveExpiry(true);
        _logger.LogInformation("Replication role master, lineage {Lineage}", lineage);
    }

    /// <summary>REPLICAOF host port: stop serving replicas, stop expiring keys, start the link.</summary>
    public async Task ReplicaOfAsync(string host, int port)
    {
        await _roleGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_worker is { } old && old.MasterHost == host && old.MasterPort == port)
            {
                return;
            }
            await StopWorkerAsync().ConfigureAwait(false);
            Master.DropAll("this node became a replica");
            _host.SetActiveExpiry(false);
            var worker = new ReplicaWorker(new ReplicaSettings
            {
                MasterHost = host,
                MasterPort = port,
                MasterAuth = _host.MasterAuth,
                MasterUser = _host.MasterUser,
                RunId = _host.RunId,
                ListeningPort = _host.ListeningPort,
                AnnounceIp = _host.AnnounceIp,
                AnnouncePort = _host.AnnouncePort,
                Databases = _host.Dataset.DatabaseCount,
                ReplTimeout = _host.ReplTimeout,
                Engine = () => _host.Dataset.Engine,
                Directories = Directories,
                SwapDatasetAsync = SwapAsync,
                SwapDelay = _host.SwapDelay,
                BatchApplied = _host.BatchApplied,
                RunShared = _host.RunShared,
            }, _loggers.CreateLogger("Talus.Replication.Replica"));
            _worker = worker;
            _logger.LogInformation("Replication role replica of {Host}:{Port}", host, port);
            RoleChanged?.Invoke(ReplicationRole.Replica);
            // Writes are refused from here on. SETs queued for the committer before the switch are written before
            // the link starts, so the offset it reports to the new master already holds them.
            _host.Dataset.Commits.Drain();
            worker.Start();
        }
        finally
        {
            _roleGate.Release();
        }
    }

    /// <summary>REPLICAOF NO ONE: stop the link and become a master with a new history that remembers the old one (rule 8).</summary>
    public async Task PromoteAsync()
    {
        await _roleGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_worker is null)
            {
                return;
            }
            await StopWorkerAsync().ConfigureAwait(false);
            var before = LineageStore.Read(_host.Dataset.Engine);
            var after = LineageStore.Promote(_host.Dataset.Engine);
            _host.SetActiveExpiry(true);
            RoleChanged?.Invoke(ReplicationRole.Master);
            _logger.LogInformation("Replication role master (promoted): history {Old} continues as {New}", before, after);
        }
        finally
        {
            _roleGate.Release();
        }
    }

    private async Task StopWorkerAsync()
    {
        if (_worker is { } worker)
        {
            _worker = null;
            await worker.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task SwapAsync(Action swapDirectories) => _host.RunExclusiveAsync(() =>
    {
        var dataset = _host.Dataset;
        var old = dataset.Engine;
        old.Dispose();
        swapDirectories();
        var fresh = _host.OpenEngine();
        fresh.ExpireInCompaction = false;
        dataset.ReplaceEngine(fresh);
        _host.DatasetReplaced();
        _logger.LogInformation("Dataset swapped in from the full sync: {Path}", fresh.Path);
    });

    /// <summary>True when the dataset carries a lineage (it is complete as of some master offset).</summary>
    public bool HasLineage => !LineageStore.Read(_host.Dataset.Engine).IsNone;

    /// <summary>Rule 10: link up only while streaming on a dataset with lineage.</summary>
    public bool LinkUp => _worker is { } w && w.Machine.State == ReplState.BinlogSync && HasLineage;

    /// <summary>INFO replication, Redis' field names first, then Talus' own.</summary>
    public IEnumerable<(string Field, string Value)> InfoFields()
    {
        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        var engine = _host.Dataset.Engine;
        var lineage = LineageStore.Read(engine);
        var previous = LineageStore.ReadPrevious(engine);
        var fields = new List<(string, string)>();
        // The backlog is the WAL the dataset still holds; its offsets count entries, as master_repl_offset does.
        var (firstHeld, walBytes) = engine.WalHeld();
        var latest = engine.LatestSequence;
        if (_worker is { } w)
        {
            var state = w.Machine.State;
            var progress = w.Progress;
            var syncing = state is ReplState.WaitDbSync or ReplState.DbSync or ReplState.DbSwap;
            fields.Add(("role", "slave"));
            fields.Add(("master_host", w.MasterHost));
            fields.Add(("master_port", N(w.MasterPort)));
            fields.Add(("master_link_status", LinkUp ? "up" : "down"));
            fields.Add(("master_last_io_seconds_ago", N((Environment.TickCount64 - progress.LastIoTicks) / 1000)));
            fields.Add(("master_sync_in_progress", syncing ? "1" : "0"));
            fields.Add(("slave_read_repl_offset", N((long)(lineage.IsNone ? 0 : lineage.Offset))));
            fields.Add(("slave_repl_offset", N((long)(lineage.IsNone ? 0 : lineage.Offset))));
            if (syncing)
            {
                var percent = progress.BytesTotal > 0 ? 100.0 * progress.BytesDone / progress.BytesTotal : 0;
                fields.Add(("master_sync_total_bytes", N(progress.BytesTotal)));
                fields.Add(("master_sync_read_bytes", N(progress.BytesDone)));
                fields.Add(("master_sync_left_bytes", N(progress.BytesTotal - progress.BytesDone)));
                fields.Add(("master_sync_perc", percent.ToString("0.00", CultureInfo.InvariantCulture)));
                fields.Add(("master_sync_last_io_seconds_ago", N((Environment.TickCount64 - progress.LastIoTicks) / 1000)));
            }
            if (!LinkUp)
            {
                // Sentinel skips replicas whose link has been down too long when it picks one to promote.
                fields.Add(("master_link_down_since_seconds", N((Environment.TickCount64 - w.LinkDownSince) / 1000)));
            }
            // Rule 8: a replica without lineage (never synced, or mid full sync) must never be promoted,
            // and Sentinel never picks a replica reporting priority 0.
            fields.Add(("slave_priority", lineage.IsNone ? "0" : N(_host.ReplicaPriority())));
            fields.Add(("slave_read_only", "1"));
            fields.Add(("replica_announced", _host.Announced() ? "1" : "0"));
        }
        else
        {
            fields.Add(("role", "master"));
        }
        var links = Master.Links;
        fields.Add(("connected_slaves", N(links.Count)));
        for (var i = 0; i < links.Count; i++)
        {
            var l = links[i];
            fields.Add(($"slave{i}", $"ip={l.Ip},port={l.ListeningPort},state={l.StateName},offset={l.AckOffset},lag={l.LagSeconds}"));
        }
        fields.Add(("master_failover_state", "no-failover"));
        fields.Add(("master_replid", lineage.IsNone ? new string('0', 40) : lineage.ReplId));
        fields.Add(("master_replid2", previous?.ReplId2 ?? new string('0', 40)));
        fields.Add(("master_repl_offset", N((long)latest)));
        fields.Add(("second_repl_offset", previous is { } p ? N((long)p.SwitchOffset + 1) : "-1"));
        fields.Add(("repl_backlog_active", "1"));
        fields.Add(("repl_backlog_size", N((long)engine.Options.WalSizeLimitMb * 1024 * 1024)));
        fields.Add(("repl_backlog_first_byte_offset", N((long)firstHeld)));
        fields.Add(("repl_backlog_histlen", N((long)(latest + 1 - Math.Min(firstHeld, latest + 1)))));
        fields.Add(("talus_dataset_lineage", lineage.IsNone ? "none" : lineage.ToString()));
        if (_worker is { } worker)
        {
            var p2 = worker.Progress;
            fields.Add(("talus_repl_state", worker.Machine.State.ToString()));
            fields.Add(("talus_repl_state_seconds", N((Environment.TickCount64 - worker.Machine.Since) / 1000)));
            fields.Add(("talus_repl_last_error", worker.Machine.LastError));
            fields.Add(("talus_sync_queue_position", N(p2.QueuePosition)));
            fields.Add(("talus_sync_waiting_for_snapshot", p2.WaitingForSnapshot ? "1" : "0"));
            fields.Add(("talus_sync_snapshot_id", p2.SnapshotId));
            fields.Add(("talus_sync_files_done", N(p2.FilesDone)));
            fields.Add(("talus_sync_files_total", N(p2.FilesTotal)));
            fields.Add(("talus_sync_bytes_done", N(p2.BytesDone)));
            fields.Add(("talus_sync_bytes_total", N(p2.BytesTotal)));
            fields.Add(("talus_sync_eta_seconds", N(p2.EtaSeconds)));
            fields.Add(("talus_full_syncs", N(p2.FullSyncs)));
            fields.Add(("talus_partial_syncs", N(p2.PartialSyncs)));
        }
        fields.Add(("talus_snapshots_alive", string.Join(';', Master.Snapshots.Alive.Select(s => $"{s.Id}:readers={s.Readers}"))));
        fields.Add(("talus_snapshots_made", N(Master.Snapshots.Created)));
        fields.Add(("talus_full_sync_running", string.Join(',', Master.Scheduler.Active)));
        fields.Add(("talus_full_sync_queued", string.Join(',', Master.Scheduler.Queued)));
        fields.Add(("talus_binlog_pins", N(Pins.Count)));
        fields.Add(("talus_binlog_bytes", N(walBytes)));
        return fields;
    }

    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync().ConfigureAwait(false);
        Master.Dispose();
        Master.Snapshots.Dispose();
    }
}
