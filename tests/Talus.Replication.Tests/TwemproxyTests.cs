using System.Diagnostics;
using System.Globalization;
using Talus.TestKit;
using Xunit.Abstractions;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>
/// Sharding with a real twemproxy (nutcracker) in front of two Talus shards, each with a Talus replica, using
/// conf/examples/nutcracker.yml (the file docs/operations.md quotes).
/// </summary>
public class TwemproxyTests(ITestOutputHelper output)
{
    private const int KeyCount = 100_000;
    private const int Batch = 1000;

    [Fact]
    public async Task Keys_written_through_the_proxy_land_on_exactly_one_shard_and_its_replica()
    {
        Assert.True(NutcrackerProcess.IsAvailable, "nutcracker is not installed (./test installs it)");
        var shards = await Task.WhenAll(TalusProcess.LaunchAsync(), TalusProcess.LaunchAsync());
        await using var shard1 = shards[0];
        await using var shard2 = shards[1];
        var replicas = await Task.WhenAll(StartReplicaAsync(shard1), StartReplicaAsync(shard2));
        await using var replica1 = replicas[0];
        await using var replica2 = replicas[1];
        using var dir = new TempDirectory("nutcracker");
        var proxyPort = FreePort.Next();
        var config = ExampleConfig.WriteFilled("nutcracker.yml", new Dictionary<string, string>
        {
            ["PROXY_PORT"] = P(proxyPort),
            ["SHARD1_HOST"] = "127.0.0.1",
            ["SHARD1_PORT"] = P(shard1.Port),
            ["SHARD2_HOST"] = "127.0.0.1",
            ["SHARD2_PORT"] = P(shard2.Port),
        }, Path.Combine(dir.Path, "nutcracker.yml"));
        Assert.Null(NutcrackerProcess.TestConfig(config));
        await using var proxy = await NutcrackerProcess.LaunchAsync(dir.Path, proxyPort, config);
        await ReplicationWait.WaitForSyncAsync(shard1, [replica1]);
        await ReplicationWait.WaitForSyncAsync(shard2, [replica2]);

        var clock = Stopwatch.StartNew();
        using (var c = proxy.Client())
        {
            for (var start = 0; start < KeyCount; start += Batch)
            {
                for (var i = start; i < start + Batch; i++)
                {
                    c.Send("SET", Key(i), Value(i));
                }
                for (var i = start; i < start + Batch; i++)
                {
                    var reply = c.Read();
                    Assert.True(reply.Text == "OK", $"SET {Key(i)} through the proxy: {reply}");
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"writing {KeyCount} keys took too long ({start} done)");
            }
        }
        var written = clock.Elapsed;

        // Read back through the proxy with MGET, which nutcracker splits across the shards and merges.
        using (var c = proxy.Client())
        {
            const int perMget = 100;
            for (var start = 0; start < KeyCount; start += Batch)
            {
                for (var i = start; i < start + Batch; i += perMget)
                {
                    c.Send(["MGET", .. Enumerable.Range(i, perMget).Select(Key)]);
                }
                for (var i = start; i < start + Batch; i += perMget)
                {
                    var reply = c.Read();
                    Assert.True(reply.Items is { Count: perMget }, $"MGET from {Key(i)}: {reply}");
                    for (var j = 0; j < perMget; j++)
                    {
                        Assert.Equal(Value(i + j), reply.Items[j].Text);
                    }
                }
            }
        }
        var read = clock.Elapsed - written;

        var on1 = KeysOf(shard1);
        var on2 = KeysOf(shard2);
        Assert.Empty(on1.Intersect(on2));
        Assert.Equal(KeyCount, on1.Count + on2.Count);
        Assert.True(Enumerable.Range(0, KeyCount).All(i => on1.Contains(Key(i)) || on2.Contains(Key(i))), "a key written through the proxy is on neither shard");
        // ketama over two equal shards: each gets a fair share, not everything.
        Assert.InRange(on1.Count, KeyCount / 5, KeyCount * 4 / 5);

        await ReplicationWait.WaitForSyncAsync(shard1, [replica1]);
        await ReplicationWait.WaitForSyncAsync(shard2, [replica2]);
        // Key by key on each replica: exactly its shard's keys, each with the value written through the proxy.
        // (Faster than the generic comparer for 100,000 plain strings: one SCAN and pipelined MGETs.)
        AssertHoldsExactly(replica1, on1);
        AssertHoldsExactly(replica2, on2);
        output.WriteLine($"{KeyCount} keys through nutcracker: written in {written.TotalSeconds:0.0}s, read back (MGET) in {read.TotalSeconds:0.0}s; shard1 {on1.Count}, shard2 {on2.Count}; both replicas equal their shard key by key");
    }

    private static void AssertHoldsExactly(ServerProcess replica, HashSet<string> expected)
    {
        var keys = KeysOf(replica);
        Assert.True(keys.SetEquals(expected), $"replica {replica.Endpoint}: {keys.Except(expected).Count()} keys its shard lacks, {expected.Except(keys).Count()} missing");
        var ordered = expected.ToList();
        using var c = replica.Client();
        const int perMget = 500;
        for (var start = 0; start < ordered.Count; start += perMget * 10)
        {
            var sent = new List<List<string>>();
            for (var i = start; i < Math.Min(ordered.Count, start + perMget * 10); i += perMget)
            {
                var chunk = ordered.GetRange(i, Math.Min(perMget, ordered.Count - i));
                c.Send(["MGET", .. chunk]);
                sent.Add(chunk);
            }
            foreach (var chunk in sent)
            {
                var reply = c.Read();
                for (var j = 0; j < chunk.Count; j++)
                {
                    var i = int.Parse(chunk[j].AsSpan("user:".Length), CultureInfo.InvariantCulture);
                    Assert.True(Value(i) == reply.Items![j].Text, $"replica {replica.Endpoint}: {chunk[j]} = {reply.Items[j]}, expected {Value(i)}");
                }
            }
        }
    }

    private static string Key(int i) => "user:" + i.ToString(CultureInfo.InvariantCulture);

    private static string Value(int i) => "v" + (i * 7919L).ToString(CultureInfo.InvariantCulture);

    private static HashSet<string> KeysOf(ServerProcess shard)
    {
        using var c = shard.Client();
        var keys = new HashSet<string>();
        var cursor = "0";
        do
        {
            var reply = c.Call("SCAN", cursor, "COUNT", "2000");
            cursor = reply.Items![0].Text!;
            foreach (var k in reply.Items[1].Items!)
            {
                keys.Add(k.Text!);
            }
        }
        while (cursor != "0");
        return keys;
    }
}
