using System.Globalization;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>SORT and SORT_RO against a real redis-server: a script of the options, then a seeded random stream.</summary>
public class SortCommandsTests
{
    [Fact]
    public async Task Options_and_errors_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const string script = """
            RPUSH l 3 1 2 10 -5 2.5 1e2 +7 .5 5.|SORT l|SORT l DESC|SORT l LIMIT 1 3|SORT l LIMIT -1 2|SORT l LIMIT 5 -1
            SORT l LIMIT 100 5|SORT l LIMIT 2 0|SORT l ALPHA|SORT l ALPHA DESC LIMIT 0 4|SORT l BY nosort|SORT l BY nosort DESC LIMIT 2 3
            SADD s banana apple cherry date|SORT s ALPHA|SORT s|SORT s ALPHA STORE dst|LRANGE dst 0 -1|TYPE dst|SORT s BY nosort STORE dst2|LRANGE dst2 0 -1
            ZADD z 3 c 1 a 2 b 10 j|SORT z ALPHA|SORT z BY nosort|SORT z BY nosort DESC|SORT z BY nosort LIMIT 1 2|SORT z BY nosort DESC LIMIT 1 2
            MSET w_a 4 w_b 1 w_c 3 w_d 2 w_j 0|SORT z BY w_*|SORT z BY w_* DESC GET # GET w_*|SORT z BY w_* GET nothere GET w_* GET #
            HSET h_a f 9 n alpha|HSET h_b f 7 n beta|HSET h_c f 8 n gamma|SORT z BY h_*->f GET h_*->n GET #|SORT z BY h_*-> GET h_*->
            SORT z BY h_*->f DESC GET h_*->n STORE out|LRANGE out 0 -1|SORT z BY h_*->missing GET h_*->n|SORT z GET w_*->f GET h_*
            SADD bad 1 x 3|SORT bad|SORT bad ALPHA|SORT bad STORE nostore|EXISTS nostore|SET str v|SORT str|SORT str STORE dst
            SORT missing|SORT missing STORE dst|EXISTS dst|SORT l LIMIT a b|SORT l FOO|SORT l LIMIT 1|SORT l STORE|SORT_RO l STORE x
            SORT_RO l DESC LIMIT 0 2|SORT_RO str|SORT|RPUSH e3 nan|SORT e3|RPUSH e4 inf -inf 1 -Infinity
            SORT e4|RPUSH dup b a b a c|SORT dup ALPHA|SORT dup ALPHA GET # GET #|SORT s ALPHA STORE str|TYPE str|LRANGE str 0 -1
            SORT l BY w_* ALPHA|SORT z BY w_* ALPHA|SORT z ASC DESC ASC|SORT z alpha limit 0 1 desc
            SORT l LIMIT 2 9223372036854775807|SORT l LIMIT 1 9223372036854775806|SORT l LIMIT -9223372036854775808 2|SORT l LIMIT 9223372036854775807 1
            RPUSH e 0 -0 1e-400 1e400|SORT e
            """;
        // Last: Redis reads errno after strtod without clearing it first, so once an out-of-range number has set
        // ERANGE, its later numeric sorts may fail too. Talus checks each number alone.
        Assert.Equal(78, Differential.RunScript(redis, talus, script));
        // What a space-separated script cannot say: empty and blank elements, leading white space.
        using var d = new Differential(redis, talus, seed: 0);
        d.Call("RPUSH", "blank", "", " 7", "\t-2", "3");
        d.Call("SORT", "blank");
        d.Call("RPUSH", "spaces", " ", "1");
        d.Call("SORT", "spaces");
        d.Call("SORT", "blank", "ALPHA", "STORE", "blank-sorted");
        d.Call("LRANGE", "blank-sorted", "0", "-1");
        // strtod's own forms: hex floats, and a value that is a number up to a NUL byte.
        d.Call("RPUSH", "forms", "0x10", "1", "0X1.8P3", "5\0abc", "-0x1p-2");
        d.Call("SORT", "forms");
        // A subnormal result sets ERANGE, which SORT refuses (last, for the errno Redis leaves set).
        d.Call("RPUSH", "tiny", "1e-310", "1");
        d.Call("SORT", "tiny");
    }

    [Fact]
    public async Task A_seeded_random_stream_of_sorts_answers_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const int seed = 20261205;
        var random = new Random(seed);
        using var d = new Differential(redis, talus, seed);
        var commands = new List<byte[][]>();
        void Add(params string[] args) => commands.Add(args.Select(Encoding.UTF8.GetBytes).ToArray());
        string Word() => new(Enumerable.Range(0, random.Next(1, 6)).Select(_ => (char)('a' + random.Next(6))).ToArray());
        string Number() => random.Next(4) switch
        {
            0 => random.Next(-50, 50).ToString(CultureInfo.InvariantCulture),
            1 => (random.Next(-5000, 5000) / 100.0).ToString(CultureInfo.InvariantCulture),
            2 => random.Next(0, 20).ToString(CultureInfo.InvariantCulture),
            _ => $"{random.Next(1, 9)}e{random.Next(0, 3)}",
        };
        // Weights by element: unique per element so that ALPHA BY, which Redis does not tie-break, is deterministic.
        var weighted = new HashSet<string>();
        for (var step = 0; step < 3000; step++)
        {
            var numeric = random.Next(2) == 0;
            var key = $"{(numeric ? "n" : "a")}{random.Next(3)}";
            var type = random.Next(3);
            var source = $"{key}:{"lsz"[type]}";
            switch (random.Next(10))
            {
                case 0 or 1:
                    var values = Enumerable.Range(0, random.Next(1, 8)).Select(_ => numeric ? Number() : Word()).ToList();
                    switch (type)
                    {
                        case 0:
                            Add(["RPUSH", source, .. values]);
                            break;
                        case 1:
                            Add(["SADD", source, .. values]);
                            break;
                        default:
                            Add(["ZADD", source, .. values.SelectMany(v => new[] { random.Next(-5, 5).ToString(CultureInfo.InvariantCulture), v })]);
                            break;
                    }
                    foreach (var v in values.Where(weighted.Add))
                    {
                        Add("SET", $"w_{v}", $"{random.Next(100000)}.{weighted.Count}");
                        Add("HSET", $"h_{v}", "f", Word() + weighted.Count.ToString(CultureInfo.InvariantCulture), "n", Number());
                    }
                    break;
                case 2:
                    Add("DEL", source);
                    break;
                default:
                    var args = new List<string> { random.Next(4) == 0 ? "SORT_RO" : "SORT", source };
                    var by = random.Next(5) switch
                    {
                        0 => "w_*",
                        1 => "h_*->f",
                        2 => "nosort",
                        _ => null,
                    };
                    if (by == "nosort" && type == 1)
                    {
                        by = null; // a set's own order is a hash table's in Redis
                    }
                    if (by is not null)
                    {
                        args.AddRange(["BY", by]);
                    }
                    if (random.Next(3) == 0)
                    {
                        args.AddRange(["LIMIT", random.Next(-1, 6).ToString(CultureInfo.InvariantCulture), random.Next(-1, 6).ToString(CultureInfo.InvariantCulture)]);
                    }
                    for (var g = random.Next(4); g > 0; g--)
                    {
                        args.AddRange(["GET", random.Next(4) switch { 0 => "#", 1 => "w_*", 2 => "h_*->n", _ => "missing_*" }]);
                    }
                    if (random.Next(2) == 0)
                    {
                        args.Add(random.Next(2) == 0 ? "DESC" : "ASC");
                    }
                    if (!numeric || by == "h_*->f" || random.Next(4) == 0)
                    {
                        args.Add("ALPHA");
                    }
                    var store = args[0] == "SORT" && random.Next(3) == 0;
                    if (store)
                    {
                        args.AddRange(["STORE", "dest"]);
                    }
                    Add([.. args]);
                    if (store)
                    {
                        Add("LRANGE", "dest", "0", "-1");
                        Add("TYPE", "dest");
                    }
                    break;
            }
        }
        d.Run(commands);
        Assert.True(d.Compared >= 3000, $"{d.Compared} replies compared");
    }

    [Fact]
    public async Task Sort_store_touches_a_watch_on_its_destination_and_wakes_a_blocked_pop()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var a = talus.Client();
        using var b = talus.Client();
        a.Call("RPUSH", "src", "3", "1", "2");
        a.Call("WATCH", "dst");
        Assert.Equal(3, b.Call("SORT", "src", "STORE", "dst").Integer);
        a.Call("MULTI");
        a.Call("SET", "x", "1");
        Assert.True(a.Call("EXEC").IsNull);
        // A SORT that stores nothing where nothing was leaves the watch alone, as in Redis.
        a.Call("WATCH", "empty-dst");
        Assert.Equal(0, b.Call("SORT", "missing", "STORE", "empty-dst").Integer);
        a.Call("MULTI");
        a.Call("SET", "x", "2");
        Assert.Single(a.Call("EXEC").Items!);

        a.Send("BLPOP", "queue", "0");
        await Wait.UntilAsync(() => talus.Info("clients").GetValueOrDefault("blocked_clients") == "1", TimeSpan.FromSeconds(10), "the BLPOP to block");
        Assert.Equal(3, b.Call("SORT", "src", "DESC", "STORE", "queue").Integer);
        var popped = a.Read();
        Assert.Equal(["queue", "3"], popped.Items!.Select(i => i.Text));
        Assert.Equal(["2", "1"], b.Call("LRANGE", "queue", "0", "-1").Items!.Select(i => i.Text));
    }
}
