using System.Globalization;
using Talus.TestKit;
using Xunit;

namespace Talus.Server.Tests;

/// <summary>
/// SCAN, HSCAN, SSCAN and ZSCAN cursors keep their place while the keyspace or the collection changes between calls
/// and while COMPACT rewrites every file under them: an element present from the first call to the last is
/// returned, and (Talus resumes at a key, not at a slot of a hash table) returned once.
/// </summary>
public sealed class ScanCursorTests
{
    private const int Stable = 1500;
    private const int Doomed = 500;
    private const int PerPage = 40;
    private const int CompactEvery = 8;
    private const int MaxCalls = 400;

    [Theory]
    [InlineData("SCAN")]
    [InlineData("HSCAN")]
    [InlineData("SSCAN")]
    [InlineData("ZSCAN")]
    public async Task A_cursor_keeps_its_place_across_writes_deletes_and_compactions(string command)
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = new RespClient(talus.Port, timeoutMs: 60_000);
        var stable = Enumerable.Range(0, Stable).Select(i => Name("s", i)).ToList();
        var doomed = Enumerable.Range(0, Doomed).Select(i => Name("d", i)).ToList();
        foreach (var chunk in stable.Concat(doomed).Chunk(250))
        {
            AssertOk(c.Call(Add(command, chunk, 0)));
        }

        var universe = new HashSet<string>(stable.Concat(doomed));
        var returned = new List<string>();
        var compactions = 0;
        var cursor = "0";
        var calls = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        do
        {
            Assert.True(calls < MaxCalls && DateTime.UtcNow < deadline, $"{command} did not finish in {MaxCalls} calls and 2 minutes");
            var reply = c.Call(Scan(command, cursor));
            Assert.False(reply.IsError, reply.ToString());
            cursor = reply.Items![0].Text!;
            var items = reply.Items[1].Items!;
            // HSCAN and ZSCAN answer element, value, element, value ...
            var step = command is "HSCAN" or "ZSCAN" ? 2 : 1;
            for (var i = 0; i < items.Count; i += step)
            {
                returned.Add(items[i].Text!);
            }
            calls++;

            // Between calls: ten new elements, ten fewer doomed ones, and for ZSCAN ten stable members whose score
            // jumps to the far side of all the others.
            var added = Enumerable.Range(0, 10).Select(i => Name("n" + calls.ToString(CultureInfo.InvariantCulture) + "-", i)).ToList();
            universe.UnionWith(added);
            AssertOk(c.Call(Add(command, added, 0)));
            var removed = doomed.Skip((calls - 1) * 10).Take(10).ToArray();
            if (removed.Length > 0)
            {
                Assert.Equal(removed.Length, c.Call(Remove(command, removed)).Integer);
            }
            if (command == "ZSCAN")
            {
                var moved = stable.Skip((calls * 37) % Stable).Take(10).ToArray();
                AssertOk(c.Call(Add(command, moved, calls % 2 == 0 ? -1_000_000 - calls : 1_000_000 + calls)));
            }
            if (calls % CompactEvery == 0)
            {
                await CompactAsync(talus, c);
                compactions++;
            }
        }
        while (cursor != "0");

        Assert.True(compactions >= 3, $"only {compactions} compactions ran during the scan ({calls} calls)");
        Assert.DoesNotContain(returned, e => !universe.Contains(e));
        var twice = returned.GroupBy(e => e).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{command} returned {twice.Count} elements more than once, e.g. {string.Join(", ", twice.Take(5))}");
        var missed = stable.Except(returned).ToList();
        Assert.True(missed.Count == 0, $"{command} missed {missed.Count} of the {Stable} elements present throughout, e.g. {string.Join(", ", missed.Take(5))}");
    }

    private static string Name(string kind, int i) => kind + ":" + i.ToString("D5", CultureInfo.InvariantCulture);

    private static string[] Scan(string command, string cursor) => command == "SCAN"
        ? ["SCAN", cursor, "COUNT", PerPage.ToString(CultureInfo.InvariantCulture)]
        : [command, "c", cursor, "COUNT", PerPage.ToString(CultureInfo.InvariantCulture)];

    /// <summary>One command that creates or updates <paramref name="elements"/> (ZSCAN: with <paramref name="score"/>).</summary>
    private static string[] Add(string command, IEnumerable<string> elements, long score)
    {
        var s = score.ToString(CultureInfo.InvariantCulture);
        return command switch
        {
            "SCAN" => ["MSET", .. elements.SelectMany(e => new[] { e, "v" })],
            "HSCAN" => ["HSET", "c", .. elements.SelectMany(e => new[] { e, "v" })],
            "SSCAN" => ["SADD", "c", .. elements],
            _ => ["ZADD", "c", .. elements.SelectMany(e => new[] { s, e })],
        };
    }

    private static string[] Remove(string command, IEnumerable<string> elements) => command switch
    {
        "SCAN" => ["DEL", .. elements],
        "HSCAN" => ["HDEL", "c", .. elements],
        "SSCAN" => ["SREM", "c", .. elements],
        _ => ["ZREM", "c", .. elements],
    };

    private static void AssertOk(RespReply reply) => Assert.False(reply.IsError, reply.ToString());

    private static async Task CompactAsync(TalusProcess talus, RespClient c)
    {
        long Compactions() => long.Parse(talus.Info("persistence")["talus_compactions"], CultureInfo.InvariantCulture);
        var before = Compactions();
        Assert.Equal("Background compaction started", c.Call("COMPACT").Text);
        await Wait.UntilAsync(() => Compactions() > before, TimeSpan.FromMinutes(1), "COMPACT to finish");
        Assert.Equal("ok", talus.Info("persistence")["talus_last_compaction_status"]);
    }
}
