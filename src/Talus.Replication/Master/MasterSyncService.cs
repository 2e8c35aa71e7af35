using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Talus.Replication.Binlog;
using Talus.Replication.DbSync;
using Talus.Storage.Engine;

namespace Talus.Replication.Master;

/// <summary>The master's answer to a TrySync: continue from an offset, or a full sync and why.</summary>
public readonly record struct TrySyncDecision(bool Continue, ulong From, string ReplId, string Reason);

/// <summary>What a replica polling for its full sync is told.</summary>
public readonly record struct DbSyncStatus(int QueuePosition, bool Making, string? SnapshotId, string? Error);

/// <summary>
/// The master side of replication. A replica's session runs in this order:
/// <list type="number">
/// <item>MetaSync (rule 9): databases and storage format must match; the replica must not be this node
/// nor any node this one replicates from (no cycle).</item>
/// <item>TrySync (rule 2): continue only when the replica's history is this node's (or the previous one
/// before the switch offset) and the binlog still holds the next offset; anything else is a full sync.</item>
/// <item>DbSync (rules 3, 4, 6, 11): wait for a slot and a shared snapshot, fetch its manifest and files
/// chunk by chunk (throttled), then TrySync again from the snapshot's lineage.</item>
/// <item>BinlogSync (rules 5, 7): stream whole batches in offset order; the replica acknowledges; the
/// snapshot (and its binlog pin) is released once the replica's acknowledged offset passes it.</item>
/// </list>
/// </summary>
public sealed class MasterSyncService : IDisposable
{
    private readonly Func<StorageEngine> _engine;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ReplicaLink> _links = new();

    public MasterSyncService(Func<StorageEngine> engine, SnapshotManager snapshots, FullSyncScheduler scheduler, BinlogPins pins, ILogger logger)
    {
        _engine = engine;
        Snapshots = snapshots;
        Scheduler = scheduler;
        Pins = pins;
        _logger = logger;
    }

    public SnapshotManager Snapshots { get; }

    public FullSyncScheduler Scheduler { get; }

    public BinlogPins Pins { get; }

    /// <summary>This node's run id and the run ids of the masters above it (cycle check).</summary>
    public required Func<(string RunId, IReadOnlyList<string> Upstream)> Identity { get; init; }

    public long SyncFull;
    public long SyncPartialOk;
    public long SyncPartialErr;

    public IReadOnlyList<ReplicaLink> Links => _links.Values.OrderBy(l => l.RunId, StringComparer.Ordinal).ToList();

    public ReplicaLink? Find(string runId) => _links.TryGetValue(runId, out var link) ? link : null;

    /// <summary>MetaSync: returns an error text, or null and registers the link.</summary>
    public string? MetaSync(string replicaRunId, int databases, int formatVersion, string ip, int listeningPort, int localDatabases)
    {
        var (runId, upstream) = Identity();
        if (replicaRunId == runId)
        {
            return "ERR MetaSync refused: the replica is this node itself";
        }
        if (upstream.Contains(replicaRunId))
        {
            return "ERR MetaSync refused: replication cycle (the replica is upstream of this master)";
        }
        if (databases != localDatabases)
        {
            return $"ERR MetaSync refused: incompatible databases (master {localDatabases}, replica {databases})";
        }
        if (formatVersion != StorageFormat.Version)
        {
            return $"ERR MetaSync refused: incompatible storage format (master {StorageFormat.Version}, replica {formatVersion})";
        }
        var link = new ReplicaLink(replicaRunId, ip, listeningPort);
        if (_links.TryRemove(replicaRunId, out var previous))
        {
            Forget(previous, "replaced by a new handshake");
        }
        _links[replicaRunId] = link;
        _logger.LogInformation("Replica {Ip}:{Port} ({RunId}) MetaSync ok", ip, listeningPort, replicaRunId);
        return null;
    }

    /// <summary>The partial-or-full decision of rule 2.</summary>
    public TrySyncDecision TrySync(string replicaRunId, string replId, ulong offset)
    {
        var engine = _engine();
        var mine = LineageStore.Read(engine);
        var reason = RefusalToContinue(engine, mine, replId, offset);
        var hadLineage = replId.Length > 0 && replId != "?";
        if (reason.Length == 0)
        {
            // Continuing right after this replica's own full sync is the end of that full sync, not a partial sync.
            var afterFullSync = Find(replicaRunId)?.Snapshot is { } held && held.Manifest.Lineage.Offset == offset;
            if (!afterFullSync)
            {
                Interlocked.Increment(ref SyncPartialOk);
            }
            _logger.LogInformation("Replica {RunId} TrySync accepted: continue from offset {From} of {ReplId}", replicaRunId, offset + 1, mine.ReplId);
            return new TrySyncDecision(true, offset + 1, mine.ReplId, "");
        }
        if (hadLineage)
        {
            Interlocked.Increment(ref SyncPartialErr);
        }
        Interlocked.Increment(ref SyncFull);
        _logger.LogInformation("Replica {RunId} TrySync refused, full sync: {Reason}", replicaRunId, reason);
        return new TrySyncDecision(false, 0, mine.ReplId, reason);
    }

    /// <summary>
    /// Why this node cannot stream its binlog to a dataset at (<paramref name="replId"/>, <paramref name="offset"/>),
    /// or "" when it can: the dataset is a prefix of this node's current history, or of the one before it up to
    /// the switch, and the binlog still holds the next offset (rule 2). TrySync decides with it, and a snapshot is
    /// served only while it holds (<see cref="SnapshotManager"/>). <paramref name="mine"/> is the node's lineage.
    /// </summary>
    internal static string RefusalToContinue(StorageEngine engine, Lineage mine, string replId, ulong offset)
    {
        var previous = LineageStore.ReadPrevious(engine);
        if (replId.Length == 0 || replId == "?")
        {
            return "the replica's dataset has no lineage";
        }
        if (replId == mine.ReplId)
        {
            return offset > mine.Offset ? $"the replica's offset {offset} is ahead of the master's {mine.Offset}"
                : !BinlogTail.Holds(engine, offset + 1) ? $"offset {offset + 1} is not in the binlog where whole commands start (purged, or inside a batch)"
                : "";
        }
        if (previous is { } p && replId == p.ReplId2)
        {
            return offset > p.SwitchOffset ? $"the replica went past the switch offset {p.SwitchOffset} of the previous history"
                : !BinlogTail.Holds(engine, offset + 1) ? $"offset {offset + 1} is not in the binlog where whole commands start (purged, or inside a batch)"
                : "";
        }
        return $"different history ({replId} is not {mine.ReplId})";
    }

    /// <summary>Polled by a replica that needs a full sync: queue position, snapshot being made, or ready.</summary>
    public DbSyncStatus DbSyncBegin(string replicaRunId)
    {
        if (Find(replicaRunId) is not { } link)
        {
            return new DbSyncStatus(-1, false, null, "ERR DbSync without MetaSync");
        }
        var position = Scheduler.Request(replicaRunId);
        if (position > 0)
        {
            link.State = ReplicaLinkState.WaitBgsave;
            return new DbSyncStatus(position, false, null, null);
        }
        if (link.Snapshot is { Deleted: false } held)
        {
            link.State = ReplicaLinkState.SendBulk;
            return new DbSyncStatus(0, false, held.Id, null);
        }
        link.State = ReplicaLinkState.WaitBgsave;
        link.PendingSnapshot ??= Snapshots.AcquireAsync(CancellationToken.None);
        if (!link.PendingSnapshot.IsCompleted)
        {
            return new DbSyncStatus(0, true, null, null);
        }
        var pending = link.PendingSnapshot;
        link.PendingSnapshot = null;
        if (!pending.IsCompletedSuccessfully)
        {
            Scheduler.Finish(replicaRunId);
            return new DbSyncStatus(-1, false, null, "ERR snapshot failed: " + pending.Exception?.GetBaseException().Message);
        }
        if (link.Snapshot is { } old && old != pending.Result)
        {
            Snapshots.Release(old);
        }
        link.Snapshot = pending.Result;
        link.State = ReplicaLinkState.SendBulk;
        _logger.LogInformation("Replica {RunId} DbSync from snapshot {Id} ({Bytes} bytes)", replicaRunId, link.Snapshot.Id, link.Snapshot.Manifest.TotalBytes);
        return new DbSyncStatus(0, false, link.Snapshot.Id, null);
    }

    /// <summary>The snapshot the replica's session holds, if <paramref name="snapshotId"/> names it (rule 11).</summary>
    public Snapshot? HeldSnapshot(string replicaRunId, string snapshotId) =>
        Find(replicaRunId)?.Snapshot is { Deleted: false } s && s.Id == snapshotId ? s : null;

    /// <summary>Reads one chunk of a snapshot file for the replica, under the shared rate limit.</summary>
    public async Task<byte[]?> ReadChunkAsync(string replicaRunId, string snapshotId, string name, long offset, int maxBytes, CancellationToken token)
    {
        var snapshot = HeldSnapshot(replicaRunId, snapshotId);
        var path = snapshot?.PathOf(name);
        if (path is null || offset < 0)
        {
            return null;
        }
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        if (offset > stream.Length)
        {
            return null;
        }
        stream.Position = offset;
        var length = (int)Math.Min(maxBytes, stream.Length - offset);
        await Scheduler.ThrottleAsync(length, token).ConfigureAwait(false);
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, token).ConfigureAwait(false);
        return buffer;
    }

    /// <summary>The replica finished (or abandoned) its transfer: its slot goes to the next in the queue.</summary>
    public void DbSyncEnd(string replicaRunId)
    {
        Scheduler.Finish(replicaRunId);
        _logger.LogInformation("Replica {RunId} DbSync transfer finished; slot released", replicaRunId);
    }

    /// <summary>
    /// Streams the binlog from <paramref name="from"/> to the replica until cancelled or the connection fails.
    /// <paramref name="send"/> writes one chunk; <paramref name="ping"/> keeps an idle link alive.
    /// </summary>
    public async Task StreamAsync(string replicaRunId, ulong from, Func<BinlogChunk, ValueTask> send, Func<ulong, ValueTask> ping, CancellationToken connectionClosed)
    {
        if (Find(replicaRunId) is not { } link)
        {
            return;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(connectionClosed, link.Streaming.Token);
        var token = cts.Token;
        link.State = ReplicaLinkState.Online;
        link.AckOffset = Math.Max(link.AckOffset, from - 1);
        _logger.LogInformation("Replica {RunId} BinlogSync streaming from offset {From}", replicaRunId, from);
        var engine = _engine();
        using var tail = new BinlogTail(engine, from);
        var lastSend = Environment.TickCount64;
        try
        {
            while (!token.IsCancellationRequested)
            {
                // Taken before looking for data: a write in between has already completed it.
                var written = engine.WrittenAsync();
                var chunk = tail.TryRead();
                if (chunk is { } c)
                {
                    await send(c).ConfigureAwait(false);
                    lastSend = Environment.TickCount64;
                    continue;
                }
                if (Environment.TickCount64 - lastSend >= 1000)
                {
                    await ping(engine.LatestSequence).ConfigureAwait(false);
                    lastSend = Environment.TickCount64;
                }
                try
                {
                    await written.WaitAsync(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // idle: loop to ping
                }
            }
        }
        catch (BinlogGapException ex)
        {
            _logger.LogWarning("Replica {RunId} BinlogSync ended: {Reason}", replicaRunId, ex.Message);
        }
        catch (OperationCanceledException)
        {
            _logger.LogInformation("Replica {RunId} BinlogSync stream closed", replicaRunId);
        }
        finally
        {
            if (link.State == ReplicaLinkState.Online)
            {
                link.State = ReplicaLinkState.MetaSynced;
            }
        }
    }

    /// <summary>REPLCONF ACK: records the replica's applied offset; releases its snapshot once past it (rule 5).</summary>
    public void Ack(string replicaRunId, ulong offset)
    {
        if (Find(replicaRunId) is not { } link)
        {
            return;
        }
        link.AckOffset = Math.Max(link.AckOffset, offset);
        link.LastAck = Environment.TickCount64;
        if (link.Snapshot is { } s && link.State == ReplicaLinkState.Online && offset >= s.Manifest.Lineage.Offset)
        {
            link.Snapshot = null;
            Snapshots.Release(s);
            _logger.LogInformation("Replica {RunId} streamed past snapshot {Id} (offset {Offset}); snapshot released", replicaRunId, s.Id, offset);
        }
    }

    /// <summary>Number of replicas whose acknowledged offset is at least <paramref name="offset"/> (WAIT).</summary>
    public int CountAcked(ulong offset) => _links.Values.Count(l => l.State == ReplicaLinkState.Online && l.AckOffset >= offset);

    /// <summary>The replica's control connection closed: forget it, free its slot, release its snapshot.</summary>
    public void ReplicaGone(ReplicaLink link)
    {
        // Only the link this connection belonged to: a newer handshake of the same replica stays.
        if (_links.TryRemove(new KeyValuePair<string, ReplicaLink>(link.RunId, link)))
        {
            Forget(link, "connection closed");
        }
    }

    private void Forget(ReplicaLink link, string why)
    {
        link.Streaming.Cancel();
        Scheduler.Finish(link.RunId);
        if (link.Snapshot is { } s)
        {
            link.Snapshot = null;
            Snapshots.Release(s);
        }
        if (link.PendingSnapshot is { } pending)
        {
            link.PendingSnapshot = null;
            pending.ContinueWith(t => Snapshots.Release(t.Result), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
        _logger.LogInformation("Replica {Ip}:{Port} ({RunId}) gone: {Why}", link.Ip, link.ListeningPort, link.RunId, why);
    }

    /// <summary>Drops every replica (this node stops being a master, or shuts down).</summary>
    public void DropAll(string why)
    {
        foreach (var id in _links.Keys.ToList())
        {
            if (_links.TryRemove(id, out var link))
            {
                Forget(link, why);
            }
        }
    }

    public void Dispose() => DropAll("shutdown");
}
