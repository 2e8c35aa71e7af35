using System.Buffers;
using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Talus.Protocol.Tests;

/// <summary>
/// Feeds random and mutated RESP input to <see cref="RespParser"/> for a bounded time, whole and in random
/// chunks over multi-segment buffers, the way a connection would. Invariants: the only exception is
/// <see cref="RespProtocolException"/>; every complete command consumes bytes; the outcome (commands, then
/// error or leftover) does not depend on the chunking; a valid frame yields exactly its arguments; and the
/// argument arena never grows much beyond the input.
/// </summary>
public class RespParserFuzzTests
{
    private const int Seed = 20251125;
    private const int MinCases = 200;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;

    public RespParserFuzzTests(ITestOutputHelper output) => _output = output;

    /// <summary>What parsing one input produced: its commands, then how it ended.</summary>
    private sealed record Outcome(List<string> Commands, string End);

    [Fact]
    public async Task Random_and_mutated_input_parses_safely_and_independently_of_chunking()
    {
        _output.WriteLine($"seed {Seed}");
        var cases = 0;
        var run = Task.Run(() =>
        {
            var rng = new Random(Seed);
            var clock = Stopwatch.StartNew();
            // At least MinCases inputs, and more while the budget lasts: a busy machine lowers coverage per
            // second, never the floor.
            while (cases < MinCases || clock.Elapsed < Budget)
            {
                var limits = rng.Next(6) == 0 ? RespLimits.Unauthenticated : new RespLimits();
                var (input, frames) = Generate(rng);
                var what = $"seed {Seed}, case #{cases}: {Show(input)}";
                var whole = Parse(input, [input.Length], limits, what);
                if (frames is not null)
                {
                    Assert.True(whole.End == "clean", $"{what}: a valid input ended with {whole.End}");
                    Assert.Equal(frames, whole.Commands);
                }
                for (var round = 0; round < 3; round++)
                {
                    var chunked = Parse(input, Chunking(rng, input.Length), limits, what);
                    Assert.True(whole.Commands.SequenceEqual(chunked.Commands) && whole.End == chunked.End,
                        $"{what}: chunked parse differs\n  whole:   {string.Join(" | ", whole.Commands)} => {whole.End}\n  chunked: {string.Join(" | ", chunked.Commands)} => {chunked.End}");
                }
                cases++;
            }
        });
        // A parser stuck in a loop would never finish: give up well after the budget.
        await run.WaitAsync(Budget * 12);
        _output.WriteLine($"{cases} inputs");
        Assert.True(cases >= MinCases, $"only {cases} inputs");
    }

    [Fact]
    public void A_lying_length_header_and_a_huge_count_do_not_grow_the_arena()
    {
        foreach (var header in new[] { "*1\r\n$536870912\r\nabc", "*2147483647\r\n$1\r\na\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$400000000\r\n" })
        {
            var input = Encoding.ASCII.GetBytes(header);
            var outcome = Parse(input, [1, 2, input.Length - 3], new RespLimits(), header);
            Assert.Equal("incomplete", outcome.End);
        }
    }

    [Fact]
    public void A_million_arguments_in_small_chunks_parse_in_linear_work()
    {
        var frame = new List<byte>(Encoding.ASCII.GetBytes("*1000001\r\n$3\r\nDEL\r\n"));
        for (var i = 0; i < 1_000_000; i++)
        {
            frame.AddRange(Encoding.ASCII.GetBytes($"$1\r\n{(char)('a' + (i % 26))}\r\n"));
        }
        var input = frame.ToArray();
        // The same frame parsed in one call sets the scale: a parser that resumes does about the same work in
        // 4 KB steps, one that restarts each call does ~850 times as much. Comparing the two, rather than
        // timing against a clock, keeps the check meaningful on a busy machine.
        var whole = Stopwatch.StartNew();
        using (var once = new CommandArgs())
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
            Assert.Equal(ParseStatus.Complete, RespParser.TryParse(ref reader, once, new RespLimits()));
        }
        var single = whole.Elapsed;
        using var args = new CommandArgs();
        var clock = Stopwatch.StartNew();
        var status = ParseStatus.Incomplete;
        var calls = 0;
        // 4 KB reads over a growing buffer, as a connection sees them: without resuming, this is quadratic.
        for (var end = 4096; status == ParseStatus.Incomplete; end = Math.Min(input.Length, end + 4096))
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input, 0, end));
            status = RespParser.TryParse(ref reader, args, new RespLimits());
            calls++;
            Assert.True(status == ParseStatus.Complete || end < input.Length);
        }
        var parsing = clock.Elapsed;
        Assert.Equal(1_000_001, args.Count);
        for (var i = 0; i < 1_000_000; i += 99_991)
        {
            Assert.Equal(((char)('a' + (i % 26))).ToString(), args.GetString(i + 1));
        }
        Assert.Equal(((char)('a' + (999_999 % 26))).ToString(), args.GetString(1_000_000));
        _output.WriteLine($"{calls} calls took {parsing.TotalMilliseconds:0} ms; one call {single.TotalMilliseconds:0} ms");
        Assert.True(parsing < single * 40 + TimeSpan.FromMilliseconds(500),
            $"{calls} calls took {parsing.TotalMilliseconds:0} ms, one call over the whole frame {single.TotalMilliseconds:0} ms");
        Assert.True(args.ArenaCapacity <= 4 * 1024 * 1024, $"arena of {args.ArenaCapacity} bytes for 1 MB of arguments");
    }

    /// <summary>
    /// Parses <paramref name="input"/> arriving in pieces of the given sizes, as a connection does: after each
    /// piece, every complete command is taken and its bytes dropped; a protocol error ends the connection.
    /// </summary>
    private static Outcome Parse(byte[] input, IReadOnlyList<int> chunks, RespLimits limits, string what)
    {
        var commands = new List<string>();
        var pending = new List<byte>();
        using var args = new CommandArgs();
        var offset = 0;
        var split = new Random(input.Length);
        foreach (var size in chunks)
        {
            pending.AddRange(input.AsSpan(offset, size).ToArray());
            offset += size;
            while (true)
            {
                var reader = new SequenceReader<byte>(Segmented(pending.ToArray(), split));
                ParseStatus status;
                try
                {
                    status = RespParser.TryParse(ref reader, args, limits);
                }
                catch (RespProtocolException ex)
                {
                    return new Outcome(commands, "error: " + ex.Message);
                }
                catch (Exception ex)
                {
                    throw new Xunit.Sdk.XunitException($"{what}: {ex.GetType().Name} from the parser: {ex}");
                }
                var bound = Math.Max(4096, 4 * input.Length);
                Assert.True(args.ArenaCapacity <= bound, $"{what}: arena of {args.ArenaCapacity} bytes for {input.Length} bytes of input");
                if (status == ParseStatus.Incomplete)
                {
                    break;
                }
                Assert.True(reader.Consumed > 0, $"{what}: a complete command consumed no bytes");
                if (args.Count > 0)
                {
                    commands.Add(string.Join(" ", Enumerable.Range(0, args.Count).Select(i => Convert.ToHexString(args[i]))));
                }
                pending.RemoveRange(0, (int)reader.Consumed);
            }
        }
        return new Outcome(commands, pending.Count == 0 ? "clean" : "incomplete");
    }

    /// <summary>The bytes as a sequence of 1 to 4 segments, so the parser meets segment boundaries anywhere.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] data, Random rng)
    {
        var pieces = rng.Next(1, 5);
        if (pieces == 1 || data.Length < 2)
        {
            return new ReadOnlySequence<byte>(data);
        }
        var cuts = Enumerable.Range(0, pieces - 1).Select(_ => rng.Next(1, data.Length)).Distinct().Order().ToList();
        var first = new Segment(data.AsMemory(0, cuts[0]), 0);
        var last = first;
        for (var i = 0; i < cuts.Count; i++)
        {
            var end = i + 1 < cuts.Count ? cuts[i + 1] : data.Length;
            last = last.Append(data.AsMemory(cuts[i], end - cuts[i]));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private static List<int> Chunking(Random rng, int length)
    {
        var sizes = new List<int>();
        // Byte-by-byte feeding re-copies the buffer per byte in this harness: keep it to small inputs.
        var style = length > 2000 ? rng.Next(1, 3) : rng.Next(3);
        for (var left = length; left > 0;)
        {
            var size = style switch
            {
                0 => 1,
                1 => rng.Next(1, 8),
                _ => rng.Next(1, Math.Max(2, length / 3)),
            };
            size = Math.Min(size, left);
            sizes.Add(size);
            left -= size;
        }
        return sizes;
    }

    /// <summary>An input and, when it is made of valid frames only, the commands it must parse to.</summary>
    private static (byte[] Input, List<string>? Frames) Generate(Random rng)
    {
        var frames = new List<string>();
        var bytes = new List<byte>();
        var count = rng.Next(1, 6);
        for (var i = 0; i < count; i++)
        {
            var args = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => RandomArg(rng)).ToList();
            if (rng.Next(4) == 0 && args.All(a => a.Length > 0 && a.All(b => b is > 32 and < 127 and not (byte)'"' and not (byte)'\'' and not (byte)'\\')))
            {
                bytes.AddRange(Encoding.ASCII.GetBytes(string.Join(" ", args.Select(a => Encoding.ASCII.GetString(a))) + (rng.Next(2) == 0 ? "\r\n" : "\n")));
            }
            else
            {
                bytes.AddRange(Encoding.ASCII.GetBytes($"*{args.Count}\r\n"));
                foreach (var a in args)
                {
                    bytes.AddRange(Encoding.ASCII.GetBytes($"${a.Length}\r\n"));
                    bytes.AddRange(a);
                    bytes.AddRange("\r\n"u8.ToArray());
                }
            }
            frames.Add(string.Join(" ", args.Select(Convert.ToHexString)));
        }
        if (rng.Next(4) == 0)
        {
            return ([.. bytes], frames);
        }
        var mutations = rng.Next(1, 5);
        for (var m = 0; m < mutations; m++)
        {
            var at = rng.Next(bytes.Count + 1);
            switch (rng.Next(6))
            {
                case 0 when at < bytes.Count: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: bytes.RemoveRange(at, bytes.Count - at); break; // truncation
                case 2: bytes.InsertRange(at, Encoding.ASCII.GetBytes(Pick(rng, "*", "$", "\r\n", "-1", "99999999999", "\0", "\"", "'", "*-1\r\n", "$0\r\n\r\n", "*2147483648\r\n"))); break;
                case 3 when at < bytes.Count: bytes.RemoveAt(at); break;
                case 4:
                    // Splice: a piece of the input copied elsewhere.
                    var from = rng.Next(bytes.Count + 1);
                    var length = rng.Next(0, Math.Min(40, bytes.Count - from) + 1);
                    bytes.InsertRange(at, bytes.GetRange(from, length));
                    break;
                default:
                    var noise = new byte[rng.Next(1, 16)];
                    rng.NextBytes(noise);
                    bytes.InsertRange(at, noise);
                    break;
            }
        }
        return ([.. bytes], null);
    }

    private static byte[] RandomArg(Random rng)
    {
        switch (rng.Next(5))
        {
            case 0:
                return Encoding.ASCII.GetBytes(Pick(rng, "GET", "SET", "PING", "ECHO", "DEL", "k", "value"));
            case 1:
                return [];
            case 2 when rng.Next(4) == 0:
                var big = new byte[rng.Next(100, 1500)];
                rng.NextBytes(big);
                return big;
            default:
                var small = new byte[rng.Next(1, 20)];
                rng.NextBytes(small);
                return small;
        }
    }

    private static string Pick(Random rng, params string[] options) => options[rng.Next(options.Length)];

    private static string Show(byte[] input)
    {
        var text = new StringBuilder();
        foreach (var b in input.Take(200))
        {
            text.Append(b is >= 32 and < 127 ? ((char)b).ToString() : $"\\x{b:x2}");
        }
        return input.Length > 200 ? text + $"...({input.Length} bytes)" : text.ToString();
    }
}
