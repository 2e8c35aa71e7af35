using System.Diagnostics;
using System.Globalization;
using Talus.TestKit;
using Xunit.Abstractions;

namespace Talus.Server.Tests;

/// <summary>
/// Talus against a real redis-server on a seeded random stream of sorted-set commands: every reply must be
/// byte-identical (ZRANDMEMBER: same shape, members from the set). Set TALUS_DIFF_SEED to replay a seed.
/// </summary>
public class SortedSetDifferentialTests(ITestOutputHelper output)
{
    private const int Resp2Operations = 100_000;
    private const int Resp3Operations = 15_000;

    private static int Seed(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("TALUS_DIFF_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : fallback;

    [Fact]
    public async Task Random_sorted_set_stream_matches_redis_in_resp2()
    {
        await RunAsync(Seed(20261125), Resp2Operations, resp3: false);
    }

    [Fact]
    public async Task Random_sorted_set_stream_matches_redis_in_resp3()
    {
        await RunAsync(Seed(424242), Resp3Operations, resp3: true);
    }

    [Fact]
    public async Task Ranks_and_index_ranges_of_a_large_set_match_redis()
    {
        var seed = Seed(7);
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var pipeline = new DifferentialPipeline(t, r, seed);
        var random = new Random(seed);
        // 2000 members: redis-server keeps this as a skiplist, Talus walks from the nearer end.
        for (var i = 0; i < 2000; i += 100)
        {
            var args = new List<string> { "ZADD", "big" };
            for (var j = i; j < i + 100; j++)
            {
                args.Add((random.Next(-500, 500) / 4.0).ToString(CultureInfo.InvariantCulture));
                args.Add("member:" + j.ToString(CultureInfo.InvariantCulture));
            }
            pipeline.Add(new DiffStep(args.Select(System.Text.Encoding.UTF8.GetBytes).ToArray()));
        }
        string Index() => random.Next(4) == 0 ? random.Next(-2100, 0).ToString(CultureInfo.InvariantCulture) : random.Next(0, 2100).ToString(CultureInfo.InvariantCulture);
        string Member() => "member:" + random.Next(0, 2100).ToString(CultureInfo.InvariantCulture);
        string Score() => (random.Next(-520, 520) / 4.0).ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < 2000; i++)
        {
            string[] args = random.Next(9) switch
            {
                0 => ["ZRANK", "big", Member()],
                1 => ["ZREVRANK", "big", Member()],
                2 => ["ZRANGE", "big", Index(), Index(), "WITHSCORES"],
                3 => ["ZREVRANGE", "big", Index(), Index()],
                4 => ["ZCOUNT", "big", Score(), "(" + Score()],
                5 => ["ZRANGEBYSCORE", "big", Score(), "+inf", "LIMIT", random.Next(0, 50).ToString(CultureInfo.InvariantCulture), "7"],
                6 => ["ZADD", "big", Score(), Member()],
                7 => ["ZREM", "big", Member()],
                _ => ["ZINCRBY", "big", "1.5", Member()],
            };
            pipeline.Add(new DiffStep(args.Select(System.Text.Encoding.UTF8.GetBytes).ToArray()));
        }
        pipeline.Add(new DiffStep(["ZRANGE"u8.ToArray(), "big"u8.ToArray(), "0"u8.ToArray(), "-1"u8.ToArray(), "WITHSCORES"u8.ToArray()]));
        pipeline.Flush();
    }

    private async Task RunAsync(int seed, int operations, bool resp3)
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var pipeline = new DifferentialPipeline(t, r, seed);
        if (resp3)
        {
            pipeline.Add(new DiffStep(["HELLO"u8.ToArray(), "3"u8.ToArray()], DiffCheck.Unchecked));
        }
        pipeline.AddRange(SortedSetCommandStream.Setup());
        var stream = new SortedSetCommandStream(seed);
        var watch = Stopwatch.StartNew();
        var sent = 0;
        while (sent < operations && watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            foreach (var step in stream.Next())
            {
                pipeline.Add(step);
                sent++;
            }
        }
        // Final state of every key, compared exactly.
        foreach (var key in new[] { "z0", "z1", "z2", "z3", "z4", "z5", "lex0", "lex1", "lex2" })
        {
            pipeline.Add(new DiffStep(["ZRANGE"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(key), "0"u8.ToArray(), "-1"u8.ToArray(), "WITHSCORES"u8.ToArray()]));
        }
        pipeline.Flush();
        output.WriteLine($"seed {seed}: {sent} operations sent, {pipeline.Compared} replies compared");
        Assert.True(sent >= operations, $"seed {seed}: only {sent} of {operations} operations ran within the time bound");
    }
}
