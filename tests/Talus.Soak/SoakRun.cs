using System.Diagnostics;
using System.Globalization;
using Talus.TestKit;

namespace Talus.Soak;

/// <summary>
/// The replication soak: a master under continuous, rate-bounded writes of every type while, for the given
/// time, random faults happen every few seconds: a replica is added (and sometimes hit again while its full
/// sync runs), a replica is killed with -9 and restarted, or killed and restarted without its dataset, a
/// replica's connections are cut at its proxy, the master is killed with -9 and restarted
/// (rarely), or a BGSAVE runs. At the end the load stops, every replica must catch up, and each is compared
/// key by key with the master. One line per replica, then <c>divergent keys: D</c>; exit code 1 when D &gt; 0
/// or a replica never caught up.
/// </summary>
internal sealed class SoakRun : IAsyncDisposable
{
    private const int MaxReplicas = 4;
    private const int OpsPerSecond = 1500;
    private static readonly TimeSpan MasterKillSpacing = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromMinutes(5);

    private readonly TimeSpan _duration;
    private readonly int _seed;
    private readonly Random _random;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<SoakReplica> _replicas = [];
    private TalusProcess? _master;
    private MixedWriteLoad? _load;
    private DateTime _lastMasterKill = DateTime.UtcNow;
    private int _masterKills;

    public SoakRun(TimeSpan duration, int seed)
    {
        _duration = duration;
        _seed = seed;
        _random = new Random(seed);
    }

    private void Log(string what) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {what}");

    public async Task<int> RunAsync()
    {
        Log($"soak for {_duration.TotalMinutes:0.#} minutes, seed {_seed.ToString(CultureInfo.InvariantCulture)}");
        // With the preload, the shared throttle keeps full syncs a few seconds long, so faults land in the middle of some.
        _master = await TalusProcess.LaunchAsync("--max-full-sync-parallel", "2", "--full-sync-throttle-bytes-per-second", "4mb",
            "--full-sync-chunk-size", "256kb").ConfigureAwait(false);
        Log($"master on {_master.Endpoint} in {_master.Directory}");
        Preload(_master);
        _load = MixedWriteLoad.Start(_master, _seed, OpsPerSecond, maxDuration: _duration + TimeSpan.FromMinutes(2));
        await AddReplicaAsync().ConfigureAwait(false);

        var end = DateTime.UtcNow + _duration;
        while (DateTime.UtcNow < end)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(2000 + _random.Next(4000))).ConfigureAwait(false);
            await OneFaultAsync().ConfigureAwait(false);
        }

        var written = await _load.StopAsync().ConfigureAwait(false);
        Log($"load stopped: {written} writes acknowledged, {_load.ReplyErrors} error replies, {_load.ConnectionFailures} reconnects");
        if (_load.ReplyErrors > 0)
        {
            Log("last error reply: " + _load.LastReplyError);
        }
        return await VerifyAsync().ConfigureAwait(false);
    }

    /// <summary>About 12 MB of incompressible strings, so a full sync takes seconds and faults can land inside one.</summary>
    private void Preload(TalusProcess master)
    {
        const int Keys = 12_000;
        using var c = master.Client();
        var value = new byte[500];
        for (var i = 0; i < Keys; i++)
        {
            _random.NextBytes(value);
            c.Send("SET", "preload:" + i.ToString(CultureInfo.InvariantCulture), Convert.ToHexString(value));
            if (i % 500 == 499 || i == Keys - 1)
            {
                for (var j = i - i % 500; j <= i; j++)
                {
                    var reply = c.Read();
                    if (reply.IsError)
                    {
                        throw new InvalidOperationException("preload failed: " + reply.Text);
                    }
                }
            }
        }
        Log($"preloaded {Keys} keys");
    }

    private async Task OneFaultAsync()
    {
        var roll = _random.Next(100);
        try
        {
            if (_replicas.Count == 0 || (roll < 20 && _replicas.Count < MaxReplicas))
            {
                var added = await AddReplicaAsync().ConfigureAwait(false);
                if (_random.Next(2) == 0)
                {
                    // Hit the new replica while its full sync is likely still running.
                    await Task.Delay(TimeSpan.FromMilliseconds(500 + _random.Next(2500))).ConfigureAwait(false);
                    await KillOrCutAsync(added).ConfigureAwait(false);
                }
            }
            else if (roll < 30)
            {
                var r = Pick();
                Log($"replica {r.Index}: kill -9, delete its dataset, restart ({Describe(r)})");
                await r.KillWipeAndRestartAsync().ConfigureAwait(false);
            }
            else if (roll < 50)
            {
                var r = Pick();
                Log($"replica {r.Index}: kill -9 and restart ({Describe(r)})");
                await r.KillAndRestartAsync().ConfigureAwait(false);
            }
            else if (roll < 75)
            {
                var r = Pick();
                Log($"replica {r.Index}: cut its connections at the proxy ({Describe(r)})");
                r.Proxy.CutAll();
            }
            else if (roll < 85 && DateTime.UtcNow - _lastMasterKill > MasterKillSpacing)
            {
                _lastMasterKill = DateTime.UtcNow;
                _masterKills++;
                Log("master: kill -9 and restart");
                _master!.Kill();
                await _master.StartAsync().ConfigureAwait(false);
            }
            else
            {
                using var c = _master!.Client();
                Log("master: BGSAVE -> " + c.Call("BGSAVE").Text);
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            // A fault that could not be injected (a node still starting) is reported, not fatal: the final check decides.
            Log("fault not injected: " + ex.Message);
        }
    }

    private async Task KillOrCutAsync(SoakReplica r)
    {
        if (_random.Next(2) == 0)
        {
            Log($"replica {r.Index}: kill -9 and restart ({Describe(r)})");
            await r.KillAndRestartAsync().ConfigureAwait(false);
        }
        else
        {
            Log($"replica {r.Index}: cut its connections at the proxy ({Describe(r)})");
            r.Proxy.CutAll();
        }
    }

    private SoakReplica Pick() => _replicas[_random.Next(_replicas.Count)];

    private static string Describe(SoakReplica r)
    {
        try
        {
            var info = r.Process.Info("replication");
            return $"state {info.GetValueOrDefault("talus_repl_state")}, link {info.GetValueOrDefault("master_link_status")}";
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            return "not answering";
        }
    }

    private async Task<SoakReplica> AddReplicaAsync()
    {
        var r = await SoakReplica.StartAsync(_replicas.Count, _master!.Port).ConfigureAwait(false);
        _replicas.Add(r);
        Log($"replica {r.Index}: added on {r.Process.Endpoint} through proxy {r.Proxy.Endpoint}");
        return r;
    }

    private async Task<int> VerifyAsync()
    {
        var master = _master!;
        var total = 0;
        var failed = false;
        foreach (var r in _replicas)
        {
            try
            {
                await ReplicationWait.WaitForSyncAsync(master, [r.Process], CatchUpTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                Log($"replica {r.Index} did not catch up: {ex.Message}");
                failed = true;
            }
        }
        Console.WriteLine($"master: {ReplicationWait.Stat(master, "sync_full")} full syncs served, {ReplicationWait.Stat(master, "sync_partial_ok")} partial, "
            + $"{master.Info("replication")["talus_snapshots_made"]} snapshots made since its last start, {_masterKills} kill -9");
        foreach (var r in _replicas)
        {
            var differences = KeyspaceComparer.Differences(master, r.Process);
            total += differences.Count;
            var (full, partial) = r.TotalSyncs();
            Console.WriteLine($"replica {r.Index}: full syncs {full}, partial syncs {partial}, divergent keys {differences.Count}");
            foreach (var line in differences.Take(10))
            {
                Console.WriteLine("    " + line);
            }
        }
        Console.WriteLine($"keys: {KeyspaceComparer.CountKeys(master)}");
        Console.WriteLine($"divergent keys: {total}");
        return total > 0 || failed ? 1 : 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_load is not null)
        {
            await _load.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var r in _replicas)
        {
            await r.DisposeAsync().ConfigureAwait(false);
        }
        if (_master is not null)
        {
            await _master.DisposeAsync().ConfigureAwait(false);
        }
    }
}
