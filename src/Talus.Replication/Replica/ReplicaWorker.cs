using System.Globalization;
using Microsoft.Extensions.Logging;
using Talus.Replication.Binlog;
using Talus.Storage.Engine;

namespace Talus.Replication.Replica;

/// <summary>Everything a replica needs from its host, as plain values and callbacks (no reference to the server).</summary>
public sealed class ReplicaSettings
{
    public required string MasterHost { get; init; }

    public required int MasterPort { get; init; }

    public required Func<string?> MasterAuth { get; init; }

    /// <summary>masteruser: sent with the password as AUTH user password; null sends AUTH password.</summary>
    public Func<string?> MasterUser { get; init; } = () => null;

    public required string RunId { get; init; }

    public required int ListeningPort { get; init; }

    /// <summary>replica-announce-ip: the address the master shows for this replica (null = the connection's source address); read at each handshake.</summary>
    public Func<string?> AnnounceIp { get; init; } = () => null;

    /// <summary>replica-announce-port: the port the master shows for this replica (0 = <see cref="ListeningPort"/>); read at each handshake.</summary>
    public Func<int> AnnouncePort { get; init; } = () => 0;

    public required int Databases { get; init; }

    public required Func<TimeSpan> ReplTimeout { get; init; }

    public required Func<StorageEngine> Engine { get; init; }

    public required DatasetDirectories Directories { get; init; }

    /// <summary>Closes the live dataset, runs the directory swap, and opens the new one, with no command running.</summary>
    public required Func<Action, Task> SwapDatasetAsync { get; init; }

    /// <summary>Called after each chunk is written, with its WriteBatch representation (WATCH learns the changed keys).</summary>
    public Action<byte[]> BatchApplied { get; init; } = _ => { };

    /// <summary>
    /// Runs a chunk's write and <see cref="BatchApplied"/> together holding the execution gate shared, so EXEC
    /// (which holds it exclusively) never runs between a write and the WATCH touch of its keys.
    /// </summary>
    public Action<Action> RunShared { get; init; } = action => action();

    /// <summary>
    /// Testing only, like Redis' <c>rdb-key-save-delay</c>: slept once after the swap marker is written and once
    /// between the two renames of the swap, so fault tests can kill -9 the replica inside the swap.
    /// </summary>
    public Func<TimeSpan> SwapDelay { get; init; } = () => TimeSpan.Zero;
}

/// <summary>
/// Drives one replica's link to its master through the states of <see cref="ReplState"/>:
/// Connect → MetaSync → TrySync → (WaitDbSync → DbSync → DbSwap → TrySync) → BinlogSync.
/// Any failure is one Error transition with its reason, then a back-off with jitter and a new Connect.
/// Two connections are used: the data connection carries the handshake, the transfer and then the binlog
/// stream; the control connection carries acknowledgements (and tells the master when the replica is gone).
/// </summary>
public sealed partial class ReplicaWorker : IAsyncDisposable
{
    private readonly ReplicaSettings _settings;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private MasterClient? _data;
    private MasterClient? _control;

    public ReplicaWorker(ReplicaSettings settings, ILogger logger)
    {
        _settings = settings;
        _logger = logger;
        Machine = new ReplStateMachine(logger);
    }

    public ReplStateMachine Machine { get; }

    public ReplicaProgress Progress { get; } = new();

    public string MasterHost => _settings.MasterHost;

    public int MasterPort => _settings.MasterPort;

    /// <summary>The master's run id and the chain above it, learnt in MetaSync (for this node's cycle check).</summary>
    public IReadOnlyList<string> Upstream { get; private set; } = [];

    /// <summary>Environment.TickCount64 when the link went down (INFO master_link_down_since_seconds).</summary>
    public long LinkDownSince { get; private set; } = Environment.TickCount64;

    /// <summary>How many consecutive failures the current back-off is based on.</summary>
    private int _failures;

    public void Start()
    {
        Machine.MoveTo(ReplState.Connect, $"replicating from {_settings.MasterHost}:{_settings.MasterPort}");
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await LinkOnceAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Expected failures (I/O, protocol, storage) and bugs alike end in Error and a retry: the loop
                // must never die silently and leave a stale state behind.
                if (ex is not (ReplicationException or IOException or System.Net.Sockets.SocketException or InvalidDataException
                    or OperationCanceledException or RocksDbSharp.RocksDbException or UnauthorizedAccessException or TimeoutException))
                {
                    _logger.LogError(ex, "Replication link failed unexpectedly");
                }
                _failures++;
                _settings.Directories.DiscardStaging();
                Progress.ResetTransfer();
                if (Machine.State is not ReplState.None and not ReplState.Error)
                {
                    Machine.MoveTo(ReplState.Error, WithStreamPosition(ex.Message));
                }
            }
            finally
            {
                await CloseConnectionsAsync().ConfigureAwait(false);
                LinkDownSince = Environment.TickCount64;
            }
            if (token.IsCancellationRequested)
            {
                break;
            }
            await BackOffAsync(token).ConfigureAwait(false);
            if (!token.IsCancellationRequested)
            {
                Machine.MoveTo(ReplState.Connect, $"retry #{_failures} to {_settings.MasterHost}:{_settings.MasterPort}");
            }
        }
    }

    /// <summary>Exponential back-off from 100 ms up to 5 s, with ±50 % jitter so replicas do not retry in step (rule 6).</summary>
    private async Task BackOffAsync(CancellationToken token)
    {
        var baseMs = Math.Min(5000, 100 * (1 << Math.Min(Math.Max(0, _failures - 1), 6)));
        var delay = baseMs * (0.5 + Random.Shared.NextDouble());
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(delay), token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task LinkOnceAsync(CancellationToken token)
    {
        var timeout = _settings.ReplTimeout();
        _data = await MasterClient.ConnectAsync(_settings.MasterHost, _settings.MasterPort, timeout, token).ConfigureAwait(false);
        _control = await MasterClient.ConnectAsync(_settings.MasterHost, _settings.MasterPort, timeout, token).ConfigureAwait(false);
        Machine.MoveTo(ReplState.MetaSync, "connected");
        await AuthenticateAsync(_data, token).ConfigureAwait(false);
        await AuthenticateAsync(_control, token).ConfigureAwait(false);
        var port = _settings.AnnouncePort() is > 0 and var announced ? announced : _settings.ListeningPort;
        object[] metaSync = _settings.AnnounceIp() is { Length: > 0 } ip
            ? ["TALUS-METASYNC", _settings.RunId, _settings.Databases, StorageFormat.Version, port, ip]
            : ["TALUS-METASYNC", _settings.RunId, _settings.Databases, StorageFormat.Version, port];
        var meta = await _data.CallOkAsync(token, metaSync).ConfigureAwait(false);
        if (meta is not object?[] { Length: 2 } parts || parts[0] is not byte[] masterRunId || parts[1] is not byte[] upstream)
        {
            throw new ReplicationException("malformed MetaSync reply");
        }
        var chain = System.Text.Encoding.ASCII.GetString(upstream);
        Upstream = [System.Text.Encoding.ASCII.GetString(masterRunId), .. chain.Split(',', StringSplitOptions.RemoveEmptyEntries)];
        await _control.CallOkAsync(token, "TALUS-CONTROL", _settings.RunId).ConfigureAwait(false);
        Machine.MoveTo(ReplState.TrySync, $"MetaSync ok (master run id {Upstream[0]})");

        var fullSyncs = 0;
        while (true)
        {
            var lineage = LineageStore.Read(_settings.Engine());
            var reply = await _data.CallOkAsync(token, "TALUS-TRYSYNC", _settings.RunId, lineage.IsNone ? "?" : lineage.ReplId,
                lineage.IsNone ? 0UL : lineage.Offset).ConfigureAwait(false) as string ?? "";
            var words = reply.Split(' ', 3);
            if (words[0] == "CONTINUE" && words.Length >= 3 && ulong.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out var from))
            {
                if (lineage.IsNone || from != lineage.Offset + 1)
                {
                    throw new ReplicationException($"master offered to continue from {from}, but this dataset's lineage is {lineage}");
                }
                // Continuing right after this handshake's own full sync ends that full sync; it is not a partial
                // sync (the master counts it the same way, so the replica's and master's counters agree).
                if (fullSyncs == 0)
                {
                    Progress.PartialSyncs++;
                }
                Machine.MoveTo(ReplState.BinlogSync, $"partial sync accepted: continuing {lineage} from offset {from}");
                _failures = 0;
                await BinlogSyncAsync(_data, _control, lineage, token).ConfigureAwait(false);
                return;
            }
            if (words[0] != "FULLRESYNC")
            {
                throw new ReplicationException($"unexpected TrySync reply '{reply}'");
            }
            if (++fullSyncs > 1)
            {
                // A full sync just completed and the master still refuses to continue from it: the pin
                // should make this impossible (rule 5), so stop rather than loop.
                throw new ReplicationException($"master refused to continue right after a full sync: {(words.Length > 2 ? words[2] : "")}");
            }
            // Rule 3: the old lineage is cleared durably before the first byte of the snapshot arrives.
            LineageStore.Clear(_settings.Engine());
            Machine.MoveTo(ReplState.WaitDbSync, "full sync needed: " + (words.Length > 2 ? words[2] : "no reason given") + "; local lineage cleared");
            await DbSyncAsync(_data, token).ConfigureAwait(false);
            Machine.MoveTo(ReplState.TrySync, "full sync complete; continuing from the snapshot's lineage");
        }
    }

    private async Task AuthenticateAsync(MasterClient client, CancellationToken token)
    {
        if (_settings.MasterAuth() is not { } password)
        {
            return;
        }
        var reply = await client.AuthAsync(_settings.MasterUser(), password, token).ConfigureAwait(false);
        if (reply is not "OK")
        {
            // Never log the password itself.
            throw new ReplicationException($"master refused masterauth: {(reply as RespError)?.Message ?? "unexpected reply"}");
        }
    }

    private async Task CloseConnectionsAsync()
    {
        if (Interlocked.Exchange(ref _data, null) is { } d)
        {
            await d.DisposeAsync().ConfigureAwait(false);
        }
        if (Interlocked.Exchange(ref _control, null) is { } c)
        {
            await c.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops the link (REPLICAOF NO ONE, another master, shutdown) and waits for the loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await CloseConnectionsAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("Replication link to {Host}:{Port} did not stop within 30s", _settings.MasterHost, _settings.MasterPort);
            }
        }
        _settings.Directories.DiscardStaging();
        if (Machine.State != ReplState.None)
        {
            Machine.MoveTo(ReplState.None, WithStreamPosition("replication stopped"));
        }
    }

    /// <summary>
    /// A reason for leaving BinlogSync, with the offset the dataset was applied through when the stream ended:
    /// the position a partial sync continues from, and what an operator compares between replicas after a
    /// master is lost. Other states are left as they are: their dataset is not the stream's. Called on the error
    /// and stop paths, so a dataset that cannot be read (closing) leaves the reason as it is rather than throw there.
    /// </summary>
    private string WithStreamPosition(string reason)
    {
        if (Machine.State != ReplState.BinlogSync)
        {
            return reason;
        }
        try
        {
            return LineageStore.Read(_settings.Engine()) is { IsNone: false } lineage
                ? string.Create(CultureInfo.InvariantCulture, $"{reason}; applied through offset {lineage.Offset}")
                : reason;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or RocksDbSharp.RocksDbException)
        {
            return reason;
        }
    }
}
