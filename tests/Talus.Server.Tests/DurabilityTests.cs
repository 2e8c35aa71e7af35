using System.Collections.Concurrent;
using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// Crash and shutdown behaviour of a real talus process: kill -9 in the middle of a write load, then a restart
/// on the same directory and port must show every write the clients saw acknowledged; SIGTERM must exit 0
/// with everything kept.
/// </summary>
public class DurabilityTests
{
    private const int Writers = 4;
    // Far more than a writer can send before the kill (the kill comes at 2,000 acknowledged writes in all; the
    // 60-second token bounds the time): with 20,000, a fast server let writers finish before the test saw 2,000.
    private const int MaxWritesPerWriter = 2_000_000;

    /// <summary>What the writers saw acknowledged (and what they attempted without an answer).</summary>
    private sealed class Ledger
    {
        public ConcurrentDictionary<string, string> Acked { get; } = new();

        /// <summary>Per counter key: the last value INCRBY returned, and the increments sent after it without an answer.</summary>
        public ConcurrentDictionary<string, (long Acked, long Unanswered)> Counters { get; } = new();

        public long Count => Acked.Count;
    }

    [Theory]
    [InlineData("always")]
    [InlineData("everysec")]
    public async Task Every_acknowledged_write_survives_kill_9(string fsync)
    {
        await using var server = await TalusProcess.LaunchAsync("--appendfsync", fsync);
        var ledger = new Ledger();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteUntilKilled(server, w, ledger, stop.Token))).ToArray();
        // Kill in the middle of the load: once a good number of writes are acknowledged, while all writers still run.
        await Wait.UntilAsync(() => ledger.Count >= 2_000 || writers.Any(t => t.IsCompleted), TimeSpan.FromSeconds(60), "2,000 acknowledged writes");
        Assert.All(writers, t => Assert.False(t.IsCompleted,
            $"a writer stopped before the kill ({(t.IsCompletedSuccessfully ? t.Result : t.Exception)}); server running: {server.IsRunning}; log:\n{server.ReadLog()}"));
        server.Kill();
        await Task.WhenAll(writers);
        Assert.True(ledger.Count >= 2_000);

        await using var restarted = TalusProcess.Create(server.Directory, server.Port, "--appendfsync", fsync);
        await restarted.StartAsync();
        using var c = restarted.Client();
        var keys = ledger.Acked.Keys.ToList();
        for (var i = 0; i < keys.Count; i += 500)
        {
            var batch = keys.Skip(i).Take(500).ToArray();
            var values = c.Call(["MGET", .. batch]).Items!;
            for (var j = 0; j < batch.Length; j++)
            {
                Assert.True(values[j].Text == ledger.Acked[batch[j]],
                    $"{fsync}: acknowledged {batch[j]} = {ledger.Acked[batch[j]]} but after the restart it is {values[j]}");
            }
        }
        foreach (var (key, (acked, unanswered)) in ledger.Counters)
        {
            var value = long.Parse(c.Call("GET", key).Text ?? "0", CultureInfo.InvariantCulture);
            Assert.InRange(value, acked, acked + unanswered);
        }
        Assert.Equal("OK", c.Call("SET", "after-restart", "1").Text);
        Assert.Equal("1", c.Call("GET", "after-restart").Text);
    }

    /// <summary>
    /// One writer: SET of fresh keys, MSET of two, INCRBY of its counter, one command at a time, each recorded
    /// once acknowledged. Stops when the server goes away (or after a bounded number of writes or time).
    /// </summary>
    private static string WriteUntilKilled(ServerProcess server, int writer, Ledger ledger, CancellationToken token)
    {
        var counter = $"counter:{writer}";
        ledger.Counters[counter] = (0, 0);
        try
        {
            using var c = server.Client();
            for (var i = 0; i < MaxWritesPerWriter && !token.IsCancellationRequested; i++)
            {
                var key = $"w{writer}:{i}";
                var value = $"value-{writer}-{i}-{new string('x', i % 50)}";
                switch (i % 3)
                {
                    case 0:
                        if (c.Call("SET", key, value).Text == "OK")
                        {
                            ledger.Acked[key] = value;
                        }
                        break;
                    case 1:
                        if (c.Call("MSET", key, value, key + ":b", value + "b").Text == "OK")
                        {
                            ledger.Acked[key] = value;
                            ledger.Acked[key + ":b"] = value + "b";
                        }
                        break;
                    default:
                        var (acked, unanswered) = ledger.Counters[counter];
                        ledger.Counters[counter] = (acked, unanswered + 1);
                        var reply = c.Call("INCRBY", counter, "1");
                        Assert.Equal(':', reply.Type);
                        ledger.Counters[counter] = (reply.Integer, 0);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            // The server was killed: the write in flight has no answer and is not in the ledger.
            return "connection lost: " + ex.Message;
        }
        return "done";
    }

    [Fact]
    public async Task Sigterm_exits_0_and_keeps_every_write()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int keys = 20_000;
        using (var c = server.Client())
        {
            // Pipelined in batches: fast, and the last replies arrive just before the shutdown.
            for (var start = 0; start < keys; start += 1000)
            {
                for (var i = start; i < start + 1000; i++)
                {
                    c.Send("SET", "k" + i, "v" + i);
                }
                for (var i = start; i < start + 1000; i++)
                {
                    Assert.Equal("OK", c.Read().Text);
                }
            }
            Assert.Equal(keys, c.Call("INCRBY", "n", keys.ToString(CultureInfo.InvariantCulture)).Integer);
        }
        Assert.Equal(0, server.Stop());
        Assert.Contains("ready to exit", server.ReadLog());

        await using var restarted = TalusProcess.Create(server.Directory, server.Port);
        await restarted.StartAsync();
        using var check = restarted.Client();
        Assert.Equal(keys + 1, check.Call("DBSIZE").Integer);
        Assert.Equal(keys.ToString(CultureInfo.InvariantCulture), check.Call("GET", "n").Text);
        for (var i = 0; i < keys; i += 997)
        {
            Assert.Equal("v" + i, check.Call("GET", "k" + i).Text);
        }
        Assert.Equal(0, restarted.Stop());
    }
}
