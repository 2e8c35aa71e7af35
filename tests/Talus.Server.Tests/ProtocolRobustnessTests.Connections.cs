using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>Connection-level limits and handshakes: maxclients, idle timeout, proto-max-bulk-len, requirepass, RESP3.</summary>
public partial class ProtocolRobustnessTests
{
    [Fact]
    public async Task A_client_over_maxclients_gets_redis_error_and_is_closed()
    {
        await using var talus = await TalusProcess.LaunchAsync("--maxclients", "3");
        using var first = talus.Client();
        // The start-up probe's connection may still be counted for a moment: wait until only this one is.
        await Wait.UntilAsync(() => ConnectedClients(first) == 1, TimeSpan.FromSeconds(10), "connected_clients to drop to 1");
        using var second = talus.Client();
        using var third = talus.Client();
        Assert.Equal("PONG", second.Call("PING").Text);
        Assert.Equal("PONG", third.Call("PING").Text);
        using var fourth = talus.Client();
        var refused = fourth.Read();
        Assert.Equal("-ERR max number of clients reached\r\n", Encoding.ASCII.GetString(refused.Raw));
        Assert.True(fourth.IsClosedByServer());
        third.Dispose();
        await Wait.UntilAsync(() => ConnectedClients(first) == 2, TimeSpan.FromSeconds(10), "a slot to free up");
        AssertServes(talus);
    }

    private static long ConnectedClients(RespClient client)
    {
        var info = client.Call("INFO", "clients").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("connected_clients:", StringComparison.Ordinal));
        return long.Parse(line["connected_clients:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task An_idle_client_is_closed_after_timeout_seconds_and_an_active_one_is_not()
    {
        await using var talus = await TalusProcess.LaunchAsync("--timeout", "1");
        using var idle = talus.Client();
        using var active = talus.Client();
        Assert.Equal("PONG", idle.Call("PING").Text);
        var started = DateTime.UtcNow;
        var closed = Task.Run(idle.IsClosedByServer); // blocks until the server closes (or 10 s pass)
        while (!closed.IsCompleted && DateTime.UtcNow - started < TimeSpan.FromSeconds(8))
        {
            Assert.Equal("PONG", active.Call("PING").Text);
            await Task.WhenAny(closed, Task.Delay(200));
        }
        Assert.True(await closed, "the idle client was not closed");
        var idleFor = DateTime.UtcNow - started;
        Assert.True(idleFor >= TimeSpan.FromSeconds(1), $"closed after only {idleFor.TotalMilliseconds:0} ms");
        Assert.Equal("PONG", active.Call("PING").Text);
    }

    [Fact]
    public async Task Proto_max_bulk_len_set_at_runtime_limits_bulks_as_in_redis()
    {
        var (redis, talus) = (_servers.Redis, _servers.Talus);
        foreach (var server in new ServerProcess[] { redis, talus })
        {
            using var c = server.Client();
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(c.Call("CONFIG", "SET", "proto-max-bulk-len", "1mb").Raw));
        }
        try
        {
            var fits = RespClient.Encode(["ECHO"u8.ToArray(), new byte[1024 * 1024]]);
            var tooBig = Encoding.ASCII.GetBytes("*2\r\n$4\r\nECHO\r\n$1048577\r\n");
            foreach (var (input, halfClose) in new[] { (fits, true), (tooBig, false) })
            {
                var expected = await RawExchange.RunAsync(redis.Port, input, halfClose);
                var actual = await RawExchange.RunAsync(talus.Port, input, halfClose);
                AssertSameBytes(expected, actual, $"a {input.Length}-byte frame under proto-max-bulk-len 1mb");
            }
            using var check = talus.Client();
            Assert.Equal("1048576", check.Call("CONFIG", "GET", "proto-max-bulk-len").Items![1].Text);
        }
        finally
        {
            foreach (var server in new ServerProcess[] { redis, talus })
            {
                using var c = server.Client();
                c.Call("CONFIG", "SET", "proto-max-bulk-len", "512mb");
            }
        }
        AssertServes(talus);
    }

    [Fact]
    public async Task Requirepass_handshakes_match_redis()
    {
        const string pass = "s3cret pass";
        await using var redis = await RedisProcess.LaunchAsync("--requirepass", pass);
        await using var talus = await TalusProcess.LaunchAsync("--requirepass", pass);
        var exchanges = new[]
        {
            "PING\r\n",
            "GET k\r\nSET k v\r\nNOSUCH\r\nGET\r\n",
            "AUTH\r\nAUTH wrong\r\nAUTH a b c\r\nAUTH nobody \"s3cret pass\"\r\nPING\r\n",
            "AUTH \"s3cret pass\"\r\nPING\r\nSET k v\r\nGET k\r\n",
            "AUTH default \"s3cret pass\"\r\nGET k\r\n",
            "HELLO 3\r\nHELLO 3 AUTH default wrong\r\nHELLO 2 AUTH nobody x\r\nHELLO 4\r\nHELLO abc\r\nPING\r\n",
            "*11\r\n",
            "*2\r\n$4\r\nECHO\r\n$16385\r\n",
            "*2\r\n$4\r\nECHO\r\n$16384\r\n" + new string('x', 16384) + "\r\n",
            "AUTH \"s3cret pass\"\r\n*11\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
            "QUIT\r\n",
        };
        foreach (var text in exchanges)
        {
            var input = Encoding.ASCII.GetBytes(text);
            var expected = await RawExchange.RunAsync(redis.Port, input);
            var actual = await RawExchange.RunAsync(talus.Port, input);
            AssertSameBytes(expected, actual, Differential.Escape(input));
        }
        using (var c = talus.Client())
        {
            Assert.Equal("-NOAUTH Authentication required.\r\n", Encoding.ASCII.GetString(c.Call("GET", "k").Raw));
            Assert.Equal("OK", c.Call("AUTH", "default", pass).Text);
            Assert.Equal("v", c.Call("GET", "k").Text);
        }
        // HELLO with AUTH authenticates and switches to RESP3 in one step; the reply's id differs between servers.
        using var r = new Differential(redis, talus, Seed) { ComparerFor = cmd => Encoding.ASCII.GetString(cmd[0]) == "HELLO" ? SameMapKeys : null };
        Assert.Equal('%', r.Call("HELLO", "3", "AUTH", "default", pass).Type);
        r.Call("GET", "k");
        r.Call("GET", "missing");
        AssertServes(talus, pass);
    }

    [Fact]
    public void Resp3_replies_have_redis_shapes()
    {
        var (redis, talus) = (_servers.Redis, _servers.Talus);
        using var d = new Differential(redis, talus, Seed) { ComparerFor = cmd => Encoding.ASCII.GetString(cmd[0]) == "HELLO" ? SameMapKeys : null };
        var hello = d.Call("HELLO", "3");
        Assert.Equal('%', hello.Type);
        Assert.Equal(14, hello.Items!.Count);
        d.Call("SET", "r3", "v");
        foreach (var command in new[]
        {
            new[] { "GET", "r3-missing" }, ["GET", "r3"], ["MGET", "r3", "r3-missing"], ["GETDEL", "r3-missing"], ["SET", "r3", "w", "GET"],
            ["SET", "r3", "x", "NX"], ["GETEX", "r3-missing"], ["TTL", "r3"], ["INCRBYFLOAT", "r3f", "1.5"], ["PING"], ["ECHO", "e"],
            ["CONFIG", "GET", "timeout"], ["NOSUCH"], ["TYPE", "r3"], ["HELLO", "2"], ["GET", "r3-missing"], ["HELLO"],
        })
        {
            d.Call(command);
        }
        d.Call("DEL", "r3", "r3f");
        AssertServes(talus);
    }

    /// <summary>Two map replies (HELLO) with the same type, the same keys in the same order, values ignored.</summary>
    private static bool SameMapKeys(RespReply expected, RespReply actual) =>
        expected.Type == actual.Type
        && expected.Items is not null && actual.Items is not null
        && expected.Items.Count == actual.Items.Count
        && expected.Items.Where((_, i) => i % 2 == 0).Select(k => k.Text).SequenceEqual(actual.Items.Where((_, i) => i % 2 == 0).Select(k => k.Text));
}
