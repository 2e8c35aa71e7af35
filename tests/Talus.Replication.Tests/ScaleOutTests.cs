using Talus.TestKit;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>
/// The incident Talus exists to prevent, and its neighbours: several replicas joining a loaded master at once,
/// snapshots being made or saved while transfers run, and kill -9 in the middle of a transfer.
/// </summary>
public class ScaleOutTests
{
    [Fact]
    public async Task Five_replicas_joining_a_loaded_master_within_two_seconds_share_one_snapshot_and_converge()
    {
        await using var master = await TalusProcess.LaunchAsync("--max-full-sync-parallel", "2");
        WriteBulk(master, 20_000, 100);
        using var stop = new CancellationTokenSource();
        var load = WriteLoadAsync(master, stop.Token);

        var replicas = await Task.WhenAll(Enumerable.Range(0, 5).Select(async i =>
        {
            await Task.Delay(i * 400);
            return await StartReplicaAsync(master);
        }));
        try
        {
            foreach (var r in replicas)
            {
                await Wait.UntilAsync(() => Repl(r)["master_link_status"] == "up", TimeSpan.FromSeconds(120), $"replica {r.Endpoint} streaming");
            }
            await stop.CancelAsync();
            var written = await load;
            Assert.True(written > 0);
            await ReplicationWait.WaitForSyncAsync(master, replicas);
            foreach (var r in replicas)
            {
                AssertSameKeyspace(master, r);
                Assert.Equal("1", Repl(r)["talus_full_syncs"]);
            }
            Assert.Equal("1", Repl(master)["talus_snapshots_made"]);
            Assert.Equal(5, ReplicationWait.Stat(master, "sync_full"));
        }
        finally
        {
            foreach (var r in replicas)
            {
                await r.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_manual_BGSAVE_during_a_throttled_transfer_changes_nothing_for_it()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-throttle-bytes-per-second", "1mb", "--full-sync-chunk-size", "64kb");
        WriteBulk(master, 3000, 1000);
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await StartReplicaHeldMidTransferAsync(proxy);
        Assert.Equal("none", Repl(replica)["talus_dataset_lineage"]);
        Assert.Equal("down", Repl(replica)["master_link_status"]);
        using (var c = master.Client())
        {
            Assert.Equal("Background saving started", c.Call("BGSAVE").Text);
            c.Call("SET", "during", "transfer");
        }
        proxy.Resume(ProxyDirection.ToClient);
        await ReplicationWait.WaitForSyncAsync(master, [replica], TimeSpan.FromSeconds(120));
        Assert.Equal("1", Repl(master)["talus_snapshots_made"]);
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task A_replica_arriving_while_the_snapshot_is_being_made_waits_for_it_and_shares_it()
    {
        // The snapshot takes 3 s to be published here, so the second replica certainly arrives while it is made.
        await using var master = await TalusProcess.LaunchAsync("--repl-snapshot-delay-ms", "3000");
        WriteBulk(master, 2000, 100);
        await using var first = await StartReplicaAsync(master);
        await Wait.UntilAsync(() => Repl(first)["talus_sync_waiting_for_snapshot"] == "1", TimeSpan.FromSeconds(30), "the first replica to wait for the snapshot");
        await using var second = await StartReplicaAsync(master);
        await Wait.UntilAsync(() => Repl(second)["talus_sync_waiting_for_snapshot"] == "1", TimeSpan.FromSeconds(30), "the second replica to wait for the same snapshot");
        var waiting = Repl(second);
        Assert.Equal("down", waiting["master_link_status"]);
        Assert.Equal("none", waiting["talus_dataset_lineage"]);
        Assert.Equal("", waiting["talus_repl_last_error"]); // a state, not an error
        using (var c = master.Client())
        {
            c.Call("SET", "while", "making");
        }
        await ReplicationWait.WaitForSyncAsync(master, [first, second], TimeSpan.FromSeconds(120));
        Assert.Equal("1", Repl(master)["talus_snapshots_made"]);
        Assert.Equal("1", Repl(first)["talus_full_syncs"]);
        Assert.Equal("1", Repl(second)["talus_full_syncs"]);
        AssertSameKeyspace(master, first);
        AssertSameKeyspace(master, second);
    }

    [Fact]
    public async Task A_replica_killed_during_the_transfer_never_claims_a_dataset_and_completes_after_restart()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-throttle-bytes-per-second", "1mb", "--full-sync-chunk-size", "64kb");
        WriteBulk(master, 3000, 1000);
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await StartReplicaHeldMidTransferAsync(proxy);
        replica.Kill();
        proxy.Resume(ProxyDirection.ToClient);
        using (var c = master.Client())
        {
            Assert.Equal(0, c.Call("CONFIG", "SET", "full-sync-throttle-bytes-per-second", "0").IsError ? 1 : 0);
        }
        await replica.StartAsync();
        // Right after the restart the half-received dataset must not claim lineage.
        var first = Repl(replica);
        Assert.True(first["talus_dataset_lineage"] == "none" || first["talus_full_syncs"] == "1", string.Join(' ', first));
        await ReplicationWait.WaitForSyncAsync(master, [replica], TimeSpan.FromSeconds(120));
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Master_killed_during_a_transfer_leaves_the_replica_without_lineage_until_the_sync_completes()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-throttle-bytes-per-second", "1mb", "--full-sync-chunk-size", "64kb");
        WriteBulk(master, 3000, 1000);
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await StartReplicaHeldMidTransferAsync(proxy);
        master.Kill();
        proxy.Resume(ProxyDirection.ToClient);
        await Wait.UntilAsync(() => Repl(replica)["talus_repl_state"] is "Error" or "Connect", TimeSpan.FromSeconds(30), "replica noticed the master is gone");
        var info = Repl(replica);
        Assert.Equal("none", info["talus_dataset_lineage"]);
        Assert.Equal("down", info["master_link_status"]);
        Assert.Equal("0", info["slave_priority"]);

        master.SetArguments([]);
        await master.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [replica], TimeSpan.FromSeconds(120));
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task A_tiny_binlog_retention_with_a_slow_transfer_still_ends_in_streaming_thanks_to_the_pin()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-throttle-bytes-per-second", "2mb", "--full-sync-chunk-size", "64kb",
            "--rocksdb-write-buffer-size", "1mb", "--binlog-retention-seconds", "0", "--binlog-retention-size", "0");
        WriteBulk(master, 3000, 1000);
        using var stop = new CancellationTokenSource();
        var load = WriteLoadAsync(master, stop.Token);
        await using var replica = await StartReplicaAsync(master);
        await Wait.UntilAsync(() => Repl(replica)["master_link_status"] == "up", TimeSpan.FromSeconds(120), "replica streaming");
        await stop.CancelAsync();
        await load;
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        Assert.Equal(1, ReplicationWait.Stat(master, "sync_full"));
        AssertSameKeyspace(master, replica);
    }
}
