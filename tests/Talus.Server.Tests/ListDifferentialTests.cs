using System.Globalization;
using System.Text;
using Talus.TestKit;
using Xunit.Abstractions;

namespace Talus.Server.Tests;

/// <summary>
/// Talus against a real redis-server on one seeded stream of list commands (plus expiry, deletion, wrong types,
/// wrong arity and out-of-range arguments), pipelined to both, every reply compared byte for byte. Lists have a
/// defined order, so every reply is deterministic.
/// </summary>
public class ListDifferentialTests(ITestOutputHelper output)
{
    private const int Seed = 20_240_611;
    private const int Commands = 120_000;
    private const int BatchSize = 500;

    private static readonly string[] ListKeys = ["l0", "l1", "l2", "l3", "l4", "l5"];
    private static readonly string[] StringKeys = ["s0", "s1"];
    private static readonly string[] Values = ["a", "b", "c", "d", "e", "", "a b", "\u00e9\u00e8", "0", "-1", "x\r\ny"];

    [Fact]
    public async Task Seeded_list_stream_matches_redis_byte_for_byte()
    {
        Assert.True(RedisProcess.IsAvailable, "redis-server is not installed");
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("TALUS_DIFF_SEED"), out var s) ? s : Seed;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");

        var history = new List<string[]>();
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var longest = 0;
        var started = DateTime.UtcNow;
        // Most of the stream speaks RESP2; the rest RESP3, where the null shapes differ.
        foreach (var (count, resp3) in new[] { (Commands * 7 / 10, false), (Commands - Commands * 7 / 10, true) })
        {
            using var t = talus.Client();
            using var r = redis.Client();
            if (resp3)
            {
                t.Call("HELLO", "3");
                r.Call("HELLO", "3");
            }
            for (var done = 0; done < count; done += BatchSize)
            {
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(120), "differential run took too long");
                var batch = Enumerable.Range(0, Math.Min(BatchSize, count - done)).Select(_ => Next(random)).ToList();
                var talusTask = RoundTripAsync(t, batch);
                var redisReplies = await RoundTripAsync(r, batch);
                var talusReplies = await talusTask;
                for (var i = 0; i < batch.Count; i++)
                {
                    history.Add(batch[i]);
                    var reply = redisReplies[i];
                    var kind = reply.IsError ? reply.Text![..Math.Min(reply.Text!.Length, 24)] : reply.IsNull ? "null" : reply.Type.ToString();
                    kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                    longest = Math.Max(longest, reply.Items?.Count ?? 0);
                    if (!talusReplies[i].Raw.AsSpan().SequenceEqual(redisReplies[i].Raw))
                    {
                        var recent = string.Join("\n", history.TakeLast(15).Select(Show));
                        Assert.Fail($"seed {seed}, command #{history.Count} ({(resp3 ? "RESP3" : "RESP2")}) differs: {Show(batch[i])}\n" +
                            $"talus: {Escape(talusReplies[i].Raw)}\nredis: {Escape(redisReplies[i].Raw)}\nlast commands:\n{recent}");
                    }
                }
            }
        }
        output.WriteLine($"{history.Count} commands identical in {(DateTime.UtcNow - started).TotalSeconds:0.0}s");
        output.WriteLine($"reply kinds: {string.Join(", ", kinds.Select(k => $"{k.Key}={k.Value}"))}; longest array {longest}");
    }

    /// <summary>Sends a batch while reading its replies (large replies must not stall the sender).</summary>
    private static async Task<List<RespReply>> RoundTripAsync(RespClient client, List<string[]> batch)
    {
        using var buffer = new MemoryStream();
        foreach (var command in batch)
        {
            buffer.Write(RespClient.Encode(command.Select(Encoding.UTF8.GetBytes).ToArray()));
        }
        var bytes = buffer.ToArray();
        var send = Task.Run(() => client.SendRaw(bytes));
        var replies = await Task.Run(() =>
        {
            var list = new List<RespReply>(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                list.Add(client.Read());
            }
            return list;
        });
        await send;
        return replies;
    }

    private static string[] Next(Random random)
    {
        var key = random.Next(30) == 0 ? Pick(random, StringKeys) : Pick(random, ListKeys);
        var roll = random.Next(1000);
        return roll switch
        {
            < 140 => ["LPUSH", key, .. Elements(random)],
            < 280 => ["RPUSH", key, .. Elements(random)],
            < 300 => ["LPUSHX", key, .. Elements(random)],
            < 320 => ["RPUSHX", key, .. Elements(random)],
            < 400 => ["LPOP", key, .. Count(random)],
            < 480 => ["RPOP", key, .. Count(random)],
            < 510 => ["LLEN", key],
            < 560 => ["LRANGE", key, Index(random), Index(random)],
            < 590 => ["LRANGE", key, "0", "-1"],
            < 640 => ["LINDEX", key, Index(random)],
            < 680 => ["LSET", key, Index(random), Value(random)],
            < 730 => ["LINSERT", key, Pick(random, ["BEFORE", "AFTER", "before", "after", "BEFORE", "AFTER", "MIDDLE"]), Value(random), Value(random)],
            < 790 => ["LREM", key, random.Next(15) == 0 ? "x" : random.Next(-3, 4).ToString(CultureInfo.InvariantCulture), Value(random)],
            < 815 => ["LTRIM", key, Index(random), Index(random)],
            < 865 => ["LPOS", key, Value(random), .. LPosOptions(random)],
            < 885 => ["RPOPLPUSH", key, Pick(random, ListKeys)],
            < 915 => ["LMOVE", key, Pick(random, ListKeys), Direction(random), Direction(random)],
            < 918 => Blocking(random),
            < 933 => ["DEL", key],
            < 941 => ["EXPIRE", key, Pick(random, ["100", "0", "-1", "x"])],
            < 945 => ["PERSIST", key],
            < 955 => ["SET", Pick(random, StringKeys), Value(random)],
            < 956 => ["SET", Pick(random, ListKeys), Value(random)],
            < 965 => ["TYPE", key],
            < 972 => ["EXISTS", key],
            < 977 => ["RENAME", Pick(random, ListKeys), Pick(random, ListKeys)],
            < 980 => Copy(random),
            _ => WrongArity(random, key),
        };
    }

    private static string[] Copy(Random random)
    {
        // Distinct keys: COPY of a key onto itself is an error whose text is not this test's subject.
        var keys = ListKeys.OrderBy(_ => random.Next()).Take(2).ToArray();
        return ["COPY", keys[0], keys[1], .. random.Next(2) == 0 ? new[] { "REPLACE" } : []];
    }

    private static string[] Blocking(Random random)
    {
        // Timeouts are short: every list empty means a short wait, never a hang (redis-server answers a timeout
        // only at its next ~100 ms tick, so they stay rare). Invalid ones answer at once.
        var timeout = Pick(random, ["0.01", "-1", "x", "inf", "-0.5", "nan", "1e20", " 1", "0.01"]);
        return random.Next(4) switch
        {
            0 => ["BLPOP", .. ListKeys.OrderBy(_ => random.Next()).Take(random.Next(1, 5)).Append(random.Next(30) == 0 ? "s0" : "l0"), timeout],
            1 => ["BRPOP", .. ListKeys.OrderBy(_ => random.Next()).Take(random.Next(1, 5)), timeout],
            2 => ["BLMOVE", Pick(random, ListKeys), random.Next(10) == 0 ? "s1" : Pick(random, ListKeys), Direction(random), Direction(random), timeout],
            _ => ["BRPOPLPUSH", Pick(random, ListKeys), Pick(random, ListKeys), timeout],
        };
    }

    private static string[] WrongArity(Random random, string key) => random.Next(9) switch
    {
        0 => ["LPUSH", key],
        1 => ["LPOP"],
        2 => ["LPOP", key, "1", "2"],
        3 => ["LRANGE", key, "0"],
        4 => ["LINSERT", key, "BEFORE", "a"],
        5 => ["LMOVE", key, "l1", "LEFT"],
        6 => ["BLPOP", key],
        7 => ["LPOS", key],
        _ => ["LLEN", key, "extra"],
    };

    private static string[] LPosOptions(Random random)
    {
        var options = new List<string>();
        var n = random.Next(4);
        for (var i = 0; i < n; i++)
        {
            switch (random.Next(7))
            {
                case 0 or 1:
                    options.AddRange(["RANK", Pick(random, ["1", "2", "-1", "-2", "3", "-3", "0", "x", "-9223372036854775808"])]);
                    break;
                case 2 or 3:
                    options.AddRange(["COUNT", Pick(random, ["0", "1", "2", "5", "-1", "y"])]);
                    break;
                case 4 or 5:
                    options.AddRange(["MAXLEN", Pick(random, ["0", "1", "2", "4", "-1"])]);
                    break;
                default:
                    options.Add(Pick(random, ["RANK", "BOGUS"]));
                    break;
            }
        }
        return [.. options];
    }

    private static string[] Elements(Random random) => Enumerable.Range(0, random.Next(8) == 0 ? random.Next(5, 30) : random.Next(1, 4)).Select(_ => Value(random)).ToArray();

    private static string[] Count(Random random) => random.Next(3) switch
    {
        0 => [],
        1 => [random.Next(12) switch { 0 => "-1", 1 => "x", 2 => "0", 3 => "99999", _ => random.Next(1, 6).ToString(CultureInfo.InvariantCulture) }],
        _ => [random.Next(1, 4).ToString(CultureInfo.InvariantCulture)],
    };

    private static string Index(Random random) => random.Next(25) switch
    {
        0 => "9223372036854775807",
        1 => "-9223372036854775808",
        2 => "1.5",
        _ => random.Next(-12, 13).ToString(CultureInfo.InvariantCulture),
    };

    private static string Value(Random random) => random.Next(40) == 0 ? new string('v', random.Next(50, 300)) : Pick(random, Values);

    private static string Direction(Random random) => random.Next(30) == 0 ? "UP" : Pick(random, ["LEFT", "RIGHT", "left", "Right"]);

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static string Show(string[] command) => string.Join(' ', command.Select(a => a.Length > 40 ? a[..40] + "..." : a));

    private static string Escape(byte[] raw)
    {
        var text = Encoding.UTF8.GetString(raw);
        return text.Length > 400 ? text[..400].Replace("\r\n", "\\r\\n") + "..." : text.Replace("\r\n", "\\r\\n");
    }
}
