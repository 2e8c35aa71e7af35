using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>
/// HRANDFIELD, SRANDMEMBER and SPOP answer different elements on each server, so their replies are checked by
/// properties against the snapshot (HGETALL / SMEMBERS of the same key) sent just before them: the same reply
/// shape on both, the count Redis' rules give, every element present (with its value), and distinct
/// elements where the count asks for them.
/// </summary>
internal static class RandomReplyChecks
{
    public static string? Check(DiffCommand command, RespReply talus, RespReply redis, RespReply? snapshot)
    {
        if (snapshot is null || snapshot.IsError || (talus.Items is null && redis.Items is null && (talus.IsNull || redis.IsNull)))
        {
            return talus.Raw.AsSpan().SequenceEqual(redis.Raw) ? null : "replies differ";
        }
        var reference = Contents(snapshot, isHash: command.Name == "HRANDFIELD");
        if (command.Args.Length == 2)
        {
            return talus.Type == '$' && redis.Type == '$' && reference.ContainsKey(talus.Text!) && reference.ContainsKey(redis.Text!)
                ? null
                : "a single random element must be a bulk string naming an element";
        }
        var count = long.Parse(command.Args[2], CultureInfo.InvariantCulture);
        var withValues = command.Args.Length == 4;
        var size = reference.Count;
        var expected = count >= 0 ? Math.Min(count, size) : size == 0 ? 0 : -count;
        if (Shape(talus) != Shape(redis))
        {
            return $"reply shapes differ: {Shape(talus)} vs {Shape(redis)}";
        }
        foreach (var (name, reply) in new[] { ("talus", talus), ("redis", redis) })
        {
            var elements = Elements(reply, withValues);
            if (elements.Count != expected)
            {
                return $"{name} returned {elements.Count} elements, expected {expected} of {size}";
            }
            foreach (var (element, value) in elements)
            {
                if (!reference.TryGetValue(element, out var stored) || (withValues && stored != value))
                {
                    return $"{name} returned {element}={value}, which the key does not hold";
                }
            }
            if (count > 0 && elements.Select(e => e.Element).Distinct().Count() != elements.Count)
            {
                return $"{name} repeated an element for a positive count";
            }
        }
        return null;
    }

    /// <summary>Type and length of the reply and of its first element (RESP3 nests WITHVALUES pairs).</summary>
    private static string Shape(RespReply reply) =>
        $"{reply.Type}{reply.Items?.Count}{(reply.Items is { Count: > 0 } items ? items[0].Type : ' ')}";

    private static List<(string Element, string? Value)> Elements(RespReply reply, bool withValues)
    {
        var items = reply.Items ?? [];
        if (!withValues)
        {
            return items.Select(i => (i.Text!, (string?)null)).ToList();
        }
        if (items.Count > 0 && items[0].Items is not null)
        {
            return items.Select(p => (p.Items![0].Text!, p.Items[1].Text)).ToList();
        }
        return items.Chunk(2).Select(p => (p[0].Text!, p[1].Text)).ToList();
    }

    /// <summary>Element → value (empty for set members) from an HGETALL or SMEMBERS reply.</summary>
    private static Dictionary<string, string> Contents(RespReply snapshot, bool isHash)
    {
        var items = snapshot.Items ?? [];
        return isHash
            ? items.Chunk(2).ToDictionary(p => p[0].Text!, p => p[1].Text!)
            : items.ToDictionary(i => i.Text!, _ => "");
    }
}
