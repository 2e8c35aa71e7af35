using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// Pipelined read-modify-write commands (LPUSH, SADD, HSET, ZADD, INCR ...) are committed as one batch per
/// read buffer, holding their keys' stripes until then. A client must not be able to tell: replies keep their
/// order and values (compared with redis-server), a later command sees an earlier one's write, concurrent
/// pipelines on shared keys lose nothing and never wait on each other for good, and an acknowledged write
/// survives kill -9.
/// </summary>
public class PipelineReadModifyWriteTests
{
    private static readonly string[] Keys = ["a", "b", "c"];

    [Fact]
    public async Task Random_pipelines_of_read_modify_write_commands_match_redis_reply_by_reply()
    {
        const int seed = 20261204;
        var random = new Random(seed);
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var compared = 0;
        for (var round = 0; round < 300; round++)
        {
            var pipeline = Enumerable.Range(0, random.Next(1, 60)).Select(_ => RandomCommand(random)).ToArray();
            compared += CompareReplies(r, t, pipeline, $"seed {seed}, round {round}");
        }
        Assert.True(compared > 5000, $"only {compared} replies compared");
    }

    [Fact]
    public async Task Pipelines_of_pops_from_long_lists_match_redis_reply_by_reply()
    {
        // Pops from both ends of lists longer than one read-ahead, mixed with LSET near the ends, pushes and
        // LINDEX in the same pipelines: each group reads the elements it pops ahead, and must still see its own
        // writes first.
        const int seed = 20261205;
        var random = new Random(seed);
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var next = 0;
        string[] Fill(string key) => ["RPUSH", key, .. Enumerable.Range(0, 300).Select(_ => "e" + next++)];
        var compared = 0;
        for (var round = 0; round < 80; round++)
        {
            var pipeline = new List<string[]>();
            if (round % 20 == 0)
            {
                pipeline.Add(Fill("la"));
                pipeline.Add(Fill("lb"));
            }
            for (var i = random.Next(1, 80); i > 0; i--)
            {
                var key = random.Next(4) == 0 ? "lb" : "la";
                var end = random.Next(3);
                var offset = random.Next(20).ToString(CultureInfo.InvariantCulture);
                pipeline.Add(random.Next(12) switch
                {
                    < 6 => [end == 0 ? "RPOP" : "LPOP", key],
                    6 => ["LSET", key, end == 0 ? "-" + (random.Next(20) + 1) : offset, "s" + next++],
                    7 => ["LPUSH", key, "p" + next++],
                    8 => ["RPUSH", key, "p" + next++],
                    9 => ["LINDEX", key, offset],
                    10 => ["LLEN", key],
                    _ => ["LPOP", key, "2"],
                });
            }
            compared += CompareReplies(r, t, pipeline.ToArray(), $"seed {seed}, round {round}");
        }
        Assert.Equal(r.Call("LRANGE", "la", "0", "-1").ToString(), t.Call("LRANGE", "la", "0", "-1").ToString());
        Assert.Equal(r.Call("LRANGE", "lb", "0", "-1").ToString(), t.Call("LRANGE", "lb", "0", "-1").ToString());
        Assert.True(compared > 2000, $"only {compared} replies compared");
    }

    [Fact]
    public async Task Concurrent_pipelines_on_shared_keys_lose_no_update_and_never_deadlock()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int clients = 12, rounds = 150, depth = 24;
        // Each client touches the shared keys in its own rotating order, so two pipelines often want each
        // other's keys; a group that finds a key busy must commit and wait with nothing held.
        string[] shared = ["list", "counter", "hash", "set", "zset"];
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Factory.StartNew(() =>
        {
            using var c = new RespClient(server.Port, timeoutMs: 20_000);
            for (var round = 0; round < rounds; round++)
            {
                var pipeline = Enumerable.Range(0, depth).Select(i => shared[(client + round + i) % shared.Length] switch
                {
                    "list" => i % 2 == 0 ? new[] { "RPUSH", "list", $"{client}" } : ["LPUSH", "list", $"{client}"],
                    "counter" => ["INCR", "counter"],
                    "hash" => ["HINCRBY", "hash", $"f{client % 3}", "1"],
                    "set" => ["SADD", "set", $"{client}:{round}:{i}"],
                    _ => ["ZINCRBY", "zset", "1", $"m{client % 4}"],
                }).ToArray();
                Assert.All(c.CallPipelined(pipeline), reply => Assert.False(reply.IsError, reply.ToString()));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        var all = Task.WhenAll(tasks);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(120))));
        await all;

        var perKey = clients * rounds * depth / shared.Length;
        using var check = server.Client();
        Assert.Equal(perKey, check.Call("LLEN", "list").Integer);
        Assert.Equal(perKey.ToString(CultureInfo.InvariantCulture), check.Call("GET", "counter").Text);
        var hashTotal = Enumerable.Range(0, 3).Sum(f => long.Parse(check.Call("HGET", "hash", $"f{f}").Text!, CultureInfo.InvariantCulture));
        Assert.Equal(perKey, hashTotal);
        Assert.Equal(perKey, check.Call("SCARD", "set").Integer);
        var zsetTotal = Enumerable.Range(0, 4).Sum(m => double.Parse(check.Call("ZSCORE", "zset", $"m{m}").Text!, CultureInfo.InvariantCulture));
        Assert.Equal(perKey, zsetTotal);
    }

    [Fact]
    public async Task Clients_that_send_ahead_of_their_replies_get_them_all_while_others_queue_writes_of_the_same_keys()
    {
        // A connection whose queued writes the committer wrote may send their replies from the committer's thread.
        // Commands it had already read then run elsewhere: INCR k, or a group taking k's stripe, waits for the SET
        // groups of k that others queued, which on the committer's thread would be a wait for itself.
        await using var server = await TalusProcess.LaunchAsync();
        const int clients = 8, rounds = 400;
        string[][] Round(int client, int round) =>
        [
            ["SET", "k", $"{client}"],
            ["SET", $"own{client}", $"{round}"],
            ["INCR", "k"],
            ["SADD", "s", $"{client}:{round}"],
            ["HINCRBY", "h", $"f{client}", "1"],
        ];
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Factory.StartNew(() =>
        {
            using var c = new RespClient(server.Port, timeoutMs: 30_000);
            // Everything is sent before the first reply is read, so each read of the server finds more commands
            // behind the ones whose writes it queued.
            var sender = Task.Factory.StartNew(() =>
            {
                for (var round = 0; round < rounds; round++)
                {
                    c.SendRaw(Round(client, round).SelectMany(command => RespClient.Encode([.. command.Select(System.Text.Encoding.ASCII.GetBytes)])).ToArray());
                }
            }, TaskCreationOptions.LongRunning);
            for (var round = 0; round < rounds; round++)
            {
                var replies = Round(client, round).Select(_ => c.Read()).ToArray();
                Assert.All(replies, reply => Assert.False(reply.IsError, reply.ToString()));
                Assert.Equal(round + 1, replies[4].Integer);
            }
            sender.Wait();
        }, TaskCreationOptions.LongRunning)).ToArray();
        var all = Task.WhenAll(tasks);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(90))));
        await all;
        using var check = server.Client();
        Assert.Equal(clients * rounds, check.Call("SCARD", "s").Integer);
        for (var client = 0; client < clients; client++)
        {
            Assert.Equal($"{rounds - 1}", check.Call("GET", $"own{client}").Text);
        }
    }

    [Fact]
    public async Task A_pipeline_of_writes_is_written_by_the_committer_and_a_pipeline_of_pops_is_not()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        long Groups() => long.Parse(server.Info("persistence")["talus_commit_queue_groups"], CultureInfo.InvariantCulture);
        Assert.Equal(0, Groups());

        var hsets = Enumerable.Range(0, 16).Select(i => new[] { "HSET", "h", $"f{i}", $"v{i}" }).ToArray();
        Assert.All(c.CallPipelined(hsets), reply => Assert.Equal(1, reply.Integer));
        var afterHashes = Groups();
        Assert.InRange(afterHashes, 1, 2);
        Assert.Equal(16, c.Call("HLEN", "h").Integer);

        var pushes = Enumerable.Range(0, 16).Select(i => new[] { "RPUSH", "l", $"e{i}" }).ToArray();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), c.CallPipelined(pushes).Select(r => r.Integer));
        var afterPushes = Groups();
        Assert.InRange(afterPushes, afterHashes + 1, afterHashes + 2);

        // Pops rewrite only the list's metadata: the hand-off would cost more than the write.
        var pops = Enumerable.Range(0, 16).Select(_ => new[] { "LPOP", "l" }).ToArray();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"e{i}"), c.CallPipelined(pops).Select(r => r.Text));
        Assert.Equal(afterPushes, Groups());
        Assert.Equal("0", server.Info("persistence")["talus_commit_queue_length"]);
    }

    [Fact]
    public async Task A_pipeline_that_writes_one_element_among_unchanged_ones_is_written_by_the_committer_and_one_of_counters_is_not()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        long Groups() => long.Parse(server.Info("persistence")["talus_commit_queue_groups"], CultureInfo.InvariantCulture);
        var members = Enumerable.Range(0, 15).Select(i => $"m{i}").ToArray();
        Assert.Equal(15, c.Call(["SADD", "s", .. members]).Integer);
        var before = Groups();

        // Fifteen members already there and one new: two records (the member and the metadata) for sixteen commands,
        // but one of them an element.
        var adds = members.Append("new").Select(m => new[] { "SADD", "s", m }).ToArray();
        Assert.Equal(Enumerable.Repeat(0L, 15).Append(1L), c.CallPipelined(adds).Select(r => r.Integer));
        var afterAdds = Groups();
        Assert.InRange(afterAdds, before + 1, before + 2);
        Assert.Equal(16, c.Call("SCARD", "s").Integer);
        Assert.Equal(1, c.Call("SISMEMBER", "s", "new").Integer);

        // Counters rewrite only their key's record, in the metadata family: written on the connection's thread.
        var increments = Enumerable.Range(0, 16).Select(_ => new[] { "INCR", "n" }).ToArray();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), c.CallPipelined(increments).Select(r => r.Integer));
        Assert.Equal(afterAdds, Groups());
        Assert.Equal("0", server.Info("persistence")["talus_commit_queue_length"]);
    }

    [Fact]
    public async Task Connections_that_find_a_hot_key_held_give_way_and_keep_their_replies_in_order()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int clients = 10, rounds = 120, repeats = 4;
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Factory.StartNew(() =>
        {
            using var c = new RespClient(server.Port, timeoutMs: 20_000);
            long lastHot = 0, lastField = 0, own = 0;
            for (var round = 0; round < rounds; round++)
            {
                var pipeline = new List<string[]>();
                for (var i = 0; i < repeats; i++)
                {
                    pipeline.Add(["SET", $"own:{client}", $"{round}.{i}"]);
                    pipeline.Add(["INCR", "hot"]);
                    pipeline.Add(["LPUSH", "hotlist", $"{client}:{round}:{i}"]);
                    pipeline.Add(["GET", $"own:{client}"]);
                    pipeline.Add(["HINCRBY", "hothash", "f", "1"]);
                    pipeline.Add(["INCR", $"own-counter:{client}"]);
                }
                var replies = c.CallPipelined(pipeline);
                for (var i = 0; i < repeats; i++)
                {
                    var at = i * 6;
                    Assert.Equal("OK", replies[at].Text);
                    // Another connection's INCRs may come in between, never one of this connection's later ones.
                    var hot = replies[at + 1].Integer;
                    Assert.True(hot > lastHot, $"client {client}: INCR hot answered {hot} after {lastHot}");
                    lastHot = hot;
                    Assert.False(replies[at + 2].IsError, replies[at + 2].ToString());
                    // The command after one that gave way still sees the writes before it.
                    Assert.Equal($"{round}.{i}", replies[at + 3].Text);
                    var field = replies[at + 4].Integer;
                    Assert.True(field > lastField, $"client {client}: HINCRBY answered {field} after {lastField}");
                    lastField = field;
                    Assert.Equal(++own, replies[at + 5].Integer);
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        var all = Task.WhenAll(tasks);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(120))));
        await all;

        var total = clients * rounds * repeats;
        using var check = server.Client();
        Assert.Equal(total.ToString(CultureInfo.InvariantCulture), check.Call("GET", "hot").Text);
        Assert.Equal(total, check.Call("LLEN", "hotlist").Integer);
        Assert.Equal(total.ToString(CultureInfo.InvariantCulture), check.Call("HGET", "hothash", "f").Text);
        // With more than one core the server runs more than one event thread, and ten connections writing one
        // key from both meet: some commands gave way (the path under test ran).
        var waits = long.Parse(server.Info("stats")["talus_key_waits"], CultureInfo.InvariantCulture);
        if (Environment.ProcessorCount > 1)
        {
            Assert.True(waits > 0, "no command gave way to a held key");
        }
    }

    [Fact]
    public async Task A_client_that_stops_reading_while_queued_for_a_hot_key_does_not_hold_up_the_others()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using (var setup = server.Client())
        {
            Assert.Equal("OK", setup.Call("SET", "big", new string('x', 200 * 1024)).Text);
        }
        // The slow client asks for big replies it never reads, each followed by a push to the hot key (200 KB,
        // under the 256 KB that flushes mid-read, so a reply and the push that gives way meet in one read): once
        // its socket is full, its loop waits on a flush right after such a push gave way to the others.
        using var slow = new RespClient(server.Port);
        var slowPipeline = new List<byte[]>();
        for (var i = 0; i < 200; i++)
        {
            slowPipeline.Add(RespClient.Encode([.. new[] { "GET", "big" }.Select(System.Text.Encoding.ASCII.GetBytes)]));
            slowPipeline.Add(RespClient.Encode([.. new[] { "LPUSH", "hot", "slow" }.Select(System.Text.Encoding.ASCII.GetBytes)]));
        }
        var sender = Task.Factory.StartNew(() =>
        {
            try
            {
                slow.SendRaw(slowPipeline.SelectMany(b => b).ToArray());
            }
            catch (IOException)
            {
                // The server's buffers filled up too; what was sent is enough.
            }
        }, TaskCreationOptions.LongRunning);

        const int clients = 5, rounds = 300, depth = 16;
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Factory.StartNew(() =>
        {
            using var c = new RespClient(server.Port, timeoutMs: 30_000);
            var pipeline = Enumerable.Range(0, depth).Select(i => new[] { "LPUSH", "hot", $"{client}" }).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                Assert.All(c.CallPipelined(pipeline), reply => Assert.False(reply.IsError, reply.ToString()));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        var all = Task.WhenAll(tasks);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60))));
        await all;
        using var check = server.Client();
        Assert.True(check.Call("LLEN", "hot").Integer >= clients * rounds * depth);
        slow.Dispose();
        await Task.WhenAny(sender, Task.Delay(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Acknowledged_pipelined_pushes_and_increments_survive_kill_9()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int batches = 20, depth = 40;
        using (var c = server.Client())
        {
            for (var b = 0; b < batches; b++)
            {
                var pipeline = Enumerable.Range(0, depth)
                    .Select(i => i % 2 == 0 ? new[] { "RPUSH", "log", $"{b}:{i}" } : ["HINCRBY", "counts", $"batch{b}", "1"])
                    .ToArray();
                Assert.All(c.CallPipelined(pipeline), reply => Assert.False(reply.IsError, reply.ToString()));
            }
        }
        server.Kill();
        await server.StartAsync();
        using var after = server.Client();
        var log = after.Call("LRANGE", "log", "0", "-1").Items!.Select(i => i.Text).ToArray();
        var expected = Enumerable.Range(0, batches).SelectMany(b => Enumerable.Range(0, depth).Where(i => i % 2 == 0).Select(i => $"{b}:{i}")).ToArray();
        Assert.Equal(expected, log);
        for (var b = 0; b < batches; b++)
        {
            Assert.Equal((depth / 2).ToString(CultureInfo.InvariantCulture), after.Call("HGET", "counts", $"batch{b}").Text);
        }
    }

    /// <summary>Sends one pipeline to both servers and compares the replies byte for byte; returns how many.</summary>
    private static int CompareReplies(RespClient redis, RespClient talus, string[][] pipeline, string where)
    {
        var expected = redis.CallPipelined(pipeline);
        var actual = talus.CallPipelined(pipeline);
        for (var i = 0; i < pipeline.Length; i++)
        {
            Assert.True(expected[i].Raw.SequenceEqual(actual[i].Raw),
                $"{where}, reply {i} to {string.Join(' ', pipeline[i])}: redis {expected[i]}, talus {actual[i]}");
        }
        return pipeline.Length;
    }

    private static string[] RandomCommand(Random random)
    {
        var key = Keys[random.Next(Keys.Length)];
        var member = "m" + random.Next(6);
        var number = random.Next(-5, 20).ToString(CultureInfo.InvariantCulture);
        return random.Next(26) switch
        {
            0 => ["LPUSH", key, member, "x" + number],
            1 => ["RPUSH", key, member],
            2 => ["LPOP", key],
            3 => ["RPOP", key, "2"],
            4 => ["LRANGE", key, "0", "-1"],
            5 => ["SADD", key, member, "m" + random.Next(6)],
            6 => ["SREM", key, member],
            7 => ["SISMEMBER", key, member],
            8 => ["SCARD", key],
            9 => ["HSET", key, member, number],
            10 => ["HDEL", key, member],
            11 => ["HINCRBY", key, member, number],
            12 => ["HGET", key, member],
            13 => ["HMSET", key, member, number, "m9", "v"],
            14 => ["ZADD", key, number, member],
            15 => ["ZINCRBY", key, number, member],
            16 => ["ZREM", key, member],
            17 => ["ZRANGE", key, "0", "-1", "WITHSCORES"],
            18 => ["INCR", key],
            19 => ["INCRBY", key, number],
            20 => ["APPEND", key, number],
            21 => ["SET", key, number],
            22 => ["GET", key],
            23 => ["TYPE", key],
            24 => ["DEL", key],
            _ => ["DECR", key],
        };
    }
}
