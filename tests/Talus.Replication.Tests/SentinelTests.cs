using System.Diagnostics;
using System.Globalization;
using Talus.TestKit;
using Xunit.Abstractions;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>
/// Failover by three real redis-sentinel processes (quorum 2, conf/examples/sentinel.conf, the file
/// docs/operations.md quotes) over a Talus master and two Talus replicas.
/// </summary>
public class SentinelTests(ITestOutputHelper output)
{
    private const string Name = "talus";

    /// <summary>
    /// How long a wait for something Sentinel does after the kill may take. Sentinel acts on its own timers: it reads a
    /// replica's INFO every 10 s and converts a node that reports the wrong role only 8 s after it saw the role, and
    /// when its own 100 ms timer runs more than 2 s late (a loaded machine) it enters TILT mode and takes no action for
    /// 30 s. A minute was not always enough on a loaded CI machine.
    /// </summary>
    private static readonly TimeSpan SentinelPatience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Sentinel_promotes_a_replica_that_keeps_acknowledged_writes_and_re_points_the_others()
    {
        using var confs = new TempDirectory("talus-confs");
        var master = await StartNodeAsync(confs, "master");
        await using var masterGuard = master;
        var replicas = await Task.WhenAll(StartNodeAsync(confs, "r1", master), StartNodeAsync(confs, "r2", master));
        await using var r1 = replicas[0];
        await using var r2 = replicas[1];
        WriteStrings(master, 300);
        await ReplicationWait.WaitForSyncAsync(master, [r1, r2]);
        await using var sentinels = await SentinelGroup.StartAsync(master);
        await sentinels.WaitUntilAllAsync(s => s.Replicas(Name).Count == 2 && s.Master(Name).GetValueOrDefault("num-other-sentinels") == "2",
            TimeSpan.FromSeconds(40), "every sentinel to know both replicas and the other two sentinels");

        try
        {
            // Load: three writers, each write followed by WAIT 1; a write counts as acknowledged when WAIT answers >= 1.
            // A fourth writer sends 50-key MSETs without waiting, so the replicas' offsets drift apart. The master
            // is killed while they all run: writes are in flight (sent, on one replica, or on neither) at that moment.
            var acked = new List<string>();
            using var stopLoad = new CancellationTokenSource();
            var load = Task.WhenAll(Enumerable.Range(0, 3).Select(w => Task.Factory.StartNew(() => RunLoad(master.Port, w, acked, stopLoad.Token), TaskCreationOptions.LongRunning))
                .Append(Task.Factory.StartNew(() => RunBulkLoad(master.Port, stopLoad.Token), TaskCreationOptions.LongRunning)));
            await Wait.UntilAsync(() => { lock (acked) { return acked.Count >= 600; } }, TimeSpan.FromSeconds(30), "600 acknowledged writes");

            // kill -9 under the load. Every acknowledged write reached at least one replica, and both replicas hold
            // prefixes of one stream, so the replica with the highest offset holds every acknowledged write.
            // Sentinel promotes that one: once the master is objectively down it refreshes the replicas' INFO every
            // second, and among equal priorities it picks the highest slave_repl_offset.
            var oldAddress = $"127.0.0.1:{master.Port}";
            var logMarks = new Dictionary<TalusProcess, int> { [r1] = r1.ReadLog().Length, [r2] = r2.ReadLog().Length };
            var clock = Stopwatch.StartNew();
            master.Kill();
            stopLoad.Cancel();
            await load;
            // A replica applies the frames already in its socket buffer, then its stream ends: it sees the link close,
            // or, when it is still applying, Sentinel re-points or promotes it first. INFO cannot tell the offset then
            // (a promoted node has no link); the log line that ends the stream can, either way.
            await Wait.UntilAsync(() => StreamEndOffset(r1, logMarks[r1]) is not null && StreamEndOffset(r2, logMarks[r2]) is not null,
                TimeSpan.FromSeconds(60), "both replicas' streams from the killed master to end");
            var offsetAtKill = new Dictionary<TalusProcess, ulong> { [r1] = StreamEndOffset(r1, logMarks[r1])!.Value, [r2] = StreamEndOffset(r2, logMarks[r2])!.Value };
            var finalOffsets = $"r1 at {offsetAtKill[r1]}, r2 at {offsetAtKill[r2]}";

            await sentinels.WaitUntilAllAsync(s => s.MasterAddress(Name) is { } a && a != oldAddress, SentinelPatience, "a new master in every sentinel");
            var failoverTime = clock.Elapsed;
            var newAddress = sentinels.First.MasterAddress(Name);
            var promoted = newAddress == $"127.0.0.1:{r1.Port}" ? r1 : newAddress == $"127.0.0.1:{r2.Port}" ? r2 : throw new InvalidOperationException($"Sentinel chose {newAddress}");
            var other = promoted == r1 ? r2 : r1;
            await Wait.UntilAsync(() => Polled(promoted).GetValueOrDefault("role") == "master", TimeSpan.FromSeconds(30), "the promoted replica to be a master");
            string[] ackedWrites;
            lock (acked)
            {
                ackedWrites = [.. acked];
            }
            AssertHasWrites(promoted, ackedWrites);

            // The other replica is re-pointed, and does exactly one sync. Rule 2: when its offset at the kill is past
            // the promoted one's it holds writes the new master never got, and must sync in full. At or below it, it
            // continues (partial), also when its offset falls inside one of the batches the promoted node wrote as a
            // replica (docs/replication.md, "Batch boundaries").
            await Wait.UntilAsync(() => Polled(other) is var i && i.GetValueOrDefault("role") == "slave" && i.GetValueOrDefault("master_port") == P(promoted.Port) && i.GetValueOrDefault("master_link_status") == "up",
                SentinelPatience, "the other replica to stream from the new master");
            var otherContinues = offsetAtKill[other] <= offsetAtKill[promoted];
            WriteStrings(promoted, 100, prefix: "after-failover");
            await ReplicationWait.WaitForSyncAsync(promoted, [other]);
            // The link to the new master (a new replica worker, counting from zero) did one sync of the expected kind.
            var context = $"offsets at the kill: {finalOffsets}; promoted {(promoted == r1 ? "r1" : "r2")}";
            Assert.True(Repl(other)["talus_full_syncs"] == (otherContinues ? "0" : "1"), context);
            Assert.True(Repl(other)["talus_partial_syncs"] == (otherContinues ? "1" : "0"), context);
            Assert.True(ReplicationWait.Stat(promoted, "sync_full") == (otherContinues ? 0 : 1), context);
            Assert.True(ReplicationWait.Stat(promoted, "sync_partial_ok") == (otherContinues ? 1 : 0), context);
            var repointTime = clock.Elapsed;

            // The old master comes back on its port and data dir as a master; Sentinel turns it into a replica.
            await master.StartAsync();
            output.WriteLine($"old master restarted at {clock.Elapsed.TotalSeconds:0.0}s after the kill ({DateTime.UtcNow:HH:mm:ss.fff} UTC)");
            // The lineage it restarted with, from its start-up log line: Sentinel may re-point it (closing this
            // test's connections with CLIENT KILL) before an INFO could ask.
            var oldLineage = StartLineage(master).Split(':');
            var promotedInfo = Repl(promoted);
            var switchOffset = ulong.Parse(promotedInfo["second_repl_offset"], CultureInfo.InvariantCulture) - 1;
            // Rule 2: continuing is allowed only from the promoted node's previous history, at or before the switch.
            var partialExpected = oldLineage[0] == promotedInfo["master_replid2"] && ulong.Parse(oldLineage[1], CultureInfo.InvariantCulture) <= switchOffset;
            await Wait.UntilAsync(() => Polled(master) is var i && i.GetValueOrDefault("role") == "slave" && i.GetValueOrDefault("master_port") == P(promoted.Port),
                SentinelPatience, "Sentinel to re-point the old master");
            // Sentinel's CLIENT KILL TYPE normal may still close polling connections until the new link is up.
            await Wait.UntilAsync(() => Polled(master).GetValueOrDefault("master_link_status") == "up",
                SentinelPatience, "the old master to stream from the new one");
            await ReplicationWait.WaitForSyncAsync(promoted, [master, other]);
            var otherFull = otherContinues ? 0 : 1;
            if (partialExpected)
            {
                Assert.Equal(otherFull, ReplicationWait.Stat(promoted, "sync_full"));
                Assert.Equal(1 - otherFull + 1, ReplicationWait.Stat(promoted, "sync_partial_ok"));
            }
            else
            {
                Assert.Equal(otherFull + 1, ReplicationWait.Stat(promoted, "sync_full"));
            }
            AssertSameKeyspace(promoted, other);
            AssertSameKeyspace(promoted, master);
            output.WriteLine($"failover: new master {newAddress} in every sentinel {failoverTime.TotalSeconds:0.0}s after kill -9 (down-after 2000 ms); "
                + $"offsets after the kill {finalOffsets}; other replica streaming again ({(otherContinues ? "partial" : "full")} sync) at {repointTime.TotalSeconds:0.0}s; {ackedWrites.Length} acknowledged writes checked; "
                + $"old master back as a replica with a {(partialExpected ? "partial" : "full")} sync at {clock.Elapsed.TotalSeconds:0.0}s; "
                + $"{KeyspaceComparer.CountKeys(promoted)} keys compared on all three nodes");
        }
        catch (Exception) when (DumpLogs(output, new ServerProcess[] { master, r1, r2 }.Concat(sentinels.All)))
        {
            throw; // DumpLogs returns false: the filter only writes the logs
        }
    }

    [Fact]
    public async Task Sentinel_never_promotes_a_replica_in_the_middle_of_a_full_sync()
    {
        using var confs = new TempDirectory("talus-confs");
        // The throttle applies to full syncs only: r1 syncs the empty dataset first and then streams the load.
        // No snapshot reuse: r2 must get a snapshot of the full dataset, not r1's empty one.
        var master = await StartNodeAsync(confs, "master", null, "--full-sync-throttle-bytes-per-second", "200kb", "--snapshot-reuse-seconds", "0");
        await using var masterGuard = master;
        await using var r1 = await StartNodeAsync(confs, "r1", master);
        await ReplicationWait.WaitForSyncAsync(master, [r1]);
        WriteIncompressible(master, 6000, 1000);
        await ReplicationWait.WaitForSyncAsync(master, [r1]);
        await using var syncing = await StartNodeAsync(confs, "r2", master);
        await Wait.UntilAsync(() => Repl(syncing)["master_sync_in_progress"] == "1", TimeSpan.FromSeconds(30), "r2's full sync to start");
        Assert.Equal("0", Repl(syncing)["slave_priority"]);

        await using var sentinels = await SentinelGroup.StartAsync(master);
        await sentinels.WaitUntilAllAsync(s => s.Replicas(Name) is { Count: 2 } list
                && list.Any(r => r["port"] == P(syncing.Port) && r.GetValueOrDefault("slave-priority") == "0")
                && list.Any(r => r["port"] == P(r1.Port) && r.GetValueOrDefault("slave-priority") == "100")
                && s.Master(Name).GetValueOrDefault("num-other-sentinels") == "2",
            TimeSpan.FromSeconds(60), "every sentinel to see r2 with priority 0 and r1 with 100");
        Assert.Equal("1", Repl(syncing)["master_sync_in_progress"]);
        var oldAddress = $"127.0.0.1:{master.Port}";
        var clock = Stopwatch.StartNew();
        master.Kill();

        await sentinels.WaitUntilAllAsync(s => s.MasterAddress(Name) is { } a && a != oldAddress, SentinelPatience, "a new master in every sentinel");
        var failoverTime = clock.Elapsed;
        Assert.Equal($"127.0.0.1:{r1.Port}", sentinels.First.MasterAddress(Name));
        Assert.DoesNotContain("(promoted)", File.ReadAllText(syncing.LogPath), StringComparison.Ordinal);

        // r2 is re-pointed to the new master and completes a full sync there.
        await Wait.UntilAsync(() => Polled(syncing) is var i && i.GetValueOrDefault("master_port") == P(r1.Port) && i.GetValueOrDefault("master_link_status") == "up",
            SentinelPatience, "r2 to stream from the new master");
        await ReplicationWait.WaitForSyncAsync(r1, [syncing]);
        Assert.Equal("slave", Repl(syncing)["role"]);
        AssertSameKeyspace(r1, syncing);
        output.WriteLine($"failover to r1 {failoverTime.TotalSeconds:0.0}s after kill -9; r2 (mid full sync, priority 0) not promoted, synced from r1 at {clock.Elapsed.TotalSeconds:0.0}s");
    }

    /// <summary>
    /// INFO replication while Sentinel reconfigures a node: its CLIENT KILL TYPE normal closes every normal
    /// connection, the test's polling ones included, as Redis does; such a poll counts as "not yet".
    /// </summary>
    internal static Dictionary<string, string> Polled(ServerProcess node)
    {
        try
        {
            return Repl(node);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            return [];
        }
    }

    /// <summary>
    /// The offset a replica's dataset was applied through when its stream ended, from the first line after
    /// <paramref name="mark"/> (a length of its log) that leaves BinlogSync; null while it still streams.
    /// </summary>
    private static ulong? StreamEndOffset(ServerProcess replica, int mark)
    {
        const string leaving = "Replication state BinlogSync -> ", position = "; applied through offset ";
        var line = replica.ReadLog()[mark..].Split('\n').FirstOrDefault(l => l.Contains(leaving, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }
        var at = line.LastIndexOf(position, StringComparison.Ordinal);
        return at >= 0 ? ulong.Parse(line[(at + position.Length)..].Trim(), CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"a stream ended without its offset: {line}");
    }

    /// <summary>
    /// Writes the last lines of every process's log to the test's output (printed with a failure), then returns
    /// false: for an exception filter, so a failed wait shows what each node and sentinel did.
    /// </summary>
    internal static bool DumpLogs(ITestOutputHelper output, IEnumerable<ServerProcess> processes)
    {
        foreach (var process in processes)
        {
            // Less the lines of the test's own polling connections, which would fill a sentinel's tail.
            var lines = process.ReadLog().Split('\n')
                .Where(l => !l.Contains(" - Accepted ", StringComparison.Ordinal) && !l.Contains(" - Client closed connection", StringComparison.Ordinal))
                .ToArray();
            output.WriteLine($"--- {Path.GetFileName(process.LogPath)} of port {process.Port}, last {Math.Min(60, lines.Length)} of {lines.Length} other log lines:");
            output.WriteLine(string.Join('\n', lines[Math.Max(0, lines.Length - 60)..]));
        }
        return false;
    }

    /// <summary>The lineage in the last "Replication role master, lineage ..." line of a node's log.</summary>
    private static string StartLineage(ServerProcess node)
    {
        const string marker = "Replication role master, lineage ";
        var line = node.ReadLog().Split('\n').Last(l => l.Contains(marker, StringComparison.Ordinal));
        return line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim();
    }

    /// <summary>A Talus node with its own config file (CONFIG REWRITE, which Sentinel sends, needs one).</summary>
    internal static Task<TalusProcess> StartNodeAsync(TempDirectory confs, string name, ServerProcess? master = null, params string[] extra)
    {
        var conf = Path.Combine(confs.Path, name + ".conf");
        File.WriteAllText(conf, $"# {name}\n");
        string[] args = master is null ? ["--config", conf, .. extra] : ["--config", conf, "--replicaof", "127.0.0.1", P(master.Port), .. extra];
        return TalusProcess.LaunchAsync(args);
    }

    /// <summary>SET w{writer}:i then WAIT 1 1000 until cancelled or the master is gone; acknowledged keys go to <paramref name="acked"/>.</summary>
    private static void RunLoad(int port, int writer, List<string> acked, CancellationToken stop)
    {
        using var c = new RespClient(port, timeoutMs: 5_000);
        for (var i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"w{writer}:{i}");
            try
            {
                if (c.Call("SET", key, "v" + key).Text != "OK")
                {
                    return;
                }
                if (c.Call("WAIT", "1", "1000").Integer >= 1)
                {
                    lock (acked)
                    {
                        acked.Add(key);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
            {
                return; // the master was killed
            }
        }
    }

    /// <summary>MSET of 50 keys "bulk:*" at a time, unacknowledged, until cancelled or the master is gone.</summary>
    private static void RunBulkLoad(int port, CancellationToken stop)
    {
        using var c = new RespClient(port, timeoutMs: 5_000);
        for (var i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
        {
            var args = new List<string>(101) { "MSET" };
            for (var k = 0; k < 50; k++)
            {
                args.Add(string.Create(CultureInfo.InvariantCulture, $"bulk:{(i * 50 + k) % 5000}"));
                args.Add(string.Create(CultureInfo.InvariantCulture, $"{i}"));
            }
            try
            {
                if (c.Call([.. args]).Text != "OK")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
            {
                return; // the master was killed
            }
        }
    }

    private static void AssertHasWrites(ServerProcess server, string[] keys)
    {
        using var c = server.Client();
        foreach (var chunk in keys.Chunk(500))
        {
            var reply = c.Call(["MGET", .. chunk]);
            for (var j = 0; j < chunk.Length; j++)
            {
                Assert.True(reply.Items![j].Text == "v" + chunk[j], $"acknowledged write {chunk[j]} missing on the new master {server.Endpoint}");
            }
        }
    }
}
