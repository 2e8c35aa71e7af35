using System.Globalization;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>Bit commands compared reply by reply, byte for byte, with a real redis-server.</summary>
public class BitCommandsTests
{
    private static readonly string[] Keys = ["k1", "k2", "k3", "k4", "{missing}"];

    [Fact]
    public async Task A_random_sequence_of_bit_commands_answers_as_redis_does()
    {
        const int seed = 20240607;
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var random = new Random(seed);
        for (var step = 0; step < 2500; step++)
        {
            var command = NextCommand(random);
            AssertSameReply(t, r, command, $"seed {seed} step {step}");
        }
        // Finally the stored values themselves, byte for byte.
        foreach (var key in Keys)
        {
            AssertSameReply(t, r, [Bytes("GET"), Bytes(key)], $"seed {seed} final GET {key}");
        }
    }

    [Fact]
    public async Task Edge_cases_and_errors_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        string[][] commands =
        [
            ["SET", "s", "foobar"], ["SET", "e", ""],
            ["SETBIT", "b", "4294967296", "1"], ["SETBIT", "b", "-1", "1"], ["SETBIT", "b", "01", "1"], ["SETBIT", "b", "+1", "1"],
            ["SETBIT", "b", "x", "1"], ["SETBIT", "b", "1", "2"], ["SETBIT", "b", "1", "-0"], ["SETBIT", "b", "1", "01"], ["SETBIT", "b", "1"],
            ["GETBIT", "b", "4294967296"], ["GETBIT", "missing", "abc"], ["GETBIT", "missing", "4294967295"], ["GETBIT", "s", "1"],
            ["BITCOUNT", "s"], ["BITCOUNT", "s", "0"], ["BITCOUNT", "s", "a", "b"], ["BITCOUNT", "s", "0", "1", "x"], ["BITCOUNT", "s", "0", "1", "bit", "x"],
            ["BITCOUNT", "s", "-1", "-5", "x"], ["BITCOUNT", "s", "a", "0", "x"], ["BITCOUNT", "missing", "0"], ["BITCOUNT", "missing", "a", "b"],
            ["BITCOUNT", "s", "1", "1", "BIT"], ["BITCOUNT", "s", "-5", "-1", "bit"], ["BITCOUNT", "s", "0", "-1", "Byte"], ["BITCOUNT", "e"],
            ["BITPOS", "s", "2"], ["BITPOS", "missing", "2"], ["BITPOS", "missing", "1", "a"], ["BITPOS", "missing", "0", "0", "1", "x"],
            ["BITPOS", "s", "1", "a"], ["BITPOS", "s", "1", "0", "a"], ["BITPOS", "s", "1", "0", "a", "x"], ["BITPOS", "s", "1", "a", "0", "x"],
            ["BITPOS", "s", "1", "0", "1", "bit", "x"], ["BITPOS", "s", "01"], ["BITPOS", "e", "0"], ["BITPOS", "e", "1"], ["BITPOS", "e", "0", "0"],
            ["BITPOS", "s", "0", "0", "-1"], ["BITPOS", "s", "1", "2", "-1", "bit"], ["BITPOS", "s", "0", "100"],
            ["BITOP", "not", "d", "a", "b"], ["BITOP", "foo", "d", "a"], ["BITOP", "and", "d"], ["BITOP", "not", "d"],
            ["BITOP", "not", "d", "missing"], ["EXISTS", "d"], ["BITOP", "and", "d", "e"], ["EXISTS", "d"],
            ["BITOP", "Or", "d", "s", "missing"], ["GET", "d"], ["BITOP", "NOT", "d", "d"], ["GET", "d"],
            ["SETBIT", "big", "8000", "1"], ["STRLEN", "big"], ["BITCOUNT", "big"], ["BITPOS", "big", "1"], ["BITPOS", "big", "0", "-1"],
            ["SET", "ttl", "x", "EX", "100"], ["SETBIT", "ttl", "100", "1"], ["TTL", "ttl"],
            ["CONFIG", "SET", "proto-max-bulk-len", "1mb"], ["SETBIT", "p", "8388608", "1"], ["GETBIT", "p", "8388608"], ["SETBIT", "p", "8388607", "1"],
            ["STRLEN", "p"], ["BITCOUNT", "p"], ["BITPOS", "p", "1"], ["BITPOS", "p", "0", "-2"],
        ];
        foreach (var command in commands)
        {
            AssertSameReply(t, r, command.Select(Bytes).ToArray(), string.Join(' ', command));
        }
    }

    private static void AssertSameReply(RespClient talus, RespClient redis, IReadOnlyList<byte[]> command, string where)
    {
        var expected = redis.Call(command);
        var actual = talus.Call(command);
        if (!expected.Raw.AsSpan().SequenceEqual(actual.Raw))
        {
            Assert.Fail($"{where}: {Describe(command)}\n  redis: {Escape(expected.Raw)}\n  talus: {Escape(actual.Raw)}");
        }
    }

    private static byte[][] NextCommand(Random random)
    {
        string Key() => Keys[random.Next(Keys.Length - 1)];
        string Any() => Keys[random.Next(Keys.Length)];
        string N(long n) => n.ToString(CultureInfo.InvariantCulture);
        string Index(int span) => N(random.Next(-span, span));
        string Offset() => N(random.Next(10) == 0 ? random.Next(0, 8 * 2000) : random.Next(0, 8 * 40));
        string Unit() => random.Next(3) switch { 0 => "BIT", 1 => "byte", _ => "Bit" };
        var roll = random.Next(100);
        string[] text = roll switch
        {
            < 25 => ["SETBIT", Key(), Offset(), N(random.Next(2))],
            < 35 => ["GETBIT", Any(), Offset()],
            < 40 => ["BITCOUNT", Any()],
            < 47 => ["BITCOUNT", Any(), Index(50), Index(50)],
            < 55 => ["BITCOUNT", Any(), Index(400), Index(400), Unit()],
            < 59 => ["BITPOS", Any(), N(random.Next(2))],
            < 63 => ["BITPOS", Any(), N(random.Next(2)), Index(50)],
            < 68 => ["BITPOS", Any(), N(random.Next(2)), Index(50), Index(50)],
            < 74 => ["BITPOS", Any(), N(random.Next(2)), Index(400), Index(400), Unit()],
            < 86 => ["BITOP", random.Next(3) switch { 0 => "AND", 1 => "or", _ => "Xor" }, Any(), .. Enumerable.Range(0, random.Next(1, 4)).Select(_ => Any())],
            < 90 => ["BITOP", "NOT", Any(), Any()],
            < 93 => ["DEL", Key()],
            < 95 => ["STRLEN", Any()],
            _ => [],
        };
        if (text.Length > 0)
        {
            return text.Select(Bytes).ToArray();
        }
        // A SET of random bytes, sometimes long runs of 0x00 or 0xFF that the searches skip in bulk.
        var value = new byte[random.Next(0, 120)];
        random.NextBytes(value);
        var fill = random.Next(3);
        if (fill > 0)
        {
            Array.Fill(value, fill == 1 ? (byte)0 : (byte)0xFF, 0, value.Length * 3 / 4);
        }
        return [Bytes("SET"), Bytes(Key()), value];
    }

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Describe(IReadOnlyList<byte[]> command) => string.Join(' ', command.Select(a => Escape(a)));

    private static string Escape(byte[] bytes) =>
        string.Concat(bytes.Select(b => b is >= 32 and < 127 ? ((char)b).ToString() : $"\\x{b:x2}"));
}
