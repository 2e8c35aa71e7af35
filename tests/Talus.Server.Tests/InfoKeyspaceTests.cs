using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// INFO keyspace: exact on the spot for a small dataset; for one above KeyspaceStats.OnTheSpot records, a
/// background count that INFO reports once it completes; FLUSHALL makes the next INFO count again. DBSIZE
/// stays exact, also when a large dataset is counted off the event thread.
/// </summary>
public class InfoKeyspaceTests
{
    [Fact]
    public async Task A_small_dataset_is_counted_by_INFO_itself_per_database_with_expiries()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = talus.Client();
        Assert.DoesNotContain("db0:", c.Call("INFO", "keyspace").Text!, StringComparison.Ordinal);
        c.Call("SET", "a", "1");
        c.Call("SET", "b", "2", "EX", "100");
        c.Call("SET", "gone", "3", "PX", "1");
        c.Call("SELECT", "3");
        c.Call("SET", "c", "3");
        c.Call("HSET", "h", "f", "v");
        await Wait.UntilAsync(() => c.Call("EXISTS", "gone").Integer == 0, TimeSpan.FromSeconds(5), "the 1 ms key to expire");
        var lines = DbLines(c.Call("INFO", "keyspace").Text!);
        Assert.Equal(["db0:keys=2,expires=1,avg_ttl=0", "db3:keys=2,expires=0,avg_ttl=0"], lines);
        Assert.Equal("OK", c.Call("FLUSHALL").Text);
        Assert.Empty(DbLines(c.Call("INFO", "keyspace").Text!));
    }

    [Fact]
    public async Task A_large_dataset_is_counted_in_the_background_and_reported_once_counted()
    {
        const int Keys = 120_000;
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = new RespClient(talus.Port, timeoutMs: 30_000);
        for (var batch = 0; batch < Keys / 1000; batch++)
        {
            var args = new List<string>(2001) { "MSET" };
            for (var k = 0; k < 1000; k++)
            {
                args.Add(string.Create(CultureInfo.InvariantCulture, $"k:{batch * 1000 + k}"));
                args.Add("v");
            }
            Assert.Equal("OK", c.Call([.. args]).Text);
        }
        Assert.Equal(Keys, c.Call("DBSIZE").Integer);
        // DBSIZE of a large dataset is counted off the event thread; pipelined, its replies keep their places.
        var replies = c.CallPipelined([["DBSIZE"], ["PING"], ["SET", "extra", "1"], ["DBSIZE"], ["DEL", "extra"], ["SELECT", "1"], ["DBSIZE"], ["SELECT", "0"]]);
        Assert.Equal([$":{Keys}", "+PONG", "+OK", $":{Keys + 1}", ":1", "+OK", ":0", "+OK"], replies.Select(r => r.Type + r.ToString()).ToList());
        // More records than INFO counts on the spot: the first INFO starts a background count and lists nothing yet.
        Assert.Empty(DbLines(c.Call("INFO", "keyspace").Text!));
        await Wait.UntilAsync(() => DbLines(c.Call("INFO", "keyspace").Text!) is [var line] && line == $"db0:keys={Keys},expires=0,avg_ttl=0",
            TimeSpan.FromSeconds(60), $"INFO keyspace to report {Keys} keys");
        Assert.Equal("OK", c.Call("FLUSHALL").Text);
        Assert.Empty(DbLines(c.Call("INFO", "keyspace").Text!));
        c.Call("SET", "x", "1");
        Assert.Equal(["db0:keys=1,expires=0,avg_ttl=0"], DbLines(c.Call("INFO", "keyspace").Text!));
    }

    private static string[] DbLines(string info) =>
        [.. info.Split("\r\n").Where(l => l.StartsWith("db", StringComparison.Ordinal))];
}
