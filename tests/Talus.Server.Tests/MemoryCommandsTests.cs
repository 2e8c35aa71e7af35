using System.Diagnostics;
using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>MEMORY USAGE: Redis' replies for missing keys and bad arguments, storage-size estimates, redis-cli --memkeys.</summary>
public class MemoryCommandsTests
{
    [Fact]
    public async Task Missing_keys_and_bad_arguments_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const string script = """
            HSET h f v|MEMORY USAGE nokey|MEMORY USAGE h SAMPLES -1|MEMORY USAGE h SAMPLES x|MEMORY USAGE h FOO|MEMORY USAGE h SAMPLES
            MEMORY USAGE|MEMORY NOSUCH|MEMORY|TYPE h
            """;
        Assert.Equal(10, Differential.RunScript(redis, talus, script));
    }

    [Fact]
    public async Task Usage_estimates_the_bytes_a_key_takes_in_storage()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = talus.Client();
        c.Call("SET", "s", new string('x', 1000));
        var usage = c.Call("MEMORY", "USAGE", "s").Integer;
        Assert.InRange(usage, 1000, 1100);

        // Fields of one size: the default 5 samples give what reading all of them gives.
        for (var i = 0; i < 1000; i++)
        {
            c.Send("HSET", "h", string.Create(CultureInfo.InvariantCulture, $"field:{i:D5}"), "value-of-fixed-size");
        }
        for (var i = 0; i < 1000; i++)
        {
            c.Read();
        }
        var sampled = c.Call("MEMORY", "USAGE", "h").Integer;
        var all = c.Call("MEMORY", "USAGE", "h", "SAMPLES", "0").Integer;
        Assert.Equal(all, sampled);
        Assert.InRange(all, 1000 * 30, 1000 * 80);
        // Twice the members, about twice the bytes, for each collection type.
        foreach (var (add, key) in new[] { ("SADD", "set"), ("RPUSH", "list") })
        {
            c.Call([add, key, .. Enumerable.Range(0, 500).Select(i => string.Create(CultureInfo.InvariantCulture, $"m{i:D6}"))]);
            var half = c.Call("MEMORY", "USAGE", key).Integer;
            c.Call([add, key, .. Enumerable.Range(500, 500).Select(i => string.Create(CultureInfo.InvariantCulture, $"m{i:D6}"))]);
            var full = c.Call("MEMORY", "USAGE", key).Integer;
            Assert.InRange(full, half * 19 / 10, half * 21 / 10);
        }
        // A sorted set keeps each member twice (member → score, score → member): more than a set of the same members.
        var members = Enumerable.Range(0, 100).Select(i => string.Create(CultureInfo.InvariantCulture, $"m{i:D6}")).ToArray();
        c.Call(["ZADD", "z", .. members.SelectMany(m => new[] { "1.5", m })]);
        c.Call(["SADD", "same", .. members]);
        var zset = c.Call("MEMORY", "USAGE", "z").Integer;
        var set = c.Call("MEMORY", "USAGE", "same").Integer;
        Assert.True(zset > set * 3 / 2, $"sorted set {zset} bytes, set {set}");
    }

    [Fact]
    public async Task Redis_cli_memkeys_sizes_every_key()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using (var c = talus.Client())
        {
            c.Call("SET", "small", "x");
            c.Call(["HSET", "big", .. Enumerable.Range(0, 200).SelectMany(i => new[] { $"f{i}", new string('v', 50) })]);
            c.Call("RPUSH", "l", "a", "b");
        }
        var run = await ExternalProgram.RunAsync(new ProcessStartInfo("redis-cli", ["-p", talus.Port.ToString(CultureInfo.InvariantCulture), "--memkeys"]));
        var output = run.StdOut + run.StdErr;
        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("failed", output, StringComparison.Ordinal);
        Assert.Contains("Biggest   hash found '\"big\"' has", output, StringComparison.Ordinal);
        Assert.Contains("Sampled 3 keys", output, StringComparison.Ordinal);
    }
}
