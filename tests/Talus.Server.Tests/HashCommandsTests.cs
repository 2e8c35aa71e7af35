using StackExchange.Redis;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>Hash commands end to end through StackExchange.Redis (replies byte for byte: HashSetDifferentialTests).</summary>
public class HashCommandsTests
{
    [Fact]
    public async Task Fields_can_be_set_read_and_deleted()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.HashSetAsync("user:1", [new("name", "ada"), new("lang", "c#"), new("age", "36")]);
        Assert.True(await db.HashSetAsync("user:1", "city", "london"));
        Assert.False(await db.HashSetAsync("user:1", "city", "paris"));
        Assert.False(await db.HashSetAsync("user:1", "city", "rome", When.NotExists));
        Assert.Equal("paris", (string?)await db.HashGetAsync("user:1", "city"));
        Assert.Equal(4, await db.HashLengthAsync("user:1"));
        Assert.True(await db.HashExistsAsync("user:1", "lang"));
        Assert.Equal(3, await db.HashStringLengthAsync("user:1", "name"));
        var values = await db.HashGetAsync("user:1", ["name", "missing", "age"]);
        Assert.Equal(["ada", null, "36"], values.Select(v => (string?)v));
        var all = await db.HashGetAllAsync("user:1");
        Assert.Equal(["age=36", "city=paris", "lang=c#", "name=ada"], all.Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal));
        Assert.Equal(["age", "city", "lang", "name"], (await db.HashKeysAsync("user:1")).Select(k => (string)k!).Order(StringComparer.Ordinal));
        Assert.Equal(4, (await db.HashValuesAsync("user:1")).Length);
        Assert.Equal(2, await db.HashDeleteAsync("user:1", ["age", "lang", "nope"]));
        Assert.Equal(2, await db.HashDeleteAsync("user:1", ["city", "name"]));
        Assert.False(await db.KeyExistsAsync("user:1"));
        Assert.Empty(await db.HashGetAllAsync("user:1"));
    }

    [Fact]
    public async Task Increments_are_exact_and_report_redis_errors()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        Assert.Equal(5, await db.HashIncrementAsync("h", "n", 5));
        Assert.Equal(-5, await db.HashDecrementAsync("h", "n", 10));
        Assert.Equal(10.5, await db.HashIncrementAsync("h", "f", 10.5));
        Assert.Equal("0.1", (string?)await db.ExecuteAsync("HINCRBYFLOAT", "h", "g", "0.1"));
        Assert.Equal("0.3", (string?)await db.ExecuteAsync("HINCRBYFLOAT", "h", "g", "0.2")); // long double, as redis-server

        await db.HashSetAsync("h", "text", "abc");
        var notInteger = await Assert.ThrowsAsync<RedisServerException>(() => db.HashIncrementAsync("h", "text", 1));
        Assert.Equal("ERR hash value is not an integer", notInteger.Message);
        var notFloat = await Assert.ThrowsAsync<RedisServerException>(() => db.HashIncrementAsync("h", "text", 1.5));
        Assert.Equal("ERR hash value is not a float", notFloat.Message);
        await db.HashSetAsync("h", "max", long.MaxValue);
        var overflow = await Assert.ThrowsAsync<RedisServerException>(() => db.HashIncrementAsync("h", "max", 1));
        Assert.Equal("ERR increment or decrement would overflow", overflow.Message);
        await db.StringSetAsync("s", "x");
        var wrongType = await Assert.ThrowsAsync<RedisServerException>(() => db.HashSetAsync("s", "f", "v"));
        Assert.StartsWith("WRONGTYPE", wrongType.Message);
    }

    [Fact]
    public async Task Hscan_pages_through_a_large_hash_without_losing_fields()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        var entries = Enumerable.Range(0, 2000).Select(i => new HashEntry($"field:{i}", $"value:{i}")).ToArray();
        foreach (var chunk in entries.Chunk(500))
        {
            await db.HashSetAsync("big", chunk);
        }
        Assert.Equal(2000, await db.HashLengthAsync("big"));
        var scanned = new Dictionary<string, string>();
        await foreach (var entry in db.HashScanAsync("big", pageSize: 37))
        {
            Assert.True(scanned.TryAdd(entry.Name!, entry.Value!), $"{entry.Name} returned twice");
        }
        Assert.Equal(2000, scanned.Count);
        Assert.All(scanned, p => Assert.Equal("value:" + p.Key["field:".Length..], p.Value));
        var matched = new List<string>();
        await foreach (var entry in db.HashScanAsync("big", "field:19*", pageSize: 100))
        {
            matched.Add(entry.Name!);
        }
        Assert.Equal(111, matched.Count); // field:19, field:190 .. field:199, field:1900 .. field:1999
    }

    [Fact]
    public async Task Hrandfield_returns_distinct_or_repeated_fields_with_their_values()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.HashSetAsync("h", Enumerable.Range(0, 20).Select(i => new HashEntry($"f{i}", $"v{i}")).ToArray());
        var one = (string?)await db.HashRandomFieldAsync("h");
        Assert.Matches("^f[0-9]+$", one!);
        var distinct = await db.HashRandomFieldsAsync("h", 8);
        Assert.Equal(8, distinct.Select(f => (string)f!).Distinct().Count());
        var repeated = await db.HashRandomFieldsAsync("h", -50);
        Assert.Equal(50, repeated.Length);
        var withValues = await db.HashRandomFieldsWithValuesAsync("h", 30);
        Assert.Equal(20, withValues.Length);
        Assert.All(withValues, e => Assert.Equal("v" + ((string)e.Name!)[1..], (string?)e.Value));
        Assert.Null((string?)await db.HashRandomFieldAsync("missing"));
    }

    [Fact]
    public async Task Hashes_survive_a_restart_and_expire_as_a_whole()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        await db.HashSetAsync("kept", [new("a", "1"), new("b", "2")]);
        await db.HashSetAsync("brief", [new("a", "1")]);
        Assert.True(await db.KeyExpireAsync("brief", TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, server.Stop());
        await server.StartAsync();
        db = server.Db();
        Assert.Equal(2, await db.HashLengthAsync("kept"));
        Assert.Equal("2", (string?)await db.HashGetAsync("kept", "b"));
        await Wait.UntilAsync(async () => !await db.KeyExistsAsync("brief"), TimeSpan.FromSeconds(10), "the hash to expire");
        Assert.Equal(0, await db.HashLengthAsync("brief"));
        Assert.True(await db.HashSetAsync("brief", "fresh", "x"));
        Assert.Equal(["fresh"], (await db.HashKeysAsync("brief")).Select(k => (string)k!));
    }

    [Fact]
    public async Task Resp3_clients_get_a_map_from_hgetall()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var client = server.Client();
        client.Call("HSET", "h", "a", "1", "b", "2");
        Assert.Equal('*', client.Call("HGETALL", "h").Type);
        client.Call("HELLO", "3");
        var map = client.Call("HGETALL", "h");
        Assert.Equal('%', map.Type);
        Assert.Equal("%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", System.Text.Encoding.ASCII.GetString(map.Raw));
        Assert.Equal("*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n", SortedPairs(client.Call("HRANDFIELD", "h", "5", "WITHVALUES")));
        Assert.Equal("_\r\n", System.Text.Encoding.ASCII.GetString(client.Call("HGET", "h", "zz").Raw));
    }

    /// <summary>A RESP3 HRANDFIELD WITHVALUES reply re-encoded with its pairs in field order.</summary>
    private static string SortedPairs(RespReply reply)
    {
        var pairs = reply.Items!.Select(p => System.Text.Encoding.ASCII.GetString(p.Raw)).Order(StringComparer.Ordinal);
        return $"*{reply.Items!.Count}\r\n" + string.Concat(pairs);
    }
}
