using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>The list cache seen from outside: the same replies with it and without it, and INFO's account of it.</summary>
public class ListCacheInfoTests
{
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
}
