using StackExchange.Redis;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>Sorted sets and HyperLogLog end to end through StackExchange.Redis against a real talus process.</summary>
public class SortedSetCommandsTests
{
    [Fact]
    public async Task Add_score_rank_and_ranges_through_stackexchange_redis()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        Assert.Equal(3, await db.SortedSetAddAsync("z", [new("a", 1), new("b", 2.5), new("c", -3)]));
        Assert.False(await db.SortedSetAddAsync("z", "a", 10, SortedSetWhen.NotExists));
        Assert.True(await db.SortedSetUpdateAsync("z", "a", 10, SortedSetWhen.GreaterThan));
        Assert.Equal(10, await db.SortedSetScoreAsync("z", "a"));
        Assert.Equal([10, null], await db.SortedSetScoresAsync("z", ["a", "nope"]));
        Assert.Equal(12.5, await db.SortedSetIncrementAsync("z", "a", 2.5));
        Assert.Equal(3, await db.SortedSetLengthAsync("z"));
        Assert.Equal(0, await db.SortedSetRankAsync("z", "c"));
        Assert.Equal(0, await db.SortedSetRankAsync("z", "a", Order.Descending));
        Assert.Equal(["c", "b", "a"], (await db.SortedSetRangeByRankAsync("z")).Select(v => (string)v!));
        var withScores = await db.SortedSetRangeByRankWithScoresAsync("z", 0, -1, Order.Descending);
        Assert.Equal([("a", 12.5), ("b", 2.5), ("c", -3.0)], withScores.Select(e => ((string)e.Element!, e.Score)));
        var byScore = await db.SortedSetRangeByScoreAsync("z", -3, 12.5, Exclude.Both);
        Assert.Equal(["b"], byScore.Select(v => (string)v!));
        Assert.Equal(2, await db.SortedSetLengthAsync("z", 0, double.PositiveInfinity));
        Assert.Equal(2, await db.SortedSetRemoveRangeByScoreAsync("z", double.NegativeInfinity, 3));
        Assert.Equal(1, await db.SortedSetLengthAsync("z"));
    }

    [Fact]
    public async Task Lex_ranges_pops_and_random_members()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.SortedSetAddAsync("lex", new[] { "a", "b", "c", "d", "e" }.Select(m => new SortedSetEntry(m, 0)).ToArray());
        Assert.Equal(["b", "c"], (await db.SortedSetRangeByValueAsync("lex", "b", "d", Exclude.Stop)).Select(v => (string)v!));
        Assert.Equal(["e", "d"], (await db.SortedSetRangeByValueAsync("lex", order: Order.Descending, take: 2)).Select(v => (string)v!));
        Assert.Equal(3, await db.SortedSetLengthByValueAsync("lex", "b", "d"));
        var popped = await db.SortedSetPopAsync("lex", 2, Order.Descending);
        Assert.Equal(["e", "d"], popped.Select(e => (string)e.Element!));
        var random = await db.SortedSetRandomMembersAsync("lex", 10);
        Assert.Equal(["a", "b", "c"], random.Select(v => (string)v!).Order());
        Assert.Equal(6, (await db.SortedSetRandomMembersAsync("lex", -6)).Length);
        Assert.Equal(1, await db.SortedSetRemoveRangeByValueAsync("lex", "a", "a"));
        Assert.Equal(1, await db.SortedSetRemoveRangeByRankAsync("lex", 0, 0));
        Assert.Equal(["c"], (await db.SortedSetRangeByRankAsync("lex")).Select(v => (string)v!));
    }

    [Fact]
    public async Task Combine_and_store_with_weights()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.SortedSetAddAsync("a", [new("x", 1), new("y", 2)]);
        await db.SortedSetAddAsync("b", [new("y", 10), new("z", 20)]);
        Assert.Equal(3, await db.SortedSetCombineAndStoreAsync(SetOperation.Union, "u", ["a", "b"], [2, 1]));
        Assert.Equal([("x", 2.0), ("y", 14.0), ("z", 20.0)], (await db.SortedSetRangeByRankWithScoresAsync("u")).Select(e => ((string)e.Element!, e.Score)));
        var inter = await db.SortedSetCombineWithScoresAsync(SetOperation.Intersect, ["a", "b"], aggregate: Aggregate.Max);
        Assert.Equal([("y", 10.0)], inter.Select(e => ((string)e.Element!, e.Score)));
        Assert.Equal(["x"], (await db.SortedSetCombineAsync(SetOperation.Difference, ["a", "b"])).Select(v => (string)v!));
        Assert.Equal(1, await db.SortedSetIntersectionLengthAsync(["a", "b"]));
        Assert.Equal(2, await db.SortedSetRangeAndStoreAsync("u", "top", 0, 1, order: Order.Descending));
        Assert.Equal(["y", "z"], (await db.SortedSetRangeByRankAsync("top")).Select(v => (string)v!));
        Assert.Equal(0, await db.SortedSetCombineAndStoreAsync(SetOperation.Intersect, "top", ["a", "missing"]));
        Assert.False(await db.KeyExistsAsync("top"));
    }

    [Fact]
    public async Task Scan_visits_every_member_of_a_large_set_once()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        var entries = Enumerable.Range(0, 1000).Select(i => new SortedSetEntry("m" + i, i % 17)).ToArray();
        await db.SortedSetAddAsync("big", entries);
        var seen = db.SortedSetScan("big", pageSize: 50).ToList();
        Assert.Equal(1000, seen.Count);
        Assert.Equal(1000, seen.Select(e => (string)e.Element!).Distinct().Count());
        Assert.All(seen, e => Assert.Equal(int.Parse(((string)e.Element!)[1..], System.Globalization.CultureInfo.InvariantCulture) % 17, e.Score));
        Assert.Equal(111, db.SortedSetScan("big", "m1*").Count());
    }

    [Fact]
    public async Task Errors_use_redis_texts()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var client = server.Client();
        client.Call("SET", "s", "x");
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value", client.Call("ZADD", "s", "1", "a").Text);
        Assert.Equal("ERR value is not a valid float", client.Call("ZADD", "z", "nan", "a").Text);
        Assert.Equal("ERR XX and NX options at the same time are not compatible", client.Call("ZADD", "z", "NX", "XX", "1", "a").Text);
        Assert.Equal("ERR min or max is not a float", client.Call("ZRANGEBYSCORE", "z", "(x", "1").Text);
        Assert.Equal("ERR min or max not valid string range item", client.Call("ZRANGEBYLEX", "z", "a", "+").Text);
        client.Call("ZADD", "z", "inf", "a");
        Assert.Equal("ERR resulting score is not a number (NaN)", client.Call("ZINCRBY", "z", "-inf", "a").Text);
        Assert.Equal("WRONGTYPE Key is not a valid HyperLogLog string value.", client.Call("PFADD", "s", "a").Text);
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value", client.Call("PFCOUNT", "z").Text);
        Assert.Equal("ERR wrong number of arguments for 'zadd' command", client.Call("ZADD", "z", "1").Text);
    }

    [Fact]
    public async Task HyperLogLog_through_stackexchange_redis_and_a_restart()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        Assert.True(await db.HyperLogLogAddAsync("h1", Enumerable.Range(0, 5000).Select(i => (RedisValue)("a" + i)).ToArray()));
        Assert.False(await db.HyperLogLogAddAsync("h1", "a1"));
        await db.HyperLogLogAddAsync("h2", Enumerable.Range(0, 100).Select(i => (RedisValue)("b" + i)).ToArray());
        await db.HyperLogLogMergeAsync("h3", "h1", "h2");
        var merged = await db.HyperLogLogLengthAsync("h3");
        Assert.InRange(merged, 4950, 5250);
        Assert.Equal(merged, await db.HyperLogLogLengthAsync(["h1", "h2"]));
        await db.SortedSetAddAsync("z", [new("a", 1), new("b", 2)]);
        Assert.Equal(0, server.Stop());
        await server.StartAsync();
        db = server.Db();
        Assert.Equal(merged, await db.HyperLogLogLengthAsync("h3"));
        Assert.Equal([("a", 1.0), ("b", 2.0)], (await db.SortedSetRangeByRankWithScoresAsync("z")).Select(e => ((string)e.Element!, e.Score)));
    }

    private static string Raw(RespReply reply) => System.Text.Encoding.UTF8.GetString(reply.Raw);

    private static Task WaitBlockedAsync(TalusProcess server, int count) =>
        Wait.UntilAsync(() => server.Info("clients")["blocked_clients"] == count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(10), $"{count} blocked clients");

    [Fact]
    public async Task Blocking_pops_reply_as_redis_does_when_they_need_not_wait()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        string script = """
            BZPOPMIN z 0.05|ZADD z 1 a 2 b 3.5 c|BZPOPMIN z 0|BZPOPMAX z 0|SET s x|BZPOPMIN s 0.05|BZPOPMIN missing s z 0
            BZPOPMIN missing z s 0|BZPOPMAX z 0.05|EXISTS z|BZPOPMIN z -1|BZPOPMIN z soon|BZPOPMIN z|BZPOPMAX z 1e20
            ZADD z 1 a 2 b 3 c 4 d|ZMPOP 1 z MIN|ZMPOP 2 nothing z MAX COUNT 2|ZMPOP 2 s z MIN|ZMPOP 0 z MIN|ZMPOP 1 z
            ZMPOP 1 z MIDDLE|ZMPOP 1 z MIN COUNT 0|ZMPOP 1 z MIN COUNT 1 COUNT 2|ZMPOP 9223372036854775807 z MIN
            BZMPOP 0 2 nothing z MIN COUNT 5|BZMPOP 0.05 1 z MIN|BZMPOP -1 1 z MIN|BZMPOP soon 1 z MIN|BZMPOP 0 0 z MIN
            BZMPOP soon 1 z MIDDLE|ZADD z -0.5 m 7 n|BZMPOP 0 2 s z MAX|MULTI|BZPOPMIN none 0|BZMPOP 0 1 none MIN
            BZPOPMAX z 0|EXEC|ZADD z 7 n 8 o|HELLO 3|BZPOPMIN z 0|BZMPOP 0 1 z MAX COUNT 5|BZPOPMIN z 0.05
            """;
        Assert.Equal(42, Differential.RunScript(redis, talus, script));
    }

    [Fact]
    public async Task Clients_blocked_in_bzpopmin_are_woken_by_writes_that_add_members_in_the_order_they_blocked()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var first = server.Client();
        using var second = server.Client();
        using var writer = server.Client();
        first.Send("BZPOPMIN", "z", "0");
        await WaitBlockedAsync(server, 1);
        second.Send("BZPOPMAX", "other", "z", "0");
        await WaitBlockedAsync(server, 2);

        // One ZADD of two members serves both, the longest waiting first.
        Assert.Equal(2, writer.Call("ZADD", "z", "1", "a", "2", "b").Integer);
        Assert.Equal("*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n", Raw(first.Read()));
        Assert.Equal("*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n", Raw(second.Read()));
        Assert.Equal(0, writer.Call("EXISTS", "z").Integer);
        await WaitBlockedAsync(server, 0);

        // A store into the key it waits on serves it; a list written there does not, and it waits on.
        first.Send("BZPOPMAX", "dst", "0");
        await WaitBlockedAsync(server, 1);
        writer.Call("RPUSH", "dst", "x");
        writer.Call("DEL", "dst");
        writer.Call("ZADD", "src", "4", "m", "5", "n");
        Assert.Equal(2, writer.Call("ZUNIONSTORE", "dst", "1", "src").Integer);
        Assert.Equal("*3\r\n$3\r\ndst\r\n$1\r\nn\r\n$1\r\n5\r\n", Raw(first.Read()));
        second.Send("BZPOPMIN", "range", "0");
        await WaitBlockedAsync(server, 1);
        Assert.Equal(1, writer.Call("ZRANGESTORE", "range", "src", "0", "0").Integer);
        Assert.Equal("*3\r\n$5\r\nrange\r\n$1\r\nm\r\n$1\r\n4\r\n", Raw(second.Read()));
        Assert.Equal(0, writer.Call("EXISTS", "range").Integer);

        // BZMPOP waits in the same queues and pops up to its count.
        second.Send("BZMPOP", "0", "2", "m1", "m2", "MAX", "COUNT", "5");
        await WaitBlockedAsync(server, 1);
        writer.Call("ZADD", "m2", "1", "a", "2", "b");
        Assert.Equal("*2\r\n$2\r\nm2\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n", Raw(second.Read()));

        // ZINCRBY of a new member wakes too; a timeout answers the null array.
        first.Send("BZPOPMIN", "inc", "0");
        await WaitBlockedAsync(server, 1);
        writer.Call("ZINCRBY", "inc", "2.5", "x");
        Assert.Equal("*3\r\n$3\r\ninc\r\n$1\r\nx\r\n$3\r\n2.5\r\n", Raw(first.Read()));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", Raw(first.Call("BZPOPMAX", "never", "0.3")));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }
}
