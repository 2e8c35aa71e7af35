using System.Globalization;
using Talus.TestKit;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>
/// Faults on the wire between a replica and its master, injected by a <see cref="FaultProxy"/> the replica
/// connects through: connections cut during a full sync and during the binlog stream, and a corrupted file
/// chunk. Every test ends with the key-by-key comparison.
/// </summary>
public class NetworkFaultTests
{
    [Fact]
    public async Task A_connection_cut_mid_transfer_never_lets_the_replica_claim_a_dataset_before_the_retry_completes()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-throttle-bytes-per-second", "2mb", "--full-sync-chunk-size", "64kb");
        WriteBulk(master, 3000, 1000);
        WriteCollections(master, 200);
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await StartReplicaHeldMidTransferAsync(proxy);
        proxy.CutAll();
        proxy.Resume(ProxyDirection.ToClient);

        // Until the retried full sync has completed, every look at the replica shows a dataset without lineage
        // and a link that is down. The only moment lineage may show with no full sync counted yet is the swap itself.
        var violations = new List<string>();
        await Wait.UntilAsync(() =>
        {
            var info = Repl(replica);
            if (info["talus_full_syncs"] == "0"
                && (info["master_link_status"] != "down" || (info["talus_dataset_lineage"] != "none" && info["talus_repl_state"] != "DbSwap")))
            {
                violations.Add($"link={info["master_link_status"]} lineage={info["talus_dataset_lineage"]} state={info["talus_repl_state"]}");
            }
            return info["master_link_status"] == "up";
        }, TimeSpan.FromSeconds(120), "the replica to retry the full sync and stream");
        Assert.True(violations.Count == 0, "the replica claimed a dataset before its full sync completed:\n" + string.Join('\n', violations));

        var final = Repl(replica);
        Assert.True(final["talus_repl_last_error"].Length > 0, "the cut was never noticed");
        Assert.Equal("1", final["talus_full_syncs"]);
        Assert.Equal(2, ReplicationWait.Stat(master, "sync_full"));
        Assert.Equal("1", Repl(master)["talus_snapshots_made"]);
        Assert.True(proxy.Accepted >= 4, $"the replica reconnected ({proxy.Accepted} connections)");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Connections_cut_mid_stream_under_load_resume_with_partial_syncs_and_converge()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 200);
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await StartReplicaThroughAsync(proxy);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        var fullBefore = ReplicationWait.Stat(master, "sync_full");
        var partialBefore = ReplicationWait.Stat(master, "sync_partial_ok");

        await using var load = MixedWriteLoad.Start(master, seed: 7, opsPerSecond: 3000, maxDuration: TimeSpan.FromSeconds(90));
        // Three kinds of cut: every connection at once, the stream in the middle of a frame, and the acknowledgements.
        Action[] cuts =
        [
            proxy.CutAll,
            () => proxy.CutAfter(ProxyDirection.ToClient, 5000),
            () => proxy.CutAfter(ProxyDirection.ToTarget, 200),
        ];
        for (var i = 0; i < cuts.Length; i++)
        {
            var streamed = ReplicationWait.ReplicaOffset(replica);
            await Wait.UntilAsync(() => Repl(replica)["master_link_status"] == "up" && ReplicationWait.ReplicaOffset(replica) > streamed + 500,
                TimeSpan.FromSeconds(30), $"streaming under load before cut {i}");
            var cutsBefore = proxy.Cuts;
            cuts[i]();
            var expected = partialBefore + i + 1;
            await Wait.UntilAsync(() => ReplicationWait.Stat(master, "sync_partial_ok") >= expected,
                TimeSpan.FromSeconds(30), $"partial sync #{i + 1} after the cut");
            Assert.True(i == 0 || proxy.Cuts > cutsBefore, $"cut {i} fired");
        }
        await load.StopAsync();
        Assert.True(load.ReplyErrors == 0, load.LastReplyError);
        Assert.True(load.Acknowledged > 0);

        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal(fullBefore, ReplicationWait.Stat(master, "sync_full"));
        Assert.Equal(partialBefore + cuts.Length, ReplicationWait.Stat(master, "sync_partial_ok"));
        var info = Repl(replica);
        Assert.Equal("1", info["talus_full_syncs"]);
        Assert.Equal(cuts.Length.ToString(CultureInfo.InvariantCulture), info["talus_partial_syncs"]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task A_corrupted_file_chunk_is_caught_by_its_checksum_and_the_full_sync_is_retried()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-chunk-size", "64kb");
        WriteBulk(master, 2000, 1000);
        WriteCollections(master, 200);
        await using var proxy = FaultProxy.Start(master.Port);
        // The first chunk requested of any table file: byte 100 of the reply is well inside the file's data
        // (the bulk header "$65536\r\n" is 8 bytes), so only the file checksum can notice.
        proxy.CorruptAfterMarker(ProxyDirection.ToTarget, ".sst\r\n"u8.ToArray(), ProxyDirection.ToClient, 100);
        await using var replica = await StartReplicaThroughAsync(proxy);

        await Wait.UntilAsync(() => Repl(replica)["talus_repl_last_error"].Contains("checksum", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "the checksum failure to be reported");
        await ReplicationWait.WaitForSyncAsync(master, [replica], TimeSpan.FromSeconds(120));
        Assert.Equal(1, proxy.Corrupted);

        var log = replica.ReadLog();
        var failure = log.IndexOf("does not match the manifest's", StringComparison.Ordinal);
        var swap = log.IndexOf("Dataset swapped in", StringComparison.Ordinal);
        Assert.True(failure >= 0, "no checksum failure in the replica's log");
        // The corrupted transfer never reached the swap: the only swap is the retried, verified one.
        Assert.True(swap > failure, "a swap happened before the checksum failure");
        Assert.Equal(1, CountOf(log, "Dataset swapped in"));
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        Assert.Equal(2, ReplicationWait.Stat(master, "sync_full"));
        Assert.False(Directory.Exists(Path.Combine(replica.Directory, "data", "db.staging")));
        AssertSameKeyspace(master, replica);
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
