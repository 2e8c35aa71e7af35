using System.Text;

namespace Talus.TestKit;

/// <summary>
/// Differential testing: sends the same command stream to a reference server (redis-server) and to the
/// server under test, pipelined in batches on one connection each, and compares the replies reply by reply.
/// By default two replies must be identical byte for byte (<see cref="RespReply.Raw"/>); <see cref="ComparerFor"/>
/// can relax that for commands whose replies legitimately differ (unordered sets, timings). The first mismatch
/// fails the test with the seed, the command's index in the stream, the command, both replies and the commands
/// just before it.
/// </summary>
public sealed class Differential : IDisposable
{
    private const int HistoryLength = 16;

    private readonly RespClient _expected;
    private readonly RespClient _actual;
    private readonly Queue<string> _history = new();

    /// <param name="expected">the reference (redis-server)</param>
    /// <param name="actual">the server under test</param>
    /// <param name="seed">printed in failure messages so the stream can be replayed</param>
    public Differential(ServerProcess expected, ServerProcess actual, int seed)
    {
        _expected = expected.Client();
        _actual = actual.Client();
        Seed = seed;
    }

    public int Seed { get; }

    /// <summary>Commands sent per pipelined write.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>Commands compared so far (the index of the next command in the stream).</summary>
    public long Compared { get; private set; }

    /// <summary>
    /// Chooses how the replies to a command are compared: null means byte for byte. Return for example
    /// <see cref="Unordered"/> for KEYS, or a custom predicate for replies that depend on timing.
    /// </summary>
    public Func<IReadOnlyList<byte[]>, Func<RespReply, RespReply, bool>?>? ComparerFor { get; set; }

    /// <summary>Sends every command of <paramref name="commands"/> to both servers and compares the replies.</summary>
    public void Run(IEnumerable<byte[][]> commands)
    {
        var batch = new List<byte[][]>(BatchSize);
        foreach (var command in commands)
        {
            batch.Add(command);
            if (batch.Count == BatchSize)
            {
                RunBatch(batch);
                batch.Clear();
            }
        }
        if (batch.Count > 0)
        {
            RunBatch(batch);
        }
    }

    /// <summary>
    /// Runs a hand-written script on both servers: commands separated by "|" or line breaks, arguments by spaces.
    /// HELLO's reply (which names the server and the connection) is not compared. Returns the commands compared.
    /// </summary>
    public static long RunScript(ServerProcess expected, ServerProcess actual, string script)
    {
        using var differential = new Differential(expected, actual, seed: 0)
        {
            ComparerFor = command => Encoding.UTF8.GetString(command[0]) == "HELLO" ? (_, _) => true : null,
        };
        differential.Run(script.Split(['|', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Trim().Split(' ').Select(Encoding.UTF8.GetBytes).ToArray()));
        return differential.Compared;
    }

    /// <summary>Sends one command to both servers, compares the replies and returns the reference's.</summary>
    public RespReply Call(params string[] args)
    {
        var command = args.Select(Encoding.UTF8.GetBytes).ToArray();
        return RunBatch([command])[0];
    }

    private List<RespReply> RunBatch(List<byte[][]> batch)
    {
        using var ms = new MemoryStream();
        foreach (var command in batch)
        {
            ms.Write(RespClient.Encode(command));
        }
        var bytes = ms.ToArray();
        // Write on other threads while this one reads, so a batch larger than the socket buffers cannot deadlock.
        var sendExpected = Task.Run(() => _expected.SendRaw(bytes));
        var sendActual = Task.Run(() => _actual.SendRaw(bytes));
        var expectedReplies = ReadReplies(_expected, batch, "reference");
        var actualReplies = ReadReplies(_actual, batch, "server under test");
        sendExpected.GetAwaiter().GetResult();
        sendActual.GetAwaiter().GetResult();
        for (var i = 0; i < batch.Count; i++)
        {
            var compare = ComparerFor?.Invoke(batch[i]) ?? SameBytes;
            if (!compare(expectedReplies[i], actualReplies[i]))
            {
                Fail(batch[i], expectedReplies[i], actualReplies[i]);
            }
            Remember(batch[i]);
            Compared++;
        }
        return expectedReplies;
    }

    private List<RespReply> ReadReplies(RespClient client, List<byte[][]> batch, string who)
    {
        var replies = new List<RespReply>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                replies.Add(client.Read());
            }
            catch (IOException ex)
            {
                throw new Xunit.Sdk.XunitException(
                    $"seed {Seed}: the {who} closed the connection or did not answer command #{Compared + i}: {Format(batch[i])} ({ex.Message})\n{History()}");
            }
        }
        return replies;
    }

    private void Fail(byte[][] command, RespReply expected, RespReply actual) =>
        throw new Xunit.Sdk.XunitException(
            $"seed {Seed}: replies differ at command #{Compared}: {Format(command)}\n" +
            $"  redis: {Escape(expected.Raw)}\n" +
            $"  talus: {Escape(actual.Raw)}\n" +
            ElementDifference(expected, actual) +
            History());

    /// <summary>For two aggregates, the elements only one of them has (long replies are cut when printed).</summary>
    private static string ElementDifference(RespReply expected, RespReply actual)
    {
        if (expected.Items is null || actual.Items is null)
        {
            return "";
        }
        var left = expected.Items.Select(i => Escape(i.Raw)).ToList();
        var right = actual.Items.Select(i => Escape(i.Raw)).ToList();
        var onlyLeft = left.ToList();
        foreach (var item in right)
        {
            onlyLeft.Remove(item);
        }
        var onlyRight = right.ToList();
        foreach (var item in left)
        {
            onlyRight.Remove(item);
        }
        return $"  only in redis: [{string.Join(", ", onlyLeft.Take(20))}]\n  only in talus: [{string.Join(", ", onlyRight.Take(20))}]\n";
    }

    private void Remember(byte[][] command)
    {
        _history.Enqueue(Format(command));
        if (_history.Count > HistoryLength)
        {
            _history.Dequeue();
        }
    }

    private string History() =>
        _history.Count == 0 ? "" : "the commands before it:\n" + string.Join("\n", _history.Select(h => "  " + h));

    /// <summary>Byte-for-byte equality of the raw replies.</summary>
    public static bool SameBytes(RespReply expected, RespReply actual) => expected.Raw.AsSpan().SequenceEqual(actual.Raw);

    /// <summary>Equal as multisets: same aggregate type and the same elements (raw bytes) in any order.</summary>
    public static bool Unordered(RespReply expected, RespReply actual)
    {
        if (expected.Items is null || actual.Items is null)
        {
            return SameBytes(expected, actual);
        }
        if (expected.Type != actual.Type || expected.Items.Count != actual.Items.Count)
        {
            return false;
        }
        static string Key(RespReply r) => Convert.ToBase64String(r.Raw);
        var left = expected.Items.Select(Key).Order(StringComparer.Ordinal);
        var right = actual.Items.Select(Key).Order(StringComparer.Ordinal);
        return left.SequenceEqual(right);
    }

    /// <summary>A command as redis-cli would show it: each argument quoted, non-printable bytes as \xHH.</summary>
    public static string Format(IReadOnlyList<byte[]> command) => string.Join(" ", command.Select(a => "\"" + Escape(a) + "\""));

    /// <summary>Printable ASCII as is, everything else escaped (\r \n \xHH), long texts shortened.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        const int Max = 300;
        var sb = new StringBuilder();
        foreach (var b in bytes[..Math.Min(bytes.Length, Max)])
        {
            sb.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }
        if (bytes.Length > Max)
        {
            sb.Append($"...({bytes.Length - Max} more bytes)");
        }
        return sb.ToString();
    }

    public void Dispose()
    {
        _expected.Dispose();
        _actual.Dispose();
    }
}
