using System.Globalization;
using Talus.TestKit;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>Master–replica replication with real talus processes; every test ends comparing keyspaces.</summary>
public class ReplicationTests
{
    [Fact]
    public async Task New_replica_full_syncs_then_streams_every_kind_of_write()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 500);
        WriteCollections(master, 400);
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        WriteCollections(master, 300, prefix: "streamed");
        using (var c = master.Client())
        {
            c.Call("HDEL", "c:hash:3", "f3");
            c.Call("LPOP", "c:list:4");
            c.Call("SPOP", "c:set:5");
            c.Call("ZREM", "c:zset:6", "z6");
            c.Call("DEL", "c:hash:7");
        }
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);

        using (var c = master.Client())
        {
            c.Call("SET", "after", "1");
            c.Call("EXPIRE", "k:0:1", "1000");
            c.Call("PERSIST", "k:0:10");
            c.Call("DEL", "k:0:2");
            c.Call("INCRBY", "counter", "41");
            c.Call("APPEND", "after", "23");
            c.Call("SELECT", "2");
            c.Call("FLUSHDB");
            c.Call("SELECT", "1");
            c.Call("RENAME", "k:1:3", "renamed");
        }
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);
        using (var c = master.Client())
        {
            c.Call("FLUSHALL");
            c.Call("SET", "only", "this");
        }
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);
        Assert.Equal(1, KeyspaceComparer.CountKeys(replica));
    }

    [Fact]
    public async Task Replica_restarted_after_a_clean_stop_resumes_with_a_partial_sync()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 200);
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        var fullBefore = ReplicationWait.Stat(master, "sync_full");

        Assert.Equal(0, replica.Stop());
        WriteStrings(master, 200, prefix: "later");
        await replica.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [replica]);

        Assert.Equal(fullBefore, ReplicationWait.Stat(master, "sync_full"));
        Assert.Equal("0", Repl(replica)["talus_full_syncs"]);
        Assert.Equal("1", Repl(replica)["talus_partial_syncs"]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Replica_killed_while_streaming_resumes_with_a_partial_sync()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 200);
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        var fullBefore = ReplicationWait.Stat(master, "sync_full");
        WriteStrings(master, 300, prefix: "during");
        replica.Kill();
        WriteStrings(master, 100, prefix: "after");
        await replica.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal(fullBefore, ReplicationWait.Stat(master, "sync_full"));
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Replica_whose_dataset_was_wiped_gets_a_full_sync()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 100);
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal(0, replica.Stop());
        Directory.Delete(Path.Combine(replica.Directory, "data", "db"), recursive: true);
        await replica.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        Assert.Equal(2, ReplicationWait.Stat(master, "sync_full"));
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Node_with_a_different_history_gets_a_full_sync_and_loses_its_own_data()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 100);
        await using var other = await TalusProcess.LaunchAsync();
        WriteStrings(other, 50, prefix: "mine");
        using (var c = other.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", P(master.Port)).Text);
        }
        await ReplicationWait.WaitForSyncAsync(master, [other]);
        Assert.Equal(1, ReplicationWait.Stat(master, "sync_partial_err"));
        Assert.Equal(1, ReplicationWait.Stat(master, "sync_full"));
        AssertSameKeyspace(master, other);
    }

    [Fact]
    public async Task Replica_whose_offset_was_purged_from_the_binlog_gets_a_full_sync()
    {
        // A tiny write buffer and retention make flushed WAL files go quickly.
        string[] small = ["--rocksdb-write-buffer-size", "1mb", "--binlog-retention-seconds", "0", "--binlog-retention-size", "0", "--snapshot-reuse-seconds", "1"];
        await using var master = await TalusProcess.LaunchAsync(small);
        WriteStrings(master, 100);
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal(0, replica.Stop());
        // Wait for the master to release the snapshot's pin (the reuse window), then write well past retention.
        await Wait.UntilAsync(() => master.Info("replication")["talus_binlog_pins"] == "0", TimeSpan.FromSeconds(30), "snapshot pin released");
        var value = new string('x', 4000);
        using (var c = master.Client())
        {
            for (var i = 0; i < 3000; i++)
            {
                c.Send("SET", "big:" + i.ToString(CultureInfo.InvariantCulture), value);
            }
            for (var i = 0; i < 3000; i++)
            {
                c.Read();
            }
        }
        await replica.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.Equal(1, ReplicationWait.Stat(master, "sync_partial_err"));
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Promotion_keeps_history_so_re_pointed_replicas_continue_with_partial_syncs()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 200);
        await using var r1 = await StartReplicaAsync(master);
        await using var r2 = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [r1, r2]);
        var oldReplId = Repl(master)["master_replid"];
        master.Kill();

        using (var c = r1.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "NO", "ONE").Text);
        }
        var promoted = Repl(r1);
        Assert.Equal("master", promoted["role"]);
        Assert.Equal(oldReplId, promoted["master_replid2"]);
        Assert.NotEqual(oldReplId, promoted["master_replid"]);

        using (var c = r2.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", P(r1.Port)).Text);
        }
        WriteStrings(r1, 100, prefix: "new");
        await ReplicationWait.WaitForSyncAsync(r1, [r2]);
        Assert.Equal(1, ReplicationWait.Stat(r1, "sync_partial_ok"));
        Assert.Equal(0, ReplicationWait.Stat(r1, "sync_full"));
        AssertSameKeyspace(r1, r2);
    }

    [Fact]
    public async Task A_snapshot_made_before_two_history_switches_is_not_served_again()
    {
        // a makes a snapshot for b's full sync. Then a follows b (b promoted) and is promoted again, all within the
        // snapshot's reuse window: a's history is now two switches past the snapshot's lineage, which it can no
        // longer continue. b, which took writes a never saw, needs a full sync from a: it must get a new snapshot,
        // not the old one (loading it would end in "different history" and a new request for the same files).
        await using var a = await TalusProcess.LaunchAsync();
        WriteStrings(a, 100, prefix: "a");
        await using var b = await StartReplicaAsync(a);
        await ReplicationWait.WaitForSyncAsync(a, [b]);
        Assert.Equal(1, ReplicationWait.Stat(a, "sync_full"));

        using (var c = b.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "NO", "ONE").Text);
        }
        using (var c = a.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", P(b.Port)).Text);
        }
        WriteStrings(b, 50, prefix: "b1");
        await ReplicationWait.WaitForSyncAsync(b, [a]);
        using (var c = a.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "NO", "ONE").Text);
        }
        WriteStrings(b, 50, prefix: "b2"); // past a's switch offset: b must sync in full
        WriteStrings(a, 50, prefix: "a2");
        using (var c = b.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", P(a.Port)).Text);
        }
        await ReplicationWait.WaitForSyncAsync(a, [b], TimeSpan.FromSeconds(30));
        var link = Repl(b);
        Assert.True(link["talus_full_syncs"] == "1", string.Join(", ", link.Select(kv => $"{kv.Key}={kv.Value}")) + "\n" + b.ReadLog());
        Assert.Contains("can no longer be continued here", a.ReadLog(), StringComparison.Ordinal);
        AssertSameKeyspace(a, b);
    }

    [Fact]
    public async Task A_replica_sees_its_link_go_down_at_once_when_its_master_starts_following_another_node()
    {
        // a streams to b; then a follows c, whose history is another one, and takes c's dataset. b's link must
        // not stay "up" on a stream that no longer exists (until repl-timeout, 60 s): a closes it, as Redis
        // disconnects its replicas, and b's next handshake is refused (a is a replica now) and says why.
        await using var a = await TalusProcess.LaunchAsync();
        await using var c = await TalusProcess.LaunchAsync();
        WriteStrings(a, 20, prefix: "a");
        WriteStrings(c, 40, prefix: "c");
        await using var b = await StartReplicaAsync(a);
        await ReplicationWait.WaitForSyncAsync(a, [b]);
        Assert.Equal("up", Repl(b)["master_link_status"]);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var client = a.Client())
        {
            Assert.Equal("OK", client.Call("REPLICAOF", "127.0.0.1", P(c.Port)).Text);
        }
        await Wait.UntilAsync(() => Repl(b).GetValueOrDefault("master_link_status") == "down", TimeSpan.FromSeconds(10),
            "b to see its link to a go down");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        await Wait.UntilAsync(() => Repl(b).GetValueOrDefault("talus_repl_last_error", "").Contains("this node is a replica", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "b to be refused by a, now a replica");
        await ReplicationWait.WaitForSyncAsync(c, [a]);
        Assert.Equal("down", Repl(b)["master_link_status"]);
        Assert.Equal("slave", Repl(b)["role"]);
    }

    [Fact]
    public async Task A_master_the_machine_went_down_under_moves_its_history_on_and_a_replica_holding_its_lost_entries_syncs_in_full()
    {
        // A machine crash can cost a master the log entries it had not synced yet, which a replica had already
        // streamed. Simulated: the master's data directory goes back to a copy taken before those entries, with
        // the marker of a run that never closed on a machine with another boot id.
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 50, prefix: "kept");
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        var oldReplId = Repl(master)["master_replid"];
        master.Stop();
        var data = Path.Combine(master.Directory, "data");
        var synced = Path.Combine(master.Directory, "synced-copy");
        CopyDirectory(data, synced);
        var recoveredOffset = ulong.Parse(Repl(replica)["slave_repl_offset"], CultureInfo.InvariantCulture);

        await master.StartAsync();
        WriteStrings(master, 30, prefix: "lost");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        replica.Stop();
        master.Kill();
        Directory.Delete(data, recursive: true);
        CopyDirectory(synced, data);
        File.WriteAllText(Path.Combine(data, "talus.running"), "00000000-0000-0000-0000-000000000000\n");

        await master.StartAsync();
        var restarted = Repl(master);
        Assert.NotEqual(oldReplId, restarted["master_replid"]);
        Assert.Equal(oldReplId, restarted["master_replid2"]);
        Assert.Equal((recoveredOffset + 1).ToString(CultureInfo.InvariantCulture), restarted["second_repl_offset"]);
        Assert.Contains("the machine has restarted since", master.ReadLog(), StringComparison.Ordinal);
        // New writes take the offsets the replica holds other entries at; the replica must not continue past them.
        // One at a time, so that every offset starts a command, the one after the replica's included.
        using (var writer = master.Client())
        {
            for (var i = 0; i < 200; i++)
            {
                Assert.Equal("OK", writer.Call("SET", $"new:{i}", $"v{i}").Text);
            }
        }
        await replica.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [replica], TimeSpan.FromSeconds(30));
        Assert.Equal("1", Repl(replica)["talus_full_syncs"]);
        AssertSameKeyspace(master, replica);
        using var c = replica.Client();
        Assert.Equal(0, c.Call("EXISTS", "lost:0:1").Integer);

        // A clean stop leaves no marker: the next start continues the same history.
        var current = Repl(master)["master_replid"];
        master.Stop();
        Assert.False(File.Exists(Path.Combine(data, "talus.running")));
        await master.StartAsync();
        Assert.Equal(current, Repl(master)["master_replid"]);
    }

    [Fact]
    public async Task A_master_stopping_waits_for_its_replicas_to_acknowledge_its_last_write()
    {
        // Redis 7's shutdown-timeout. The replica reads through a proxy that holds the master's stream, so the
        // master cannot even send its last 20 MB of writes when it is told to stop.
        await using var master = await TalusProcess.LaunchAsync();
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await TalusProcess.LaunchAsync("--replicaof", "127.0.0.1", P(proxy.Port));
        WriteStrings(master, 10);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        proxy.Pause(ProxyDirection.ToClient);
        WriteBulk(master, 2000, 10_000);
        var stopping = Task.Run(() => master.Stop());
        await Wait.UntilAsync(() => master.ReadLog().Contains("Waiting for replicas before shutting down.", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the master to wait for its replica");
        proxy.Resume(ProxyDirection.ToClient);
        Assert.Equal(0, await stopping);
        Assert.DoesNotContain("Lagging replica", master.ReadLog(), StringComparison.Ordinal);
        using var c = replica.Client();
        Assert.Equal(2000 + 10, c.Call("DBSIZE").Integer);
    }

    [Fact]
    public async Task Shutdown_now_does_not_wait_and_a_lagging_replica_is_logged_when_the_time_is_up()
    {
        await using var master = await TalusProcess.LaunchAsync("--shutdown-timeout", "1");
        await using var proxy = FaultProxy.Start(master.Port);
        await using var replica = await TalusProcess.LaunchAsync("--replicaof", "127.0.0.1", P(proxy.Port));
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        proxy.Pause(ProxyDirection.ToClient);
        WriteStrings(master, 100);
        Assert.Equal(0, master.Stop());
        Assert.Contains("Lagging replica", master.ReadLog(), StringComparison.Ordinal);

        // SHUTDOWN NOW skips the wait altogether.
        await master.StartAsync();
        WriteStrings(master, 100, prefix: "again");
        using (var c = master.Client())
        {
            c.Send("SHUTDOWN", "NOW");
        }
        Assert.True(master.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.Equal(1, master.ReadLog().Split("Waiting for replicas before shutting down.").Length - 1);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    [Fact]
    public async Task After_a_promotion_a_replica_whose_offset_falls_inside_one_of_the_new_masters_batches_continues()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 50);
        await using var a = await StartReplicaAsync(master);
        await using var b = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [a, b]);

        // a misses 40 single-command batches and then catches up in one chunk, which it writes as one batch;
        // b stops after the first 20, so its offset ends a master batch but falls inside that one of a's.
        Assert.Equal(0, a.Stop());
        SetOneByOne(master, "first", 20);
        await ReplicationWait.WaitForSyncAsync(master, [b]);
        var offsetB = ReplicationWait.ReplicaOffset(b);
        Assert.Equal(0, b.Stop());
        SetOneByOne(master, "second", 20);
        await a.StartAsync();
        await ReplicationWait.WaitForSyncAsync(master, [a]);
        Assert.Equal(offsetB + 20, ReplicationWait.ReplicaOffset(a));

        using (var c = a.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "NO", "ONE").Text);
        }
        b.SetArguments(["--replicaof", "127.0.0.1", P(a.Port)]);
        await b.StartAsync();
        SetOneByOne(a, "new", 5);
        await ReplicationWait.WaitForSyncAsync(a, [b]);
        Assert.Equal(1, ReplicationWait.Stat(a, "sync_partial_ok"));
        Assert.Equal(0, ReplicationWait.Stat(a, "sync_full"));
        Assert.Equal("0", Repl(b)["talus_full_syncs"]);
        AssertSameKeyspace(a, b);
    }

    [Fact]
    public async Task A_watch_on_a_replica_is_broken_by_the_masters_writes_to_its_key_only()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await StartReplicaAsync(master);
        using var m = master.Client();
        m.Call("SET", "a", "1");
        m.Call("HSET", "h", "f", "1");
        m.Call("SET", "other", "1");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        using var c = replica.Client();

        // Each case: WATCH on the replica, a write on the master, then MULTI/GET/EXEC on the replica.
        async Task<RespReply> WatchThenExec(string watched, params string[] write)
        {
            Assert.Equal("OK", c.Call("WATCH", watched).Text);
            Assert.False(m.Call(write).IsError);
            await ReplicationWait.WaitForSyncAsync(master, [replica]);
            Assert.Equal("OK", c.Call("MULTI").Text);
            Assert.Equal("QUEUED", c.Call("GET", "other").Text);
            return c.Call("EXEC");
        }

        Assert.True((await WatchThenExec("a", "SET", "a", "2")).IsNull, "a string overwritten by the master");
        Assert.True((await WatchThenExec("h", "HSET", "h", "f", "2")).IsNull, "a hash field overwritten by the master");
        var untouched = await WatchThenExec("other", "SET", "a", "3");
        Assert.Equal("1", Assert.Single(untouched.Items!).Text);
        Assert.True((await WatchThenExec("other", "FLUSHALL")).IsNull, "FLUSHALL on the master");
        AssertSameKeyspace(master, replica);
    }

    /// <summary>One round trip per SET, so each is a batch of its own on <paramref name="server"/>.</summary>
    private static void SetOneByOne(ServerProcess server, string prefix, int count)
    {
        using var c = server.Client();
        for (var i = 0; i < count; i++)
        {
            Assert.Equal("OK", c.Call("SET", $"{prefix}:{i}", "v").Text);
        }
    }

    [Fact]
    public async Task Writes_to_a_replica_get_READONLY()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        using var c = replica.Client();
        Assert.Equal("READONLY You can't write against a read only replica.", c.Call("SET", "x", "1").Text);
        Assert.Equal("READONLY You can't write against a read only replica.", c.Call("FLUSHALL").Text);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Masteruser_is_sent_with_masterauth()
    {
        // Talus has one user, "default": AUTH default <password> passes, AUTH <other user> <password> does not, so
        // a replica that sent the password alone would sync with either setting.
        await using var master = await TalusProcess.LaunchAsync("--requirepass", "s3cret");
        await using var named = await StartReplicaAsync(master, "--masterauth", "s3cret", "--masteruser", "someone");
        await Wait.UntilAsync(() => Repl(named)["talus_repl_last_error"].Contains("WRONGPASS", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
            "the master to refuse AUTH someone <password>");
        Assert.Equal("down", Repl(named)["master_link_status"]);
        using (var c = named.Client())
        {
            Assert.Equal("OK", c.Call("CONFIG", "SET", "masteruser", "default").Text);
        }
        await Wait.UntilAsync(() => Repl(named)["master_link_status"] == "up", TimeSpan.FromSeconds(30), "link up as user default");
    }

    [Fact]
    public async Task Wrong_masterauth_is_a_clear_error_and_copies_no_data()
    {
        await using var master = await TalusProcess.LaunchAsync("--requirepass", "s3cret");
        using (var c = master.Client())
        {
            c.Call("AUTH", "s3cret");
            c.Call("SET", "secret-data", "1");
        }
        await using var replica = await StartReplicaAsync(master, "--masterauth", "wrong");
        await Wait.UntilAsync(() => Repl(replica)["talus_repl_last_error"].Contains("masterauth", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "masterauth error");
        Assert.Equal("down", Repl(replica)["master_link_status"]);
        Assert.Equal(0, KeyspaceComparer.CountKeys(replica));
        Assert.DoesNotContain("wrong", File.ReadAllText(replica.LogPath), StringComparison.Ordinal);

        using (var c = replica.Client())
        {
            Assert.Equal("OK", c.Call("CONFIG", "SET", "masterauth", "s3cret").Text);
        }
        await Wait.UntilAsync(() => Repl(replica)["master_link_status"] == "up", TimeSpan.FromSeconds(30), "link up after fixing masterauth");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        var diffs = KeyspaceComparer.Differences(master, replica, password: "s3cret");
        Assert.True(diffs.Count == 0, string.Join('\n', diffs));
        using var check = replica.Client();
        Assert.Equal("1", check.Call("GET", "secret-data").Text);
    }

    [Fact]
    public async Task Replicating_from_itself_or_forming_a_cycle_is_refused()
    {
        await using var a = await TalusProcess.LaunchAsync();
        await using var b = await StartReplicaAsync(a);
        await ReplicationWait.WaitForSyncAsync(a, [b]);
        using (var c = a.Client())
        {
            Assert.StartsWith("ERR Refused", c.Call("REPLICAOF", "127.0.0.1", P(a.Port)).Text, StringComparison.Ordinal);
            Assert.StartsWith("ERR Refused", c.Call("REPLICAOF", "127.0.0.1", P(b.Port)).Text, StringComparison.Ordinal);
        }
        Assert.Equal("master", Repl(a)["role"]);
        AssertSameKeyspace(a, b);
    }

    [Fact]
    public async Task Wait_counts_replicas_that_acknowledged_the_writes()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var r1 = await StartReplicaAsync(master);
        await using var r2 = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [r1, r2]);
        using var c = master.Client();
        c.Call("SET", "w", "1");
        Assert.Equal(2, c.Call("WAIT", "2", "5000").Integer);
        r2.Kill();
        c.Call("SET", "w", "2");
        var reply = c.Call("WAIT", "2", "300");
        Assert.Equal(1, reply.Integer);
        AssertSameKeyspace(master, r1);
    }

    /// <summary>
    /// A replica's list cache stays exact under the master's stream: after each write, once the offsets meet, the
    /// replica's reads (made twice, so the second may be answered from its cache) equal those of the master, which
    /// runs without a list cache.
    /// </summary>
    [Fact]
    public async Task A_replica_reads_every_streamed_write_of_a_cached_list_as_the_master_does()
    {
        await using var master = await TalusProcess.LaunchAsync("--list-cache-size", "0");
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        using var m = master.Client();
        using var r = replica.Client();
        string[][] writes =
        [
            ["RPUSH", "l", "a", "b", "c", "d", "e"], ["LSET", "l", "1", "B"], ["LPUSH", "l", "h"], ["RPOP", "l"],
            ["LINSERT", "l", "BEFORE", "c", "x"], ["LREM", "l", "1", "x"], ["LTRIM", "l", "1", "-1"], ["LSET", "l", "-1", "z"],
            ["EXPIRE", "l", "1000"], ["DEL", "l"], ["RPUSH", "l", "n"], ["FLUSHALL"], ["RPUSH", "l", "last", "one"],
        ];
        var hitsBefore = long.Parse(replica.Info("stats")["talus_list_cache_hits"], CultureInfo.InvariantCulture);
        foreach (var write in writes)
        {
            m.Call(write);
            await ReplicationWait.WaitForSyncAsync(master, [replica]);
            var expected = m.Call("LRANGE", "l", "0", "-1").ToString();
            Assert.Equal(expected, r.Call("LRANGE", "l", "0", "-1").ToString());
            Assert.Equal(expected, r.Call("LRANGE", "l", "0", "-1").ToString());
        }
        var hits = long.Parse(replica.Info("stats")["talus_list_cache_hits"], CultureInfo.InvariantCulture) - hitsBefore;
        Assert.True(hits >= 8, $"{hits} reads answered by the replica's list cache");
        AssertSameKeyspace(master, replica);
    }
}
