using System.Globalization;
using System.Text;
using Talus.TestKit;
using Xunit.Abstractions;

namespace Talus.Server.Tests;

/// <summary>
/// PFADD / PFCOUNT / PFMERGE against a real redis-server: the counts must be redis-server's numbers, and GET
/// of an HLL must return the very same bytes (sparse opcodes, promotion to dense, the cached count).
/// Set TALUS_DIFF_SEED to replay a seed.
/// </summary>
public class HyperLogLogDifferentialTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["h0", "h1", "h2", "h3", "h4"];

    /// <summary>Commands of the random stream: as many as the other types' differential streams run.</summary>
    private const int Operations = 100_000;

    private static int Seed(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("TALUS_DIFF_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : fallback;

    [Fact]
    public async Task Counts_up_to_100000_elements_match_redis_byte_for_byte()
    {
        var seed = Seed(99);
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var pipeline = new DifferentialPipeline(t, r, seed);
        // 100,000 distinct elements in chunks of 100: the key goes through sparse growth, promotion and dense.
        for (var chunk = 0; chunk < 1000; chunk++)
        {
            var args = new List<string> { "PFADD", "big" };
            args.AddRange(Enumerable.Range(chunk * 100, 100).Select(i => "element:" + i.ToString(CultureInfo.InvariantCulture)));
            pipeline.Add(Step([.. args]));
            if (chunk < 40 || chunk % 5 == 0)
            {
                pipeline.Add(Step("PFCOUNT", "big"));
            }
            if (chunk < 40 || chunk % 50 == 0)
            {
                pipeline.Add(Step("GET", "big"));
            }
        }
        pipeline.Add(Step("PFCOUNT", "big"));
        pipeline.Add(Step("GET", "big"));
        pipeline.Flush();
    }

    [Fact]
    public async Task Random_pfadd_pfcount_pfmerge_stream_matches_redis()
    {
        var seed = Seed(31337);
        var random = new Random(seed);
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var pipeline = new DifferentialPipeline(t, r, seed);
        pipeline.Add(Step("SET", "str", "not an hll"));
        pipeline.Add(Step("ZADD", "zs", "1", "a"));
        // A sparse HLL whose opcodes cover 16383 registers, and a dense one of the wrong length.
        pipeline.Add(new DiffStep([Bytes("SET"), Bytes("corrupt"), [.. "HYLL"u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xfe]]));
        pipeline.Add(new DiffStep([Bytes("SET"), Bytes("short"), [.. "HYLL"u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]));
        // Element pools of different sizes keep some keys sparse and push others dense.
        var pools = new[] { 40, 400, 4000, 40000 };
        for (var i = 0; i < Operations; i++)
        {
            var key = Keys[random.Next(Keys.Length)];
            switch (random.Next(20))
            {
                case < 8:
                {
                    var pool = pools[random.Next(pools.Length)];
                    var args = new List<string> { "PFADD", key };
                    args.AddRange(Enumerable.Range(0, random.Next(0, 30)).Select(_ => "e" + random.Next(pool).ToString(CultureInfo.InvariantCulture)));
                    pipeline.Add(Step([.. args]));
                    break;
                }
                case < 11:
                    pipeline.Add(Step("PFCOUNT", key));
                    break;
                case < 13:
                    pipeline.Add(Step(["PFCOUNT", .. RandomKeys(random)]));
                    break;
                case 13:
                    pipeline.Add(Step(["PFMERGE", key, .. RandomKeys(random)]));
                    break;
                case 14:
                    pipeline.Add(Step("GET", key));
                    break;
                case 15:
                    pipeline.Add(random.Next(3) == 0 ? Step("DEL", key) : Step("EXPIRE", key, "100000"));
                    break;
                case 16:
                    pipeline.Add(random.Next(3) switch
                    {
                        0 => Step("PFADD", "str", "x"),
                        1 => Step("PFCOUNT", key, "zs"),
                        _ => Step("PFMERGE", key, "str"),
                    });
                    break;
                case 17:
                    pipeline.Add(random.Next(4) switch
                    {
                        0 => Step("PFCOUNT", "corrupt"),
                        1 => Step("PFADD", "corrupt", "e" + random.Next(100).ToString(CultureInfo.InvariantCulture)),
                        2 => Step("PFMERGE", key, "corrupt"),
                        _ => Step("PFCOUNT", "short", key),
                    });
                    break;
                case 18:
                    pipeline.Add(random.Next(3) switch
                    {
                        0 => Step("PFADD"),
                        1 => Step("PFCOUNT"),
                        _ => Step("PFMERGE"),
                    });
                    break;
                default:
                    pipeline.Add(Step("PFADD", key));
                    break;
            }
        }
        foreach (var key in Keys)
        {
            pipeline.Add(Step("PFCOUNT", key));
            pipeline.Add(Step("GET", key));
        }
        pipeline.Flush();
        output.WriteLine($"seed {seed}: {pipeline.Compared} replies compared");
        Assert.True(pipeline.Compared >= Operations, $"seed {seed}: only {pipeline.Compared} replies compared");
    }

    private static string[] RandomKeys(Random random) =>
        Enumerable.Range(0, random.Next(0, 4)).Select(_ => random.Next(6) == 0 ? "missing" : Keys[random.Next(Keys.Length)]).ToArray();

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static DiffStep Step(params string[] args) => new(args.Select(Bytes).ToArray());
}
