using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// Hostile and unusual input on the wire: random bytes, truncated and malformed frames, huge headers, a
/// million arguments, binary data, inline commands, long pipelines. Where Redis has an answer the bytes are
/// compared with a real redis-server; after every bad client a good client on another connection must
/// still be served.
/// </summary>
public partial class ProtocolRobustnessTests : IClassFixture<ProtocolRobustnessTests.Servers>
{
    private const int Seed = 7331;
    private readonly Servers _servers;

    public ProtocolRobustnessTests(Servers servers) => _servers = servers;

    /// <summary>One redis-server and one talus shared by the tests that leave no state behind.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        public RedisProcess Redis { get; private set; } = null!;

        public TalusProcess Talus { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Redis = await RedisProcess.LaunchAsync();
            Talus = await TalusProcess.LaunchAsync();
        }

        public async Task DisposeAsync()
        {
            await Redis.DisposeAsync();
            await Talus.DisposeAsync();
        }
    }

    [Fact]
    public async Task Random_bytes_get_the_same_replies_and_closes_as_redis()
    {
        var (redis, talus) = (_servers.Redis, _servers.Talus);
        var rng = new Random(Seed);
        var blobs = Enumerable.Range(0, 400).Select(_ => RandomBlob(rng)).ToList();
        for (var start = 0; start < blobs.Count; start += 25)
        {
            var chunk = blobs.Skip(start).Take(25).ToList();
            var expected = await Task.WhenAll(chunk.Select(b => RawExchange.RunAsync(redis.Port, b)));
            var actual = await Task.WhenAll(chunk.Select(b => RawExchange.RunAsync(talus.Port, b)));
            for (var i = 0; i < chunk.Count; i++)
            {
                AssertSameBytes(expected[i], actual[i], $"seed {Seed}, blob #{start + i}: {Differential.Escape(chunk[i])}");
            }
            AssertServes(talus);
        }
    }

    /// <summary>Random garbage biased towards RESP syntax: type bytes, digits, CR/LF, quotes, NUL, and command letters.</summary>
    private static byte[] RandomBlob(Random rng)
    {
        // Letters are limited to those of PING and ECHO so no destructive or connection-specific command
        // (FLUSHALL, HELLO, SELECT ...) can be spelled by chance.
        const string alphabet = "*$\r\n\r\n0123456789-+ \"'\\xPINGECHO\0:";
        var kind = rng.Next(3);
        var length = rng.Next(1, 120);
        var blob = new List<byte>();
        if (kind == 0)
        {
            for (var i = 0; i < length; i++)
            {
                blob.Add(rng.Next(10) == 0 ? (byte)rng.Next(256) : (byte)alphabet[rng.Next(alphabet.Length)]);
            }
            return [.. blob];
        }
        // A few valid frames (multibulk and inline), then mutated: bit flips, deletions, insertions, truncation.
        var frames = new[]
        {
            "*1\r\n$4\r\nPING\r\n", "*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n", "PING\r\n", "ECHO \"a\\x41 b\" 'c d'\r\n",
            "*3\r\n$4\r\nECHO\r\n$1\r\nx\r\n$1\r\ny\r\n", "*0\r\n", "*-1\r\n", "\r\n", "ECHO\r\n", "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n",
        };
        var count = rng.Next(1, 5);
        for (var i = 0; i < count; i++)
        {
            blob.AddRange(Encoding.ASCII.GetBytes(frames[rng.Next(frames.Length)]));
        }
        if (kind == 2)
        {
            var mutations = rng.Next(1, 4);
            for (var m = 0; m < mutations && blob.Count > 0; m++)
            {
                var at = rng.Next(blob.Count);
                switch (rng.Next(4))
                {
                    case 0: blob[at] ^= (byte)(1 << rng.Next(8)); break;
                    case 1: blob.RemoveAt(at); break;
                    case 2: blob.Insert(at, (byte)alphabet[rng.Next(alphabet.Length)]); break;
                    default: blob.RemoveRange(at, blob.Count - at); break;
                }
            }
        }
        return blob.Count == 0 ? [(byte)'\n'] : [.. blob];
    }

    public static TheoryData<string, string> MalformedFrames => new()
    {
        { "negative bulk length", "*1\r\n$-1\r\n" },
        { "negative bulk length after a good command", "*1\r\n$4\r\nPING\r\n*1\r\n$-5\r\n" },
        { "huge bulk length", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999999999999\r\n" },
        { "bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n" },
        { "huge multibulk count", "*99999999999999999999\r\n" },
        { "multibulk count over INT_MAX", "*2147483648\r\n" },
        { "non-numeric multibulk count", "*abc\r\n" },
        { "multibulk count with a plus sign", "*+1\r\n$4\r\nPING\r\n" },
        { "multibulk count with a space", "* 1\r\n$4\r\nPING\r\n" },
        { "multibulk count with a leading zero", "*01\r\n$1\r\nx\r\n" },
        { "bulk length with a leading zero", "*1\r\n$01\r\nx\r\n" },
        { "bulk length with a plus sign", "*1\r\n$+4\r\nPING\r\n" },
        { "LF without CR", "*1\n$4\r\nPING\r\n" },
        { "simple string instead of bulk", "*1\r\n+PING\r\n" },
        { "integer instead of bulk", "*1\r\n:1\r\n" },
        { "unbalanced double quote", "PING \"abc\r\n" },
        { "unbalanced single quote", "ECHO 'abc\r\n" },
        { "closing quote followed by text", "ECHO \"a\"b\r\n" },
        { "mbulk count line over 64 KB", "*" + new string('1', 70_000) },
        { "bulk length line over 64 KB", "*1\r\n$" + new string('1', 70_000) },
        { "inline line over 64 KB", new string('a', 70_000) },
    };

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public async Task Malformed_frames_get_redis_error_and_the_connection_is_closed(string what, string frame)
    {
        var (redis, talus) = (_servers.Redis, _servers.Talus);
        var input = Encoding.Latin1.GetBytes(frame);
        // No half-close: the server must close by itself after writing its error.
        var expected = await RawExchange.RunAsync(redis.Port, input, halfClose: false, timeout: TimeSpan.FromSeconds(10));
        var actual = await RawExchange.RunAsync(talus.Port, input, halfClose: false, timeout: TimeSpan.FromSeconds(10));
        Assert.Contains("-ERR Protocol error", Encoding.Latin1.GetString(expected));
        AssertSameBytes(expected, actual, what);
        AssertServes(talus);
    }

    public static TheoryData<string, string> AcceptedOddities => new()
    {
        { "negative multibulk count is an empty command", "*-1\r\nPING\r\n" },
        { "zero multibulk count", "*0\r\nPING\r\n" },
        { "bulk terminator not checked", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n" },
        { "empty lines", "\r\n\r\n\n PING\r\n" },
        { "bulk header as inline", "$4\r\nPING\r\n" },
        { "integer as inline", ":1\r\n" },
        { "inline with quotes and escapes", "ECHO \"a\\x41\\n\\t\\\\\\\"\" 'it\\'s'\r\nECHO \"\\xZZ\"\r\n" },
        { "inline tabs and vertical tabs", "ECHO\ta\x0bb\r\n\x0bPING\r\n" },
        { "inline LF only", "PING\nECHO x\n" },
        { "unknown inline command", "NOSUCH a \"b c\"\r\n" },
        { "wrong arity", "GET\r\n*3\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\nPING a b\r\n" },
        { "NUL in a count line keeps it incomplete", "*1\0\r\n$4\r\nPING\r\n" },
        { "NUL in an inline line keeps it incomplete", "PI\0NG\r\nPING\r\n" },
        { "truncated bulk", "*2\r\n$4\r\nECHO\r\n$10\r\nabc" },
        { "huge multibulk header, no arguments", "*1048577\r\n" },
        { "largest multibulk header, no arguments", "*2147483647\r\n" },
        { "largest bulk header, no payload", "*1\r\n$536870912\r\n" },
        { "QUIT with a pipeline after it", "PING\r\nQUIT\r\nPING\r\n" },
    };

    [Theory]
    [MemberData(nameof(AcceptedOddities))]
    public async Task Unusual_but_valid_input_is_answered_as_redis_does(string what, string frame)
    {
        var (redis, talus) = (_servers.Redis, _servers.Talus);
        var input = Encoding.Latin1.GetBytes(frame);
        var expected = await RawExchange.RunAsync(redis.Port, input);
        var actual = await RawExchange.RunAsync(talus.Port, input);
        AssertSameBytes(expected, actual, what);
        AssertServes(talus);
    }

    [Fact]
    public async Task A_pipeline_truncated_at_every_byte_then_closed_is_answered_as_redis_does()
    {
        var (redis, talus) = (_servers.Redis, _servers.Talus);
        var pipeline = Encoding.ASCII.GetBytes(
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO \"x y\"\r\n*2\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n");
        for (var cut = 0; cut <= pipeline.Length; cut += 4)
        {
            var input = pipeline[..cut];
            var tasks = new[] { RawExchange.RunAsync(redis.Port, input), RawExchange.RunAsync(talus.Port, input) };
            var replies = await Task.WhenAll(tasks);
            AssertSameBytes(replies[0], replies[1], $"pipeline cut after {cut} bytes");
        }
        AssertServes(talus);
    }

    [Fact]
    public void Huge_declared_lengths_do_not_allocate()
    {
        var talus = _servers.Talus;
        AssertServes(talus);
        var before = RawExchange.ResidentBytes(talus.Pid);
        // Headers that promise gigabytes, held open for a moment, from several clients at once.
        var headers = new[] { "*2147483647\r\n", "*1048577\r\n", "*1\r\n$536870912\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\nabc" };
        var clients = headers.Select(h =>
        {
            var c = talus.Client();
            c.SendRaw(Encoding.ASCII.GetBytes(h));
            return c;
        }).ToList();
        AssertServes(talus);
        var during = RawExchange.ResidentBytes(talus.Pid);
        foreach (var c in clients)
        {
            c.Dispose();
        }
        AssertServes(talus);
        Assert.True(during - before < 64L * 1024 * 1024, $"RSS grew from {before >> 20} MB to {during >> 20} MB on bare headers");
    }

    [Fact]
    public async Task A_million_argument_DEL_is_accepted_like_redis_and_memory_stays_bounded()
    {
        await using var redis = await RedisProcess.LaunchAsync();
        await using var talus = await TalusProcess.LaunchAsync();
        const int keys = 1_000_000;
        var command = new List<byte[]>(keys + 1) { "DEL"u8.ToArray() };
        for (var i = 0; i < keys; i++)
        {
            command.Add(Encoding.ASCII.GetBytes("key:" + i));
        }
        var frame = RespClient.Encode(command);
        foreach (var server in new ServerProcess[] { redis, talus })
        {
            using var c = server.Client();
            c.Call("MSET", "key:0", "a", "key:999999", "b", "key:500000", "c", "other", "d");
        }
        AssertServes(talus);
        var before = RawExchange.ResidentBytes(talus.Pid);
        var expected = await RawExchange.RunAsync(redis.Port, frame, timeout: TimeSpan.FromSeconds(60));
        var actual = await RawExchange.RunAsync(talus.Port, frame, timeout: TimeSpan.FromSeconds(60));
        var after = RawExchange.ResidentBytes(talus.Pid);
        Assert.Equal(":3\r\n", Encoding.ASCII.GetString(expected));
        AssertSameBytes(expected, actual, "DEL with a million keys");
        // The frame is about 17 MB; the read buffer and the argument arena (and the runtime's pools) take a few times that.
        Assert.True(after - before < 256L * 1024 * 1024, $"RSS grew from {before >> 20} MB to {after >> 20} MB for a {frame.Length >> 20} MB command");
        using var check = talus.Client();
        Assert.Equal(":1", Encoding.ASCII.GetString(check.Call("EXISTS", "other").Raw).TrimEnd());
        AssertServes(talus);
    }

    [Fact]
    public async Task Keys_and_values_with_every_byte_value_round_trip()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = talus.Client();
        var every = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        for (var b = 0; b < 256; b++)
        {
            var key = new[] { (byte)b };
            var value = every.Skip(b).Concat(every.Take(b)).ToArray(); // every byte, starting at b
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(c.Call(["SET"u8.ToArray(), key, value]).Raw));
        }
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(c.Call(["SET"u8.ToArray(), every, every]).Raw));
        for (var b = 0; b < 256; b++)
        {
            var reply = c.Call(["GET"u8.ToArray(), [(byte)b]]);
            Assert.Equal(every.Skip(b).Concat(every.Take(b)).ToArray(), reply.Bytes);
        }
        Assert.Equal(every, c.Call(["GET"u8.ToArray(), every]).Bytes);
        Assert.Equal(257, c.Call("DBSIZE").Integer);
        var keys = c.Call("KEYS", "*").Items!.Select(i => i.Bytes!).ToList();
        Assert.Equal(257, keys.Count);
        Assert.Contains(keys, k => k.AsSpan().SequenceEqual(every));
    }

    [Fact]
    public async Task Ten_thousand_pipelined_commands_in_one_write_are_answered_in_order()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = talus.Client();
        const int n = 10_000;
        using var batch = new MemoryStream();
        for (var i = 0; i < n; i++)
        {
            var command = (i % 3) switch
            {
                0 => new[] { "SET", "p" + i, "v" + i },
                1 => ["GET", "p" + (i - 1)],
                _ => ["INCR", "counter"],
            };
            batch.Write(RespClient.Encode(command.Select(Encoding.ASCII.GetBytes).ToArray()));
        }
        c.SendRaw(batch.ToArray());
        long increments = 0;
        for (var i = 0; i < n; i++)
        {
            var reply = c.Read();
            var expected = (i % 3) switch
            {
                0 => "+OK\r\n",
                1 => $"${("v" + (i - 1)).Length}\r\nv{i - 1}\r\n",
                _ => $":{++increments}\r\n",
            };
            Assert.Equal(expected, Encoding.ASCII.GetString(reply.Raw));
        }
        AssertServes(talus);
    }

    private static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            Assert.Fail($"{what}\n  redis: {Differential.Escape(expected)}\n  talus: {Differential.Escape(actual)}");
        }
    }

    /// <summary>A new client on another connection is served: PING, and a write read back.</summary>
    internal static void AssertServes(ServerProcess server, string? password = null)
    {
        Assert.True(server.IsRunning, "the server process exited:\n" + server.ReadLog());
        using var c = server.Client();
        if (password is not null)
        {
            Assert.Equal("OK", c.Call("AUTH", password).Text);
        }
        Assert.Equal("PONG", c.Call("PING").Text);
        var token = Guid.NewGuid().ToString("N");
        Assert.Equal("OK", c.Call("SET", "probe", token).Text);
        Assert.Equal(token, c.Call("GET", "probe").Text);
    }
}
