using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>The key cache and the list cache seen from outside: the same replies with each and without it, and INFO's account of them.</summary>
public class CacheInfoTests
{
    [Fact]
    public async Task A_server_with_the_key_cache_answers_as_one_without_it_and_INFO_counts_its_hits_and_a_written_key_is_read_from_it()
    {
        await using var cached = await TalusProcess.LaunchAsync();
        await using var uncached = await TalusProcess.LaunchAsync("--key-cache-size", "0");
        string[][] script =
        [
            ["SET", "a", "1"], ["GET", "a"], ["GET", "a"], ["GET", "missing"], ["GET", "missing"],
            ["INCR", "n"], ["GET", "n"], ["INCR", "n"], ["GET", "n"], ["APPEND", "a", "x"], ["GET", "a"],
            ["HSET", "h", "f", "v"], ["TYPE", "h"], ["GET", "h"], ["HGET", "h", "f"], ["DEL", "h"], ["TYPE", "h"],
            ["SET", "h", "s"], ["GET", "h"], ["EXPIRE", "a", "100"], ["TTL", "a"], ["PERSIST", "a"], ["TTL", "a"],
            ["RENAME", "a", "b"], ["GET", "a"], ["GET", "b"], ["LPUSH", "l", "1", "2"], ["LPOP", "l"], ["LLEN", "l"],
            ["SELECT", "2"], ["GET", "b"], ["SET", "b", "other"], ["SELECT", "0"], ["GET", "b"], ["FLUSHDB"], ["GET", "b"],
            ["SELECT", "2"], ["GET", "b"], ["FLUSHALL"], ["GET", "b"], ["SET", "e", "1", "PX", "1"],
        ];
        using var c = cached.Client();
        using var u = uncached.Client();
        foreach (var command in script)
        {
            Assert.Equal(u.Call(command).ToString(), c.Call(command).ToString());
        }
        await Wait.UntilAsync(() => c.Call("EXISTS", "e").Integer == 0, TimeSpan.FromSeconds(5), "the 1 ms key to expire");
        Assert.Null(c.Call("GET", "e").Text);
        // The expiry sweeper reads an expired key's metadata again (through the cache) before it deletes it: once it
        // has, nothing but this client reads the cache, and the hits counted below are this client's.
        await Wait.UntilAsync(() => cached.Info("stats")["expired_keys"] != "0", TimeSpan.FromSeconds(10), "the sweeper to delete the expired key");

        var stats = cached.Info("stats");
        Assert.True(long.Parse(stats["talus_key_cache_hits"]) > 5, stats["talus_key_cache_hits"]);
        Assert.True(long.Parse(stats["talus_key_cache_misses"]) > 0, stats["talus_key_cache_misses"]);
        Assert.Equal("67108864", cached.Info("memory")["talus_key_cache_capacity"]);
        var memory = cached.Info("memory");
        Assert.True(long.Parse(memory["talus_key_cache_used"]) > 0);
        Assert.True(long.Parse(memory["used_memory"]) >= long.Parse(memory["talus_key_cache_used"]) + long.Parse(memory["talus_managed_heap"]));
        Assert.Equal("0", uncached.Info("stats")["talus_key_cache_hits"]);

        // A key read right after its first write is answered from the cache: the write put it there.
        var before = cached.Info("stats");
        Assert.Equal("OK", c.Call("SET", "fresh", "v").Text);
        Assert.Equal("v", c.Call("GET", "fresh").Text);
        var after = cached.Info("stats");
        Assert.Equal(long.Parse(before["talus_key_cache_hits"]) + 1, long.Parse(after["talus_key_cache_hits"]));
        Assert.Equal(before["talus_key_cache_misses"], after["talus_key_cache_misses"]);
        Assert.Equal("0", uncached.Info("memory")["talus_key_cache_capacity"]);
    }

    [Fact]
    public async Task A_server_with_the_list_cache_answers_every_range_read_as_one_without_it_and_INFO_counts_its_hits()
    {
        await using var cached = await TalusProcess.LaunchAsync();
        await using var uncached = await TalusProcess.LaunchAsync("--list-cache-size", "0");
        using var c = cached.Client();
        using var u = uncached.Client();
        string[] read = ["LRANGE", "l", "0", "-1"];
        string[][] writes =
        [
            ["RPUSH", "l", "a", "b", "c", "d"], ["LSET", "l", "1", "B"], ["LPUSH", "l", "z"], ["RPOP", "l"],
            ["LINSERT", "l", "AFTER", "B", "x"], ["LREM", "l", "0", "c"], ["LTRIM", "l", "0", "2"], ["LMOVE", "l", "l", "LEFT", "RIGHT"],
            ["RPOPLPUSH", "l", "m"], ["RENAME", "m", "l"], ["EXPIRE", "l", "100"], ["SET", "l", "s"], ["DEL", "l"],
            ["RPUSH", "l", "n"], ["SELECT", "1"], ["RPUSH", "l", "other"], ["SELECT", "0"], ["FLUSHALL"], ["RPUSH", "l", "last"],
        ];
        foreach (var write in writes)
        {
            Assert.Equal(u.Call(write).ToString(), c.Call(write).ToString());
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(u.Call(read).ToString(), c.Call(read).ToString());
                Assert.Equal(u.Call("LRANGE", "l", "0", "1").ToString(), c.Call("LRANGE", "l", "0", "1").ToString());
            }
        }

        var stats = cached.Info("stats");
        Assert.True(long.Parse(stats["talus_list_cache_hits"]) >= writes.Length, stats["talus_list_cache_hits"]);
        Assert.True(long.Parse(stats["talus_list_cache_misses"]) > 0, stats["talus_list_cache_misses"]);
        Assert.Equal("33554432", cached.Info("memory")["talus_list_cache_capacity"]);
        Assert.True(long.Parse(cached.Info("memory")["talus_list_cache_used"]) > 0);
        Assert.Equal("0", uncached.Info("stats")["talus_list_cache_hits"]);
        Assert.Equal("0", uncached.Info("memory")["talus_list_cache_capacity"]);
    }

    [Fact]
    public async Task A_server_with_the_subkey_cache_answers_as_one_without_it_and_INFO_counts_its_hits()
    {
        await using var cached = await TalusProcess.LaunchAsync();
        await using var uncached = await TalusProcess.LaunchAsync("--subkey-cache-size", "0");
        // Members, fields and elements read, written, removed and read again; collections deleted and made again
        // under a new version; a list index popped and pushed again; FLUSHALL.
        string[][] script =
        [
            ["SADD", "s", "a", "b"], ["SISMEMBER", "s", "a"], ["SISMEMBER", "s", "a"], ["SISMEMBER", "s", "x"],
            ["SADD", "s", "x"], ["SISMEMBER", "s", "x"], ["SREM", "s", "a"], ["SISMEMBER", "s", "a"], ["SMISMEMBER", "s", "a", "b", "x"],
            ["SMOVE", "s", "t", "b"], ["SISMEMBER", "s", "b"], ["SISMEMBER", "t", "b"], ["DEL", "s"], ["SADD", "s", "y"], ["SISMEMBER", "s", "x"],
            ["HSET", "h", "f", "1"], ["HGET", "h", "f"], ["HSET", "h", "f", "2"], ["HGET", "h", "f"], ["HINCRBY", "h", "f", "5"], ["HGET", "h", "f"],
            ["HSETNX", "h", "f", "9"], ["HDEL", "h", "f"], ["HGET", "h", "f"], ["HEXISTS", "h", "f"], ["HSET", "h", "g", "v"], ["HSTRLEN", "h", "g"],
            ["ZADD", "z", "1", "m"], ["ZSCORE", "z", "m"], ["ZINCRBY", "z", "2", "m"], ["ZSCORE", "z", "m"], ["ZREM", "z", "m"], ["ZSCORE", "z", "m"],
            ["RPUSH", "l", "a", "b"], ["LPOP", "l"], ["LPUSH", "l", "c"], ["LPOP", "l"], ["LINDEX", "l", "0"], ["LSET", "l", "0", "d"], ["LINDEX", "l", "0"],
            ["RENAME", "h", "h2"], ["HGET", "h2", "g"], ["HGET", "h", "g"], ["COPY", "h2", "h"], ["HGET", "h", "g"],
            ["FLUSHALL"], ["SISMEMBER", "s", "y"], ["HGET", "h", "g"], ["SADD", "s", "y"], ["SISMEMBER", "s", "y"],
        ];
        using var c = cached.Client();
        using var u = uncached.Client();
        foreach (var command in script)
        {
            Assert.Equal(u.Call(command).ToString(), c.Call(command).ToString());
        }

        var stats = cached.Info("stats");
        Assert.True(long.Parse(stats["talus_subkey_cache_hits"]) > 5, stats["talus_subkey_cache_hits"]);
        Assert.True(long.Parse(stats["talus_subkey_cache_misses"]) > 0, stats["talus_subkey_cache_misses"]);
        Assert.Equal("0", uncached.Info("stats")["talus_subkey_cache_hits"]);
        var memory = cached.Info("memory");
        Assert.Equal("67108864", memory["talus_subkey_cache_capacity"]);
        Assert.True(long.Parse(memory["talus_subkey_cache_used"]) > 0);
        Assert.Equal("0", uncached.Info("memory")["talus_subkey_cache_capacity"]);

        // A member added to a set that exists is answered from the cache by the next read: SADD read it (missing)
        // before it wrote it, and the write left it present.
        Assert.Equal(1, c.Call("SADD", "s", "added").Integer);
        var before = cached.Info("stats");
        Assert.Equal(1, c.Call("SISMEMBER", "s", "added").Integer);
        var after = cached.Info("stats");
        Assert.Equal(long.Parse(before["talus_subkey_cache_hits"]) + 1, long.Parse(after["talus_subkey_cache_hits"]));
    }
}
