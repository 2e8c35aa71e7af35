using StackExchange.Redis;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>Set commands end to end through StackExchange.Redis (replies byte for byte: HashSetDifferentialTests).</summary>
public class SetCommandsTests
{
    private static List<string> Sorted(IEnumerable<RedisValue> values) => values.Select(v => (string)v!).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Members_can_be_added_tested_and_removed()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        Assert.Equal(3, await db.SetAddAsync("s", ["a", "b", "c", "a"]));
        Assert.False(await db.SetAddAsync("s", "b"));
        Assert.Equal(3, await db.SetLengthAsync("s"));
        Assert.True(await db.SetContainsAsync("s", "a"));
        var contained = await db.SetContainsAsync("s", ["a", "z", "c"]);
        Assert.Equal(new[] { true, false, true }, contained);
        Assert.Equal(["a", "b", "c"], Sorted(await db.SetMembersAsync("s")));
        Assert.Equal(2, await db.SetRemoveAsync("s", ["a", "b", "zz"]));
        Assert.True(await db.SetRemoveAsync("s", "c"));
        Assert.False(await db.KeyExistsAsync("s"));
        await db.StringSetAsync("str", "x");
        var wrongType = await Assert.ThrowsAsync<RedisServerException>(() => db.SetAddAsync("str", "a"));
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value", wrongType.Message);
    }

    [Fact]
    public async Task Pop_and_random_member_pick_from_the_set()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        var all = Enumerable.Range(0, 50).Select(i => (RedisValue)$"m{i}").ToArray();
        await db.SetAddAsync("s", all);
        var popped = await db.SetPopAsync("s", 20);
        Assert.Equal(20, popped.Select(p => (string)p!).Distinct().Count());
        Assert.Equal(30, await db.SetLengthAsync("s"));
        Assert.All(popped, p => Assert.False(db.SetContains("s", p)));
        var single = await db.SetPopAsync("s");
        Assert.Contains(single, all);
        Assert.Equal(29, await db.SetLengthAsync("s"));
        Assert.Equal(10, (await db.SetRandomMembersAsync("s", 10)).Distinct().Count());
        Assert.Equal(100, (await db.SetRandomMembersAsync("s", -100)).Length);
        Assert.Equal(29, (await db.SetRandomMembersAsync("s", 1000)).Length);
        Assert.Equal(29, (await db.SetPopAsync("s", 1000)).Length);
        Assert.False(await db.KeyExistsAsync("s"));
        Assert.True((await db.SetPopAsync("s")).IsNull);
    }

    [Fact]
    public async Task Combinations_and_their_store_forms_match_set_algebra()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.SetAddAsync("a", ["1", "2", "3", "4"]);
        await db.SetAddAsync("b", ["3", "4", "5"]);
        await db.SetAddAsync("c", ["4", "6"]);
        Assert.Equal(["4"], Sorted(await db.SetCombineAsync(SetOperation.Intersect, ["a", "b", "c"])));
        Assert.Equal(["1", "2", "3", "4", "5", "6"], Sorted(await db.SetCombineAsync(SetOperation.Union, ["a", "b", "c"])));
        Assert.Equal(["1", "2"], Sorted(await db.SetCombineAsync(SetOperation.Difference, ["a", "b", "c"])));
        Assert.Empty(await db.SetCombineAsync(SetOperation.Intersect, ["a", "missing"]));
        Assert.Equal(2, await db.SetIntersectionLengthAsync(["a", "b"]));
        Assert.Equal(1, await db.SetIntersectionLengthAsync(["a", "b"], limit: 1));
        await db.StringSetAsync("dest", "was a string");
        Assert.Equal(6, await db.SetCombineAndStoreAsync(SetOperation.Union, "dest", ["a", "b", "c"]));
        Assert.Equal(6, await db.SetLengthAsync("dest"));
        Assert.Equal(1, await db.SetCombineAndStoreAsync(SetOperation.Difference, "dest", ["c", "a"]));
        Assert.Equal(["6"], Sorted(await db.SetMembersAsync("dest")));
        Assert.Equal(0, await db.SetCombineAndStoreAsync(SetOperation.Intersect, "dest", ["a", "missing"]));
        Assert.False(await db.KeyExistsAsync("dest"));
    }

    [Fact]
    public async Task Move_transfers_a_member_between_sets()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.SetAddAsync("src", ["a", "b"]);
        Assert.True(await db.SetMoveAsync("src", "dst", "a"));
        Assert.False(await db.SetMoveAsync("src", "dst", "a"));
        Assert.True(await db.SetMoveAsync("src", "dst", "b"));
        Assert.False(await db.KeyExistsAsync("src"));
        Assert.Equal(["a", "b"], Sorted(await db.SetMembersAsync("dst")));
        Assert.False(await db.SetMoveAsync("missing", "dst", "a"));
    }

    [Fact]
    public async Task Sscan_pages_through_a_large_set()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        var members = Enumerable.Range(0, 3000).Select(i => (RedisValue)$"member:{i}").ToArray();
        foreach (var chunk in members.Chunk(1000))
        {
            await db.SetAddAsync("big", chunk);
        }
        var seen = new HashSet<string>();
        await foreach (var member in db.SetScanAsync("big", pageSize: 41))
        {
            Assert.True(seen.Add(member!), $"{member} returned twice");
        }
        Assert.Equal(3000, seen.Count);
        var matched = new List<string>();
        await foreach (var member in db.SetScanAsync("big", "member:29?", pageSize: 500))
        {
            matched.Add(member!);
        }
        Assert.Equal(10, matched.Count);
    }

    [Fact]
    public async Task Concurrent_clients_adding_to_one_set_lose_nothing()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int clients = 20, perClient = 200;
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(() =>
        {
            using var client = server.Client();
            for (var i = 0; i < perClient; i++)
            {
                client.Send("SADD", "shared", $"c{c}-{i}", "common");
            }
            for (var i = 0; i < perClient; i++)
            {
                Assert.False(client.Read().IsError);
            }
        }));
        await Task.WhenAll(tasks);
        var db = server.Db();
        Assert.Equal(clients * perClient + 1, await db.SetLengthAsync("shared"));
        Assert.Equal(clients * perClient + 1, (await db.SetMembersAsync("shared")).Length);
    }

    [Fact]
    public async Task Sets_survive_a_restart()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.SetAddAsync("kept", ["x", "y"]);
        Assert.Equal(0, server.Stop());
        await server.StartAsync();
        Assert.Equal(["x", "y"], Sorted(await server.Db().SetMembersAsync("kept")));
    }
}
