using System.Globalization;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>
/// Sends one seeded command stream to Talus and to redis-server in pipelined batches and compares every
/// pair of replies (<see cref="ReplyCheck"/>). Fails with the seed, the first differing command and both
/// replies. Half way through, both connections switch to RESP3 so the RESP3 reply shapes are compared too.
/// </summary>
internal sealed class DifferentialRunner(ServerProcess talus, ServerProcess redis, int seed) : IDisposable
{
    private readonly RespClient _talus = talus.Client();
    private readonly RespClient _redis = redis.Client();
    private readonly Queue<string> _recent = new();
    private readonly SortedDictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private long _longestBatchMs;

    public long CommandsRun { get; private set; }

    public int Reconciliations { get; private set; }

    /// <summary>How often each command got each kind of reply ("HGET $", "HSET -WRONGTYPE" ...): shows what the stream covered.</summary>
    public string Coverage => string.Join(", ", _outcomes.Select(p => $"{p.Key} {p.Value}"));

    public async Task RunAsync(Workload workload, int operations, int batchSize)
    {
        Both(["FLUSHALL"]);
        foreach (var setup in workload.Setup())
        {
            Both(setup);
        }
        var resp3 = false;
        while (CommandsRun < operations)
        {
            if (!resp3 && CommandsRun >= operations / 2)
            {
                var (t, r) = Both(["HELLO", "3"]);
                Assert.True(t.Type == '%' && r.Type == '%', $"HELLO 3 failed: talus {t}, redis {r}");
                resp3 = true;
            }
            var batch = new List<DiffCommand>(batchSize + 2);
            while (batch.Count < batchSize)
            {
                var step = workload.Next();
                batch.AddRange(step);
                if (step[^1].EndsBatch)
                {
                    break;
                }
            }
            await RunBatchAsync(batch);
        }
    }

    private async Task RunBatchAsync(List<DiffCommand> batch)
    {
        using var payload = new MemoryStream();
        foreach (var command in batch)
        {
            payload.Write(RespClient.Encode(command.Args.Select(Encoding.UTF8.GetBytes).ToArray()));
        }
        var bytes = payload.ToArray();
        var window = System.Diagnostics.Stopwatch.StartNew();
        _talus.SendRaw(bytes);
        _redis.SendRaw(bytes);
        var talusReplies = batch.Select(_ => _talus.Read()).ToList();
        var redisReplies = batch.Select(_ => _redis.Read()).ToList();
        _longestBatchMs = Math.Max(_longestBatchMs, window.ElapsedMilliseconds);
        for (var i = 0; i < batch.Count; i++)
        {
            var command = batch[i];
            Remember(command);
            Count(command, redisReplies[i]);
            var problem = Compare(command, talusReplies[i], redisReplies[i], i > 0 ? redisReplies[i - 1] : null);
            if (problem is not null)
            {
                Assert.Fail(
                    $"seed {seed}: command #{CommandsRun + i} differs: {command}\n{problem}\n" +
                    $"talus: {Show(talusReplies[i])}\nredis: {Show(redisReplies[i])}\n" +
                    $"last commands:\n  {string.Join("\n  ", _recent)}\n(re-run with TALUS_DIFF_SEED={seed})");
            }
        }
        CommandsRun += batch.Count;
        var last = batch[^1];
        if (last.Name == "SPOP")
        {
            Reconcile(last, talusReplies[^1], redisReplies[^1]);
        }
        if (last.AwaitsExpiry)
        {
            var key = last.Args[1];
            await Wait.UntilAsync(() => _talus.Call("EXISTS", key).Integer == 0 && _redis.Call("EXISTS", key).Integer == 0, TimeSpan.FromSeconds(10), $"{key} to expire on both servers");
        }
    }

    /// <summary>SPOP took different members on each side: make redis-server hold what Talus holds.</summary>
    private void Reconcile(DiffCommand pop, RespReply talus, RespReply redis)
    {
        var fromTalus = Members(talus);
        var fromRedis = Members(redis);
        if (fromTalus.Order(StringComparer.Ordinal).SequenceEqual(fromRedis.Order(StringComparer.Ordinal)))
        {
            return;
        }
        Reconciliations++;
        var key = pop.Args[1];
        Assert.False(_redis.Call(["SADD", key, .. fromRedis]).IsError);
        Assert.False(_redis.Call(["SREM", key, .. fromTalus]).IsError);
    }

    private static List<string> Members(RespReply reply) =>
        reply.IsError || reply.IsNull ? [] : reply.Items is { } items ? items.Select(i => i.Text!).ToList() : [reply.Text!];

    private (RespReply Talus, RespReply Redis) Both(string[] args)
    {
        var command = new DiffCommand(args, ReplyCheck.Exact);
        Remember(command);
        return (_talus.Call(args), _redis.Call(args));
    }

    private void Count(DiffCommand command, RespReply reply)
    {
        var kind = reply.IsError ? "-" + reply.Text!.Split(' ')[0]
            : reply.Items is { Count: 0 } ? reply.Type + "empty"
            : reply.IsNull ? "nil"
            : reply.Type.ToString();
        var key = command.Name + " " + kind;
        _outcomes[key] = _outcomes.GetValueOrDefault(key) + 1;
    }

    private void Remember(DiffCommand command)
    {
        _recent.Enqueue(command.ToString());
        if (_recent.Count > 12)
        {
            _recent.Dequeue();
        }
    }

    /// <summary>Null when the replies agree under the command's check, else what is wrong.</summary>
    private string? Compare(DiffCommand command, RespReply talus, RespReply redis, RespReply? previous)
    {
        if (talus.IsError || redis.IsError)
        {
            return Same(talus, redis) ? null : "error replies differ";
        }
        switch (command.Check)
        {
            case ReplyCheck.Approximate:
            {
                // Each server runs a batch at its own pace inside the batch's time window, so the expiry was set,
                // and the TTL read, up to one window apart on the two; plus one second of rounding.
                var tolerance = 1 + ((2 * _longestBatchMs) + 999) / 1000;
                if (talus.Type != ':' || redis.Type != ':' || (Math.Min(talus.Integer, redis.Integer) < 0 ? talus.Integer != redis.Integer : Math.Abs(talus.Integer - redis.Integer) > tolerance))
                {
                    return $"TTLs differ by more than {tolerance} s";
                }
                return null;
            }
            case ReplyCheck.Random:
                return RandomReplyChecks.Check(command, talus, redis, previous);
            default:
                return Canonical(talus, command.Check) == Canonical(redis, command.Check) ? null : $"replies differ ({command.Check})";
        }
    }

    private static bool Same(RespReply a, RespReply b) => a.Raw.AsSpan().SequenceEqual(b.Raw);

    /// <summary>A reply as text where order does not count when the check says so.</summary>
    internal static string Canonical(RespReply reply, ReplyCheck check)
    {
        var raw = Encoding.Latin1.GetString(reply.Raw);
        if (reply.Items is not { } items)
        {
            return raw;
        }
        var header = raw[..(raw.IndexOf('\n') + 1)];
        switch (check)
        {
            case ReplyCheck.Unordered:
                return header + string.Concat(items.Select(i => Encoding.Latin1.GetString(i.Raw)).Order(StringComparer.Ordinal));
            case ReplyCheck.UnorderedPairs:
                return header + string.Concat(items.Chunk(2).Select(p => string.Concat(p.Select(i => Encoding.Latin1.GetString(i.Raw)))).Order(StringComparer.Ordinal));
            case ReplyCheck.ScanUnordered or ReplyCheck.ScanUnorderedPairs when items.Count == 2:
                var inner = check == ReplyCheck.ScanUnordered ? ReplyCheck.Unordered : ReplyCheck.UnorderedPairs;
                return header + Encoding.Latin1.GetString(items[0].Raw) + Canonical(items[1], inner);
            default:
                return raw;
        }
    }

    internal static string Show(RespReply reply)
    {
        var text = Encoding.Latin1.GetString(reply.Raw).Replace("\r\n", "\\r\\n", StringComparison.Ordinal);
        return text.Length > 600 ? text[..600] + string.Create(CultureInfo.InvariantCulture, $"... ({text.Length} chars)") : text;
    }

    public void Dispose()
    {
        _talus.Dispose();
        _redis.Dispose();
    }
}
