using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>The key cache seen from outside: the same replies with it and without it, and INFO's account of it.</summary>
public class KeyCacheInfoTests
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
}
