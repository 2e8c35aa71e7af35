using System.Diagnostics;
using System.Globalization;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// The real redis-cli against talus: one-shot commands, --scan, --pipe mass insertion and -x from stdin. Each
/// invocation also runs against a real redis-server and the outputs must be the same.
/// </summary>
public class RedisCliTests : IClassFixture<ProtocolRobustnessTests.Servers>
{
    private readonly ProtocolRobustnessTests.Servers _servers;

    public RedisCliTests(ProtocolRobustnessTests.Servers servers) => _servers = servers;

    private static Task<ExternalProgram.Result> RunCliAsync(int port, byte[]? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli");
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return ExternalProgram.RunAsync(psi, stdin);
    }

    /// <summary>Runs the same redis-cli invocation against redis-server and talus and returns both results.</summary>
    private async Task<(ExternalProgram.Result Redis, ExternalProgram.Result Talus)> BothAsync(byte[]? stdin, params string[] args)
    {
        var redis = await RunCliAsync(_servers.Redis.Port, stdin, args);
        var talus = await RunCliAsync(_servers.Talus.Port, stdin, args);
        return (redis, talus);
    }

    private async Task<ExternalProgram.Result> SameAsync(byte[]? stdin, params string[] args)
    {
        var (redis, talus) = await BothAsync(stdin, args);
        Assert.True(redis == talus, $"redis-cli {string.Join(' ', args)}\n--- redis: {redis}\n--- talus: {talus}");
        return talus;
    }

    [Fact]
    public async Task One_shot_commands_print_the_same_as_against_redis()
    {
        await SameAsync(null, "FLUSHALL");
        Assert.Equal("OK\n", (await SameAsync(null, "SET", "cli:a", "hello world")).StdOut);
        Assert.Equal("hello world\n", (await SameAsync(null, "GET", "cli:a")).StdOut);
        await SameAsync(null, "--no-raw", "GET", "cli:a");
        await SameAsync(null, "--no-raw", "GET", "cli:missing");
        await SameAsync(null, "INCR", "cli:n");
        await SameAsync(null, "--no-raw", "INCRBYFLOAT", "cli:f", "0.1");
        await SameAsync(null, "-r", "3", "INCR", "cli:n");
        await SameAsync(null, "MSET", "cli:b", "1", "cli:c", "2");
        await SameAsync(null, "--no-raw", "MGET", "cli:a", "cli:b", "cli:nope");
        await SameAsync(null, "--no-raw", "GET");
        await SameAsync(null, "NOSUCHCOMMAND", "x");
        await SameAsync(null, "-n", "3", "SET", "cli:db3", "x");
        await SameAsync(null, "-n", "3", "DBSIZE");
        await SameAsync(null, "--no-raw", "EXISTS", "cli:a", "cli:b", "cli:db3");
        await SameAsync(null, "--no-raw", "TTL", "cli:a");
        await SameAsync(null, "--no-raw", "TYPE", "cli:a");
        await SameAsync(null, "--no-raw", "PING");
        await SameAsync(null, "-3", "--no-raw", "GET", "cli:missing");
        await SameAsync(null, "-3", "--no-raw", "MGET", "cli:a", "cli:missing");
        await SameAsync(null, "ECHO", "line1\nline2");
        await SameAsync(null, "FLUSHALL");
    }

    [Fact]
    public async Task Scan_lists_the_same_keys_as_against_redis()
    {
        await SameAsync(null, "FLUSHALL");
        var protocol = new StringBuilder();
        for (var i = 0; i < 500; i++)
        {
            protocol.Append(Encoding.ASCII.GetString(RespClient.Encode([Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes((i % 2 == 0 ? "user:" : "item:") + i), "v"u8.ToArray()])));
        }
        await BothAsync(Encoding.ASCII.GetBytes(protocol.ToString()), "--pipe");
        foreach (var args in new[] { new[] { "--scan" }, ["--scan", "--pattern", "user:*"], ["--scan", "--pattern", "item:1?"], ["--scan", "--pattern", "*:4*"], ["--scan", "--quoted-pattern", "\"user:1*\""] })
        {
            var (redis, talus) = await BothAsync(null, args);
            // SCAN order is the server's own; the set of keys (each exactly once) is what must match.
            var expected = redis.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
            var actual = talus.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, actual);
            Assert.Equal(0, talus.ExitCode);
        }
        await SameAsync(null, "FLUSHALL");
    }

    [Fact]
    public async Task Pipe_mass_insertion_of_10000_keys()
    {
        await SameAsync(null, "FLUSHALL");
        using var protocol = new MemoryStream();
        for (var i = 0; i < 10_000; i++)
        {
            protocol.Write(RespClient.Encode([Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes("mass:" + i), Encoding.ASCII.GetBytes("value " + i)]));
        }
        var result = await SameAsync(protocol.ToArray(), "--pipe");
        Assert.Contains("errors: 0, replies: 10000", result.StdOut);
        Assert.Equal("10000\n", (await SameAsync(null, "DBSIZE")).StdOut);
        Assert.Equal("value 9999\n", (await SameAsync(null, "GET", "mass:9999")).StdOut);
        await SameAsync(null, "FLUSHALL");
    }

    [Fact]
    public async Task Set_with_x_takes_the_value_from_stdin()
    {
        await SameAsync(null, "FLUSHALL");
        var text = Encoding.UTF8.GetBytes("first line\nsecond line\n");
        Assert.Equal("OK\n", (await SameAsync(text, "-x", "SET", "cli:stdin")).StdOut);
        Assert.Equal("first line\nsecond line\n\n", (await SameAsync(null, "GET", "cli:stdin")).StdOut);
        Assert.Equal("23\n", (await SameAsync(null, "STRLEN", "cli:stdin")).StdOut);
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        await SameAsync(binary, "-x", "SET", "cli:binary");
        Assert.Equal("256\n", (await SameAsync(null, "STRLEN", "cli:binary")).StdOut);
        using var c = _servers.Talus.Client();
        Assert.Equal(binary, c.Call("GET", "cli:binary").Bytes);
        await SameAsync(null, "FLUSHALL");
    }
}
