using Microsoft.Extensions.Logging;
using Talus.Replication.Binlog;
using Talus.Replication.DbSync;
using Talus.Storage.Engine;

namespace Talus.Replication.Master;

/// <summary>
/// Makes, shares and retires the snapshots full syncs are served from (rule 4).
/// Replicas that ask while a usable snapshot exists share it; replicas that ask while one is being made wait
/// for that one; a new one is made only when none is usable, always in a new directory, never over one in
/// use. A snapshot is usable while it is not superseded and either has readers or was made within the
/// reuse window, and only while this node can still continue its lineage (a node whose history moved on since,
/// by a promotion or by following another master, makes a new one). It is deleted when it has no readers and is superseded or past the window, which also
/// releases its binlog pin.
/// </summary>
public sealed class SnapshotManager : IDisposable
{
    private readonly Func<StorageEngine> _engine;
    private readonly BinlogPins _pins;
    private readonly ILogger _logger;
    private readonly string _root;
    private readonly Lock _lock = new();
    private readonly List<Snapshot> _snapshots = [];
    private readonly Timer _sweeper;
    private Task<Snapshot>? _making;

    // Replicas waiting for the snapshot being made. Make() takes their references in the same lock in which it
    // publishes the snapshot, so no sweep can retire it between its creation and its first readers.
    private readonly List<Waiter> _waiters = [];
    private long _sequence;

    public SnapshotManager(Func<StorageEngine> engine, string root, BinlogPins pins, ILogger logger)
    {
        _engine = engine;
        _root = root;
        _pins = pins;
        _logger = logger;
        // Leftovers of a previous process are never served: their pins and readers died with it.
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        Directory.CreateDirectory(root);
        _sweeper = new Timer(_ => Sweep(), null, 1000, 1000);
    }

    /// <summary>How long an unread snapshot stays usable for late arrivals.</summary>
    public Func<TimeSpan> ReuseWindowSource { get; set; } = () => TimeSpan.FromSeconds(60);

    private TimeSpan ReuseWindow => ReuseWindowSource();

    /// <summary>Testing only: a pause between the checkpoint and publishing the snapshot (repl-snapshot-delay-ms).</summary>
    public Func<TimeSpan> DelaySource { get; set; } = () => TimeSpan.Zero;

    /// <summary>How many snapshots were made by this process (the scale-out tests count them).</summary>
    public long Created => Interlocked.Read(ref _sequence);

    /// <summary>True while a snapshot is being made (a replica asking now waits; that is a state, not an error).</summary>
    public bool Making
    {
        get
        {
            lock (_lock)
            {
                return _making is { IsCompleted: false };
            }
        }
    }

    public IReadOnlyList<Snapshot> Alive
    {
        get
        {
            lock (_lock)
            {
                return _snapshots.Where(s => !s.Deleted).ToList();
            }
        }
    }

    /// <summary>Hands out a usable snapshot with a reader reference taken (release with <see cref="Release"/>).</summary>
    public async Task<Snapshot> AcquireAsync(CancellationToken token)
    {
        Task<Snapshot> making;
        Waiter waiter;
        lock (_lock)
        {
            var usable = _snapshots.LastOrDefault(IsUsable);
            if (usable is not null && RefusalToContinue(usable) is { Length: > 0 } refusal)
            {
                // Made before this node's history moved on (a promotion, or a new master it followed): a replica
                // that loads it could never continue from it, and would come back for the same files forever.
                usable.Superseded = true;
                _logger.LogInformation("Snapshot {Id} superseded: lineage {Lineage} can no longer be continued here ({Reason})",
                    usable.Id, usable.Manifest.Lineage, refusal);
                usable = null;
            }
            if (usable is not null)
            {
                usable.AddReader();
                _logger.LogInformation("Snapshot {Id} reused ({Readers} reader(s))", usable.Id, usable.Readers);
                return usable;
            }
            making = _making is { IsCompleted: false } ? _making : (_making = Task.Run(Make, CancellationToken.None));
            waiter = new Waiter();
            _waiters.Add(waiter);
        }
        try
        {
            await making.WaitAsync(token).ConfigureAwait(false);
        }
        catch
        {
            Snapshot? granted;
            lock (_lock)
            {
                _waiters.Remove(waiter);
                granted = waiter.Granted;
            }
            if (granted is not null)
            {
                Release(granted); // made after all, but this replica no longer wants it
            }
            throw;
        }
        return waiter.Granted ?? throw new InvalidOperationException("the snapshot was made without this replica's reference");
    }

    /// <summary>One replica waiting for the snapshot being made; Make() sets the snapshot with its reference taken.</summary>
    private sealed class Waiter
    {
        public Snapshot? Granted;
    }

    public void Release(Snapshot snapshot)
    {
        lock (_lock)
        {
            snapshot.LastReleased = DateTime.UtcNow;
            if (snapshot.RemoveReader() <= 0)
            {
                _logger.LogInformation("Snapshot {Id} has no readers", snapshot.Id);
            }
        }
        Sweep();
    }

    private string RefusalToContinue(Snapshot s)
    {
        var engine = _engine();
        return MasterSyncService.RefusalToContinue(engine, LineageStore.Read(engine), s.Manifest.Lineage.ReplId, s.Manifest.Lineage.Offset);
    }

    private bool IsUsable(Snapshot s) =>
        !s.Deleted && !s.Superseded && (s.Readers > 0 || DateTime.UtcNow - s.LastReleased < ReuseWindow);

    private Snapshot Make()
    {
        var engine = _engine();
        var id = $"{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Interlocked.Increment(ref _sequence)}";
        var directory = Path.Combine(_root, id);
        // Pin before the checkpoint: every offset after the snapshot's is then kept (rule 5).
        var pin = _pins.Acquire(engine, engine.LatestSequence, "snapshot " + id);
        try
        {
            _logger.LogInformation("Snapshot {Id} being made in {Directory}", id, directory);
            engine.Checkpoint(directory);
            if (DelaySource() is { Ticks: > 0 } delay)
            {
                Thread.Sleep(delay); // testing only: lets a test see replicas arrive while the snapshot is being made
            }
            Lineage lineage;
            using (var copy = ReadOnlyDataset.Open(directory))
            {
                lineage = LineageStore.Read(copy);
            }
            if (lineage.IsNone)
            {
                throw new InvalidOperationException("the master's dataset has no lineage; refusing to serve it");
            }
            var files = Directory.GetFiles(directory)
                .Select(path => new SnapshotFile(Path.GetFileName(path), new FileInfo(path).Length, SnapshotManifest.ChecksumOf(path)))
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .ToList();
            var manifest = new SnapshotManifest { SnapshotId = id, Lineage = lineage, Files = files };
            var snapshot = new Snapshot(id, directory, manifest, pin);
            lock (_lock)
            {
                foreach (var older in _snapshots)
                {
                    older.Superseded = true;
                }
                _snapshots.Add(snapshot);
                foreach (var waiter in _waiters)
                {
                    snapshot.AddReader();
                    waiter.Granted = snapshot;
                }
                _waiters.Clear();
            }
            _logger.LogInformation("Snapshot {Id} ready: lineage {Lineage}, {Files} files, {Bytes} bytes", id, lineage, files.Count, manifest.TotalBytes);
            Sweep();
            return snapshot;
        }
        catch (Exception ex)
        {
            pin.Dispose();
            _logger.LogError(ex, "Snapshot {Id} failed", id);
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>Deletes snapshots that are unreferenced and superseded or past the reuse window.</summary>
    public void Sweep()
    {
        List<Snapshot> retire;
        lock (_lock)
        {
            retire = _snapshots.Where(s => !s.Deleted && s.Readers <= 0 && (s.Superseded || DateTime.UtcNow - s.LastReleased >= ReuseWindow)).ToList();
            foreach (var s in retire)
            {
                s.Deleted = true;
                _snapshots.Remove(s);
            }
        }
        foreach (var s in retire)
        {
            s.Pin.Dispose();
            TryDelete(s.Directory);
            _logger.LogInformation("Snapshot {Id} deleted (superseded={Superseded})", s.Id, s.Superseded);
        }
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException ex)
        {
            _logger.LogWarning(ex, "Could not delete {Directory}", directory);
        }
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        lock (_lock)
        {
            foreach (var s in _snapshots)
            {
                s.Deleted = true;
                s.Pin.Dispose();
            }
            _snapshots.Clear();
        }
    }
}
