using System.Buffers;
using System.Text;
using Talus.Protocol;

namespace Talus.Protocol.Tests;

public class RespParserTests
{
    private static List<string[]> ParseAll(byte[] input, RespLimits? limits = null)
    {
        var result = new List<string[]>();
        var seq = new ReadOnlySequence<byte>(input);
        var reader = new SequenceReader<byte>(seq);
        using var args = new CommandArgs();
        while (RespParser.TryParse(ref reader, args, limits ?? new RespLimits()) == ParseStatus.Complete)
        {
            if (args.Count > 0)
            {
                result.Add(Enumerable.Range(0, args.Count).Select(args.GetString).ToArray());
            }
        }
        return result;
    }

    [Fact]
    public void Parses_a_multibulk_command()
    {
        var commands = ParseAll("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"u8.ToArray());
        Assert.Equal([["GET", "key"]], commands);
    }

    [Fact]
    public void Parses_pipelined_commands_in_order()
    {
        var commands = ParseAll("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n"u8.ToArray());
        Assert.Equal([["PING"], ["ECHO", "hi"], ["PING"]], commands);
    }

    [Fact]
    public void Fed_one_byte_at_a_time_yields_the_same_commands()
    {
        var input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\nGET \"a b\"\r\n"u8.ToArray();
        var whole = ParseAll(input);
        var pieces = new List<string[]>();
        var buffered = new List<byte>();
        using var args = new CommandArgs();
        foreach (var b in input)
        {
            buffered.Add(b);
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffered.ToArray()));
            while (RespParser.TryParse(ref reader, args, new RespLimits()) == ParseStatus.Complete)
            {
                pieces.Add(Enumerable.Range(0, args.Count).Select(args.GetString).ToArray());
                buffered.RemoveRange(0, (int)reader.Consumed);
                reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffered.ToArray()));
            }
        }
        Assert.Equal(whole, pieces);
        Assert.Equal("va\r\nl", whole[0][2]);
    }

    [Fact]
    public void Inline_quotes_must_be_balanced_and_closed()
    {
        var ex = Assert.Throws<RespProtocolException>(() => ParseAll("SET k \"abc\r\n"u8.ToArray()));
        Assert.Equal("ERR Protocol error: unbalanced quotes in request", ex.Message);
        var commands = ParseAll("SET k \"a\\x41\\n\" 'x y'\r\n"u8.ToArray());
        Assert.Equal([["SET", "k", "aA\n", "x y"]], commands);
    }

    [Theory]
    [InlineData("*x\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*2147483648\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n+PING\r\n", "ERR Protocol error: expected '$', got '+'")]
    [InlineData("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$600000000\r\n", "ERR Protocol error: invalid bulk length")]
    public void Framing_errors_carry_redis_texts(string input, string expected)
    {
        var ex = Assert.Throws<RespProtocolException>(() => ParseAll(Encoding.ASCII.GetBytes(input)));
        Assert.Equal(expected, ex.Message);
    }

    [Fact]
    public void A_huge_declared_bulk_is_not_buffered_before_it_arrives()
    {
        var seq = new ReadOnlySequence<byte>("*1\r\n$400000000\r\nabc"u8.ToArray());
        var reader = new SequenceReader<byte>(seq);
        using var args = new CommandArgs();
        Assert.Equal(ParseStatus.Incomplete, RespParser.TryParse(ref reader, args, new RespLimits()));
        Assert.Equal(0, args.Count);
    }

    [Fact]
    public void Unauthenticated_limits_reject_large_frames()
    {
        var ex = Assert.Throws<RespProtocolException>(() => ParseAll("*11\r\n"u8.ToArray(), RespLimits.Unauthenticated));
        Assert.Equal("ERR Protocol error: unauthenticated multibulk length", ex.Message);
        ex = Assert.Throws<RespProtocolException>(() => ParseAll("*1\r\n$16385\r\n"u8.ToArray(), RespLimits.Unauthenticated));
        Assert.Equal("ERR Protocol error: unauthenticated bulk length", ex.Message);
        ex = Assert.Throws<RespProtocolException>(() => ParseAll("*1\r\n$600000000\r\n"u8.ToArray(), RespLimits.Unauthenticated));
        Assert.Equal("ERR Protocol error: invalid bulk length", ex.Message);
    }

    [Fact]
    public void An_unterminated_inline_line_over_64k_is_refused()
    {
        var ex = Assert.Throws<RespProtocolException>(() => ParseAll(Encoding.ASCII.GetBytes(new string('a', 70_000))));
        Assert.Equal("ERR Protocol error: too big inline request", ex.Message);
    }

    [Fact]
    public void Binary_safe_arguments_round_trip()
    {
        var payload = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var frame = new List<byte>();
        frame.AddRange("*2\r\n$3\r\nSET\r\n$256\r\n"u8.ToArray());
        frame.AddRange(payload);
        frame.AddRange("\r\n"u8.ToArray());
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frame.ToArray()));
        using var args = new CommandArgs();
        Assert.Equal(ParseStatus.Complete, RespParser.TryParse(ref reader, args, new RespLimits()));
        Assert.True(args[1].SequenceEqual(payload));
    }
}
