using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests.Transactions;

/// <summary>
/// A seeded random stream of transactions run on redis-server and on Talus, compared reply by reply: mixed
/// types, runtime errors (WRONGTYPE), queue-time errors, DISCARD, WATCH with another client writing a watched
/// key or an unrelated one, FLUSHDB, and now and then a key whose short TTL passes between WATCH and EXEC.
/// </summary>
public class TransactionDifferentialTests
{
    private const int Seed = 7_2026;
    private const int Transactions = 5000;

    [Fact]
    public async Task Random_transactions_match_redis()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        var rng = new Random(Seed);
        var r = new[] { redis.Client(), redis.Client() };
        var t = new[] { talus.Client(), talus.Client() };
        var history = new Queue<string>();
        try
        {
            for (var n = 0; n < Transactions; n++)
            {
                foreach (var (conn, command) in Transaction(rng, n))
                {
                    history.Enqueue((conn == 0 ? "  " : "  [other] ") + string.Join(' ', command));
                    if (history.Count > 24)
                    {
                        history.Dequeue();
                    }
                    if (command[0] == "__SLEEP")
                    {
                        Thread.Sleep(int.Parse(command[1], CultureInfo.InvariantCulture));
                        continue;
                    }
                    var expected = r[conn].Call(command);
                    var actual = t[conn].Call(command);
                    Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw),
                        $"seed {Seed}, transaction {n}: {string.Join(' ', command)}\n  redis: {Differential.Escape(expected.Raw)}\n  talus: {Differential.Escape(actual.Raw)}\n{string.Join('\n', history)}");
                }
            }
        }
        finally
        {
            foreach (var c in r.Concat(t))
            {
                c.Dispose();
            }
        }
    }

    private static readonly string[] Keys = ["k0", "k1", "k2", "k3", "k4", "k5"];

    private static IEnumerable<(int Conn, string[] Command)> Transaction(Random rng, int n)
    {
        if (n % 500 == 250)
        {
            // A key live at WATCH whose TTL passes before EXEC: the transaction fails.
            yield return (0, ["SET", "ttl", "1", "PX", "150"]);
            yield return (0, ["WATCH", "ttl"]);
            yield return (0, ["__SLEEP", "300"]);
            yield return (0, ["MULTI"]);
            yield return (0, ["INCR", "k0"]);
            yield return (0, ["EXEC"]);
            yield break;
        }
        if (rng.Next(100) == 0)
        {
            yield return (rng.Next(2), ["FLUSHDB"]);
        }
        var watched = new List<string>();
        if (rng.Next(2) == 0)
        {
            watched.AddRange(Enumerable.Range(0, 1 + rng.Next(2)).Select(_ => Pick(rng)));
            yield return (0, ["WATCH", .. watched]);
            switch (rng.Next(4))
            {
                case 0:
                    yield return (1, Command(rng, watched[0]));
                    break;
                case 1:
                    yield return (1, Command(rng, Pick(rng)));
                    break;
                case 2:
                    yield return (1, ["FLUSHDB"]);
                    break;
            }
        }
        yield return (0, ["MULTI"]);
        var count = rng.Next(6);
        for (var i = 0; i < count; i++)
        {
            yield return (0, rng.Next(40) switch
            {
                0 => ["NOSUCHCMD", Pick(rng)],
                1 => ["GET"],
                2 => ["FLUSHDB"],
                _ => Command(rng, Pick(rng)),
            });
        }
        yield return (0, rng.Next(30) == 0 ? ["DISCARD"] : ["EXEC"]);
        if (watched.Count > 0 && rng.Next(10) == 0)
        {
            yield return (0, ["UNWATCH"]);
        }
    }

    private static string Pick(Random rng) => Keys[rng.Next(Keys.Length)];

    private static string[] Command(Random rng, string key)
    {
        var v = rng.Next(10).ToString(CultureInfo.InvariantCulture);
        return rng.Next(24) switch
        {
            0 => ["SET", key, v],
            1 => ["SET", key, v, "NX"],
            2 => ["GET", key],
            3 => ["INCR", key],
            4 => ["APPEND", key, v],
            5 => ["RPUSH", key, v, v],
            6 => ["LPOP", key],
            7 => ["LRANGE", key, "0", "-1"],
            8 => ["HSET", key, "f" + v, v],
            9 => ["HINCRBY", key, "f" + v, "2"],
            10 => ["HLEN", key],
            11 => ["SADD", key, v],
            12 => ["SCARD", key],
            13 => ["SREM", key, v],
            14 => ["ZADD", key, v, "m" + v],
            15 => ["ZRANGE", key, "0", "-1", "WITHSCORES"],
            16 => ["DEL", key],
            17 => ["EXISTS", key],
            18 => ["TYPE", key],
            19 => ["EXPIRE", key, "1000"],
            20 => ["PERSIST", key],
            21 => ["RENAME", key, Keys[rng.Next(Keys.Length)]],
            22 => ["STRLEN", key],
            _ => ["LLEN", key],
        };
    }
}
