using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// Pipelined writes are committed as one group per read buffer. A client must not be able to tell: replies
/// keep their order and shape, later commands of the same pipeline see earlier writes, and an acknowledged
/// write is durable. Compared byte for byte with redis-server.
/// </summary>
public class PipelineGroupCommitTests
{
    private static readonly string[] Keys = ["k1", "k2", "k3", "n1"];

    [Fact]
    public async Task A_pipeline_mixing_grouped_sets_and_other_commands_replies_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        string[][] pipeline =
        [
            ["SET", "k", "1"], ["GET", "k"], ["SET", "k", "2"], ["SET", "j", "x"], ["INCR", "k"], ["SET", "k", "5"],
            ["SET", "k", "6", "NX"], ["SET", "k", "7", "XX"], ["SET", "k", "8", "GET"], ["APPEND", "k", "z"], ["SET", "j", "y"],
            ["MGET", "k", "j"], ["SET", "k", "v", "EX", "0"], ["SET", "k", "v", "BOGUS"], ["SET", "k"], ["SET", "t", "v", "PX", "100000"],
            ["NOSUCHCOMMAND", "a"], ["SET", "k", "9"], ["EXISTS", "k", "j", "t"], ["DEL", "j"], ["SET", "j", "back"], ["GET", "j"],
            // MSET joins the group as one command; with a read-modify-write group open (LPUSH) it commits that first.
            ["MSET", "k", "a", "j", "b", "k", "c"], ["SET", "m", "1"], ["MGET", "k", "j", "m"], ["MSET", "k"], ["LPUSH", "l", "a"],
            ["MSET", "l", "s", "m", "2"], ["TYPE", "l"], ["MSET", "m", "3", "n", "4"], ["INCR", "m"], ["MSET", "n", "5"], ["MGET", "l", "m", "n"],
        ];
        var expected = RunPipeline(redis, pipeline);
        var actual = RunPipeline(talus, pipeline);
        for (var i = 0; i < pipeline.Length; i++)
        {
            Assert.True(expected[i].Raw.SequenceEqual(actual[i].Raw),
                $"reply {i} to {string.Join(' ', pipeline[i])}: redis {expected[i]}, talus {actual[i]}");
        }
    }

    [Fact]
    public async Task Random_pipelines_of_string_commands_match_redis_reply_by_reply()
    {
        const int seed = 20240611;
        var random = new Random(seed);
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        for (var round = 0; round < 60; round++)
        {
            var pipeline = Enumerable.Range(0, random.Next(1, 80)).Select(_ => RandomCommand(random)).ToArray();
            var expected = r.CallPipelined(pipeline);
            var actual = t.CallPipelined(pipeline);
            for (var i = 0; i < pipeline.Length; i++)
            {
                Assert.True(expected[i].Raw.SequenceEqual(actual[i].Raw),
                    $"seed {seed}, round {round}, reply {i} to {string.Join(' ', pipeline[i])}: redis {expected[i]}, talus {actual[i]}");
            }
        }
    }

    [Fact]
    public async Task Acknowledged_pipelined_sets_survive_kill_9()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int batches = 20, depth = 50;
        using (var c = server.Client())
        {
            for (var b = 0; b < batches; b++)
            {
                var pipeline = Enumerable.Range(0, depth).Select(i => new[] { "SET", $"key:{b}:{i}", $"value-{b}-{i}" }).ToArray();
                Assert.All(c.CallPipelined(pipeline), reply => Assert.Equal("OK", reply.Text));
            }
        }
        server.Kill();
        await server.StartAsync();
        using var after = server.Client();
        for (var b = 0; b < batches; b++)
        {
            for (var i = 0; i < depth; i++)
            {
                Assert.Equal($"value-{b}-{i}", after.Call("GET", $"key:{b}:{i}").Text);
            }
        }
    }

    [Fact]
    public async Task Pipelined_sets_from_many_clients_are_all_applied()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int clients = 20, rounds = 10, depth = 16;
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Run(() =>
        {
            using var c = server.Client();
            for (var round = 0; round < rounds; round++)
            {
                // Every client also writes the shared key, and increments a shared counter in the same pipelines.
                var pipeline = Enumerable.Range(0, depth)
                    .Select(i => i % 4 == 3 ? new[] { "INCR", "counter" } : new[] { "SET", i % 4 == 0 ? "shared" : $"c{client}:{round}:{i}", $"{client}" })
                    .ToArray();
                Assert.All(c.CallPipelined(pipeline), reply => Assert.False(reply.IsError, reply.ToString()));
            }
        }));
        await Task.WhenAll(tasks);
        using var check = server.Client();
        Assert.Equal((clients * rounds * depth / 4).ToString(System.Globalization.CultureInfo.InvariantCulture), check.Call("GET", "counter").Text);
        Assert.Equal(clients * rounds * depth / 2 + 2, check.Call("DBSIZE").Integer);
    }

    [Fact]
    public async Task A_pipeline_of_sets_is_written_by_the_committer_and_a_lone_set_is_not()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        long Groups() => long.Parse(server.Info("persistence")["talus_commit_queue_groups"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, Groups());

        Assert.Equal("OK", c.Call("SET", "alone", "1").Text);
        Assert.Equal(0, Groups());

        var pipeline = Enumerable.Range(0, 16).Select(i => new[] { "SET", $"p{i}", $"v{i}" }).Append(["MSET", "m1", "a", "m2", "b"]).ToArray();
        Assert.All(c.CallPipelined(pipeline), reply => Assert.Equal("OK", reply.Text));
        // One read, one group: written by the committer before the replies went out, and read back at once.
        Assert.InRange(Groups(), 1, 2);
        Assert.Equal("v0 v15 a b", string.Join(' ', c.CallPipelined([["GET", "p0"], ["GET", "p15"], ["GET", "m1"], ["GET", "m2"]]).Select(r => r.Text)));
        var persistence = server.Info("persistence");
        Assert.Equal("0", persistence["talus_commit_queue_length"]);
        Assert.InRange(long.Parse(persistence["talus_commit_queue_batches"], System.Globalization.CultureInfo.InvariantCulture), 1, Groups());
    }

    private static List<RespReply> RunPipeline(ServerProcess server, string[][] pipeline)
    {
        using var client = server.Client();
        return client.CallPipelined(pipeline);
    }


    private static string[] RandomCommand(Random random)
    {
        var key = Keys[random.Next(Keys.Length)];
        var value = random.Next(4) == 0 ? random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture) : "v" + random.Next(10);
        return random.Next(14) switch
        {
            0 or 1 or 2 => ["SET", key, value],
            3 => ["SET", key, value, "EX", "1000"],
            4 => ["SET", key, value, random.Next(2) == 0 ? "NX" : "XX"],
            5 => ["SET", key, value, "GET"],
            6 or 7 => ["GET", key],
            8 => ["INCR", key],
            9 => ["APPEND", key, value],
            10 => ["DEL", key],
            11 => ["STRLEN", key],
            12 => ["MSET", key, value, Keys[random.Next(Keys.Length)], value],
            _ => ["EXISTS", key, Keys[random.Next(Keys.Length)]],
        };
    }
}
