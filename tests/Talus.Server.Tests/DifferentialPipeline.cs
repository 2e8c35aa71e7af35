using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// Sends the same steps to Talus and to redis-server in pipelined batches and compares the replies (exact
/// bytes, or by property for random replies). The first difference fails with the seed, the step number,
/// the command and both replies.
/// </summary>
public sealed class DifferentialPipeline(RespClient talus, RespClient redis, int seed, int batchSize = 256)
{
    private readonly List<DiffStep> _pending = [];

    public long Compared { get; private set; }

    public void Add(DiffStep step)
    {
        _pending.Add(step);
        // A ZRANDMEMBER is checked against the reply of the step after it: keep them in one batch.
        if (_pending.Count >= batchSize && step.Check != DiffCheck.RandomMember)
        {
            Flush();
        }
    }

    public void AddRange(IEnumerable<DiffStep> steps)
    {
        foreach (var step in steps)
        {
            Add(step);
        }
    }

    /// <summary>Sends what is queued to both servers and checks every reply.</summary>
    public void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }
        var wire = Encode(_pending);
        talus.SendRaw(wire);
        redis.SendRaw(wire);
        var ours = _pending.Select(_ => talus.Read()).ToList();
        var theirs = _pending.Select(_ => redis.Read()).ToList();
        for (var i = 0; i < _pending.Count; i++)
        {
            var step = _pending[i];
            switch (step.Check)
            {
                case DiffCheck.Exact:
                    if (!ours[i].Raw.AsSpan().SequenceEqual(theirs[i].Raw))
                    {
                        Fail(step, ours[i], theirs[i], "replies differ");
                    }
                    break;
                case DiffCheck.RandomMember:
                    // The step after a ZRANDMEMBER is a ZRANGE WITHSCORES of the same key (compared exactly).
                    var problem = RandomMemberProblem(step, ours[i], theirs[i], ours[i + 1]);
                    if (problem is not null)
                    {
                        Fail(step, ours[i], theirs[i], problem);
                    }
                    break;
            }
            Compared++;
        }
        _pending.Clear();
    }

    private void Fail(DiffStep step, RespReply ours, RespReply theirs, string why) =>
        Assert.Fail($"seed {seed}: {why} at step {Compared + 1}: {step}\n  talus: {Printable(ours.Raw)}\n  redis: {Printable(theirs.Raw)}");

    private static byte[] Encode(IEnumerable<DiffStep> steps)
    {
        using var ms = new MemoryStream();
        foreach (var step in steps)
        {
            ms.Write(RespClient.Encode(step.Args));
        }
        return ms.ToArray();
    }

    public static string Printable(byte[] raw)
    {
        var text = Encoding.UTF8.GetString(raw).Replace("\r\n", "\\r\\n", StringComparison.Ordinal);
        return text.Length > 600 ? text[..600] + "..." : text;
    }

    /// <summary>
    /// ZRANDMEMBER: the same reply type and length as Redis, members drawn from the set (with their scores),
    /// and distinct when the count was positive.
    /// </summary>
    private static string? RandomMemberProblem(DiffStep step, RespReply ours, RespReply theirs, RespReply contents)
    {
        if (theirs.IsError || theirs.IsNull || ours.IsError || ours.IsNull)
        {
            return ours.Raw.AsSpan().SequenceEqual(theirs.Raw) ? null : "error or nil differs";
        }
        var set = Pairs(contents);
        if (ours.Type != theirs.Type)
        {
            return "reply type differs";
        }
        if (ours.Type == '$')
        {
            return set.ContainsKey(Convert.ToHexString(ours.Bytes!)) ? null : "member not in the set";
        }
        if (ours.Items!.Count != theirs.Items!.Count)
        {
            return "reply length differs";
        }
        var withScores = step.Args.Length == 4;
        var picked = new List<(string Member, byte[]? Score)>();
        if (withScores && ours.Items.Count > 0 && ours.Items[0].Items is { })
        {
            picked.AddRange(ours.Items.Select(p => (Convert.ToHexString(p.Items![0].Bytes!), (byte[]?)p.Items[1].Raw)));
        }
        else if (withScores)
        {
            for (var i = 0; i + 1 < ours.Items.Count; i += 2)
            {
                picked.Add((Convert.ToHexString(ours.Items[i].Bytes!), ours.Items[i + 1].Raw));
            }
        }
        else
        {
            picked.AddRange(ours.Items.Select(p => (Convert.ToHexString(p.Bytes!), (byte[]?)null)));
        }
        foreach (var (member, score) in picked)
        {
            if (!set.TryGetValue(member, out var expected))
            {
                return "member not in the set";
            }
            if (score is not null && !score.AsSpan().SequenceEqual(expected))
            {
                return "score differs from the set's";
            }
        }
        var count = long.Parse(Encoding.ASCII.GetString(step.Args[2]), System.Globalization.CultureInfo.InvariantCulture);
        if (count > 0 && picked.Select(p => p.Member).Distinct().Count() != picked.Count)
        {
            return "repeated member with a positive count";
        }
        return null;
    }

    /// <summary>member (hex) → raw score reply, from a ZRANGE WITHSCORES reply in RESP2 or RESP3 shape.</summary>
    private static Dictionary<string, byte[]> Pairs(RespReply range)
    {
        var pairs = new Dictionary<string, byte[]>();
        if (range.Items is null)
        {
            return pairs;
        }
        if (range.Items.Count > 0 && range.Items[0].Items is not null)
        {
            foreach (var pair in range.Items)
            {
                pairs[Convert.ToHexString(pair.Items![0].Bytes!)] = pair.Items[1].Raw;
            }
            return pairs;
        }
        for (var i = 0; i + 1 < range.Items.Count; i += 2)
        {
            pairs[Convert.ToHexString(range.Items[i].Bytes!)] = range.Items[i + 1].Raw;
        }
        return pairs;
    }
}
