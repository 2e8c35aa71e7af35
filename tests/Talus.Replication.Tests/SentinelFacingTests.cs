using System.Globalization;
using Talus.TestKit;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>
/// What Redis Sentinel reads and sends, checked against a real redis-server where Redis has an answer:
/// INFO replication of a master and of a replica, replica-priority and rule 8's priority 0 while a replica has
/// no lineage, replica-announce-ip/port, SCRIPT KILL, CLIENT KILL TYPE, ROLE, and CONFIG REWRITE keeping replicaof.
/// </summary>
public class SentinelFacingTests
{
    private static List<string> ReplicationFieldNames(ServerProcess server) =>
        server.Client().Call("INFO", "replication").Text!.Split("\r\n")
            .Where(l => l.Contains(':') && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2)[0])
            .Where(f => !f.StartsWith("talus_", StringComparison.Ordinal))
            .ToList();

    private static List<string> SlaveLineKeys(string line) => line.Split(',').Select(p => p.Split('=', 2)[0]).ToList();

    [Fact]
    public async Task Info_replication_has_redis_fields_in_redis_order_on_master_and_replica()
    {
        Assert.True(RedisProcess.IsAvailable, "redis-server is not installed");
        await using var redisMaster = await RedisProcess.LaunchAsync();
        await using var redisReplica = await RedisProcess.LaunchAsync("--replicaof", "127.0.0.1", P(redisMaster.Port));
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await StartReplicaAsync(master);
        using (var c = redisMaster.Client())
        {
            c.Call("SET", "k", "v");
        }
        WriteStrings(master, 10);
        await Wait.UntilAsync(() => Repl(redisReplica)["master_link_status"] == "up" && Repl(redisMaster).GetValueOrDefault("slave0", "").Contains("state=online", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "redis replica online");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);

        Assert.Equal(ReplicationFieldNames(redisReplica), ReplicationFieldNames(replica));
        Assert.Equal(ReplicationFieldNames(redisMaster), ReplicationFieldNames(master));

        // slaveN: the keys Sentinel parses, the replica's listening port, state online.
        var redisSlave = Repl(redisMaster)["slave0"];
        await Wait.UntilAsync(() => Repl(master)["slave0"].Contains("state=online", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "talus replica online");
        var talusSlave = Repl(master)["slave0"];
        Assert.Equal(SlaveLineKeys(redisSlave), SlaveLineKeys(talusSlave));
        Assert.StartsWith($"ip=127.0.0.1,port={replica.Port},state=online,offset={ReplicationWait.MasterOffset(master)},lag=", talusSlave, StringComparison.Ordinal);

        // The backlog is the WAL still held, up to the node's offset: on the master it holds every write made
        // (a replica's may begin only after the snapshot it was synced from, or be empty).
        foreach (var node in new[] { master, replica })
        {
            var info = Repl(node);
            var offset = long.Parse(info["master_repl_offset"], CultureInfo.InvariantCulture);
            var first = long.Parse(info["repl_backlog_first_byte_offset"], CultureInfo.InvariantCulture);
            Assert.InRange(first, 1, node == master ? 1 : offset + 1);
            Assert.Equal(offset - first + 1, long.Parse(info["repl_backlog_histlen"], CultureInfo.InvariantCulture));
        }
        Assert.True(long.Parse(Repl(master)["talus_binlog_bytes"], CultureInfo.InvariantCulture) > 0);

        // run_id: 40 hex characters, as Sentinel checks before it accepts an instance's INFO.
        Assert.Matches("^[0-9a-f]{40}$", master.Info("server")["run_id"]);
        Assert.Equal("100", Repl(replica)["slave_priority"]);
        Assert.Equal("1", Repl(replica)["replica_announced"]);
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Replica_priority_and_announce_settings_reach_info_under_both_names()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await StartReplicaAsync(master, "--replica-announce-ip", "127.0.0.9", "--slave-announce-port", "7777");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        Assert.StartsWith("ip=127.0.0.9,port=7777,", Repl(master)["slave0"], StringComparison.Ordinal);

        using (var c = replica.Client())
        {
            Assert.Equal("OK", c.Call("CONFIG", "SET", "slave-priority", "42").Text);
            Assert.Equal("42", Repl(replica)["slave_priority"]);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "replica-priority", "0").Text);
            Assert.Equal("0", Repl(replica)["slave_priority"]);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "replica-announced", "no").Text);
            Assert.Equal("0", Repl(replica)["replica_announced"]);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "replica-announce-ip", "", "replica-announce-port", "0").Text);
        }
        // The announced address is given at each handshake: a new one after the link restarts.
        using (var c = master.Client())
        {
            Assert.True(c.Call("CLIENT", "KILL", "TYPE", "replica").Integer > 0, "the replica's connections were killed");
        }
        await Wait.UntilAsync(() => Repl(master).GetValueOrDefault("slave0", "").StartsWith($"ip=127.0.0.1,port={replica.Port},state=online", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "replica back with its own address");
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Replica_mid_full_sync_reports_priority_zero_until_its_dataset_has_lineage()
    {
        await using var master = await TalusProcess.LaunchAsync("--full-sync-throttle-bytes-per-second", "400kb");
        WriteIncompressible(master, 2500, 1000);
        await using var replica = await StartReplicaAsync(master, "--replica-priority", "7");
        await Wait.UntilAsync(() => Repl(replica)["master_sync_in_progress"] == "1", TimeSpan.FromSeconds(30), "full sync in progress");
        var during = Repl(replica);
        Assert.Equal("none", during["talus_dataset_lineage"]);
        Assert.Equal("0", during["slave_priority"]);
        Assert.Equal("down", during["master_link_status"]);
        Assert.True(during.ContainsKey("master_link_down_since_seconds"));
        await ReplicationWait.WaitForSyncAsync(master, [replica], TimeSpan.FromSeconds(60));
        Assert.Equal("7", Repl(replica)["slave_priority"]);
        Assert.False(Repl(replica).ContainsKey("master_link_down_since_seconds"));
        AssertSameKeyspace(master, replica);
    }

    [Fact]
    public async Task Commands_sentinel_sends_answer_as_redis_does()
    {
        Assert.True(RedisProcess.IsAvailable, "redis-server is not installed");
        await using var redis = await RedisProcess.LaunchAsync();
        await using var talus = await TalusProcess.LaunchAsync();
        using var r = redis.Client();
        using var t = talus.Client();
        // The launcher's PING probe has closed its socket, but its connection may still be registered for a
        // moment (it can be served by the other socket event thread); CLIENT KILL would count it.
        await Wait.UntilAsync(() => t.Call("CLIENT", "LIST").Text!.Trim().Split('\n').Length == 1, TimeSpan.FromSeconds(10), "the launcher's probe connection to be gone");
        string[][] commands =
        [
            ["CLIENT", "SETNAME", "sentinel-0123abcd-cmd"],
            ["PING"],
            ["SCRIPT", "KILL"],
            ["CLIENT", "KILL", "TYPE", "pubsub"],
            ["CLIENT", "KILL", "TYPE", "normal"],
            ["SCRIPT", "KILL", "now"],
        ];
        foreach (var command in commands)
        {
            var expected = r.Call(command);
            var actual = t.Call(command);
            Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"{string.Join(' ', command)}\n  redis: {expected}\n  talus: {actual}");
        }
        // ROLE: the same shape (the offsets differ: a Talus dataset starts with its lineage batch).
        var redisRole = r.Call("ROLE");
        var talusRole = t.Call("ROLE");
        Assert.Equal(redisRole.Items!.Select(i => i.Type), talusRole.Items!.Select(i => i.Type));
        Assert.Equal("master", talusRole.Items![0].Text);
        Assert.Empty(talusRole.Items[2].Items!);
    }

    [Fact]
    public async Task Config_rewrite_keeps_replicaof_across_a_restart()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 50);
        using var confDir = new TempDirectory("talus-conf");
        var conf = Path.Combine(confDir.Path, "replica.conf");
        File.WriteAllText(conf, "# written by the test\nreplica-priority 50\n");
        await using var node = await TalusProcess.LaunchAsync("--config", conf);
        var replicaOf = $"replicaof 127.0.0.1 {P(master.Port)}";
        using (var c = node.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", P(master.Port)).Text);
            Assert.Equal("OK", c.Call("CONFIG", "REWRITE").Text);
        }
        Assert.Contains(replicaOf, File.ReadAllLines(conf));
        await ReplicationWait.WaitForSyncAsync(master, [node]);

        Assert.Equal(0, node.Stop());
        WriteStrings(master, 50, prefix: "while-down");
        await node.StartAsync();
        var info = Repl(node);
        Assert.Equal("slave", info["role"]);
        Assert.Equal(P(master.Port), info["master_port"]);
        await ReplicationWait.WaitForSyncAsync(master, [node]);
        AssertSameKeyspace(master, node);

        using (var c = node.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "NO", "ONE").Text);
            Assert.Equal("OK", c.Call("CONFIG", "REWRITE").Text);
        }
        Assert.DoesNotContain(File.ReadAllLines(conf), l => l.StartsWith("replicaof", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("replica-priority 50", File.ReadAllLines(conf));
        Assert.Equal(0, node.Stop());
        await node.StartAsync();
        Assert.Equal("master", Repl(node)["role"]);
        AssertSameKeyspace(master, node);
    }
}
