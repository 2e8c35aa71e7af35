using System.Globalization;
using Talus.TestKit;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>
/// The end of a full sync and its start: kill -9 of the replica inside the dataset swap (held open with the
/// testing-only repl-swap-delay-ms), and the full-sync queue seen from replicas and master.
/// </summary>
public class SwapAndQueueTests
{
    private static string Digest(ServerProcess server)
    {
        using var c = server.Client();
        return c.Call("DEBUG", "DIGEST").Text!;
    }

    [Theory]
    [InlineData("after the swap marker")]
    [InlineData("between the renames")]
    public async Task A_replica_killed_inside_the_swap_recovers_one_whole_dataset_and_converges(string window)
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 300);
        WriteCollections(master, 150);
        // The replica starts with a history and data of its own, so "old" and "new" datasets are both recognisable.
        await using var replica = await TalusProcess.LaunchAsync("--repl-swap-delay-ms", "4000");
        WriteStrings(replica, 50, prefix: "mine");
        var oldDigest = Digest(replica);
        var masterDigest = Digest(master);
        var masterLineage = Repl(master)["talus_dataset_lineage"];
        Assert.NotEqual(oldDigest, masterDigest);
        using (var c = replica.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", P(master.Port)).Text);
        }

        var data = Path.Combine(replica.Directory, "data");
        await Wait.UntilAsync(() => File.Exists(Path.Combine(data, "db.swap"))
            && (window == "after the swap marker" ? Directory.Exists(Path.Combine(data, "db")) : !Directory.Exists(Path.Combine(data, "db"))),
            TimeSpan.FromSeconds(60), $"the replica to be inside the swap ({window})");
        replica.Kill();
        replica.SetArguments(["--replicaof", "127.0.0.1", P(master.Port)]);
        await replica.StartAsync();

        // The master wrote nothing since its snapshot, so its digest is the snapshot's. The marker was on disk,
        // so start-up must have finished the swap: the new dataset whole, with the snapshot's lineage.
        var lineage = Repl(replica)["talus_dataset_lineage"];
        var digest = Digest(replica);
        Assert.True(lineage == masterLineage && digest == masterDigest,
            $"after the restart: lineage {lineage} (master {masterLineage}), digest {digest} (master {masterDigest}, old {oldDigest})");
        foreach (var leftover in new[] { "db.swap", "db.staging", "db.old" })
        {
            Assert.False(Path.Exists(Path.Combine(data, leftover)), leftover + " left behind");
        }

        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        // It continued from the recovered lineage: no second full sync.
        Assert.Equal(1, ReplicationWait.Stat(master, "sync_full"));
        Assert.Equal("1", Repl(replica)["talus_partial_syncs"]);
        using (var c = master.Client())
        {
            c.Call("SET", "after", "restart");
        }
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Replicas_waiting_for_a_slot_show_their_queue_position_and_all_share_one_snapshot()
    {
        await using var master = await TalusProcess.LaunchAsync("--max-full-sync-parallel", "1",
            "--full-sync-throttle-bytes-per-second", "16kb", "--full-sync-chunk-size", "4kb");
        WriteBulk(master, 2000, 1000);
        var replicas = new List<TalusProcess>();
        try
        {
            // The first replica takes the only slot; the throttle (two minutes for the whole snapshot) keeps it
            // transferring while the others start and queue, however slow the machine; it is lifted afterwards.
            replicas.Add(await StartReplicaAsync(master));
            await Wait.UntilAsync(() => Repl(replicas[0])["talus_repl_state"] == "DbSync", TimeSpan.FromSeconds(30), "first transfer under way");
            for (var i = 1; i <= 2; i++)
            {
                var replica = await StartReplicaAsync(master);
                replicas.Add(replica);
                var position = i.ToString(CultureInfo.InvariantCulture);
                await Wait.UntilAsync(() => Repl(replica)["talus_sync_queue_position"] == position, TimeSpan.FromSeconds(30), $"replica {i} queued at {position}");
            }
            Assert.Equal("DbSync", Repl(replicas[0])["talus_repl_state"]);
            for (var i = 1; i <= 2; i++)
            {
                var info = Repl(replicas[i]);
                Assert.Equal(i.ToString(CultureInfo.InvariantCulture), info["talus_sync_queue_position"]);
                Assert.Equal("WaitDbSync", info["talus_repl_state"]);
                Assert.Equal("down", info["master_link_status"]);
                Assert.Equal("1", info["master_sync_in_progress"]);
                Assert.Equal("none", info["talus_dataset_lineage"]);
                Assert.Equal("0", info["slave_priority"]);
            }
            var runIds = replicas.Select(r => r.Info("server")["run_id"]).ToList();
            var onMaster = Repl(master);
            Assert.Equal(runIds[0], onMaster["talus_full_sync_running"]);
            Assert.Equal($"{runIds[1]},{runIds[2]}", onMaster["talus_full_sync_queued"]);

            using (var c = master.Client())
            {
                Assert.Equal("OK", c.Call("CONFIG", "SET", "full-sync-throttle-bytes-per-second", "0").Text);
            }
            await ReplicationWait.WaitForSyncAsync(master, replicas, TimeSpan.FromSeconds(120));
            foreach (var r in replicas)
            {
                Assert.Equal("1", Repl(r)["talus_full_syncs"]);
                Assert.Equal("0", Repl(r)["talus_sync_queue_position"]);
                AssertSameKeyspace(master, r);
            }
            Assert.Equal("1", Repl(master)["talus_snapshots_made"]);
            Assert.Equal(3, ReplicationWait.Stat(master, "sync_full"));
        }
        finally
        {
            foreach (var r in replicas)
            {
                await r.DisposeAsync();
            }
        }
    }
}
