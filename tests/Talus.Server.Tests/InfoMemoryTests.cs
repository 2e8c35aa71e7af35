using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>INFO memory's account of the managed heap's garbage collector.</summary>
public class InfoMemoryTests
{
    private static long Field(Dictionary<string, string> info, string name) => long.Parse(info[name], CultureInfo.InvariantCulture);

    [Fact]
    public async Task INFO_memory_counts_what_commands_allocate_and_the_collections_they_cause()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        for (var i = 0; i < 100; i++)
        {
            c.Send("HSET", "h", "field:" + i.ToString(CultureInfo.InvariantCulture), new string('v', 100));
        }
        for (var i = 0; i < 100; i++)
        {
            c.Read();
        }
        string[] fields = ["talus_gc_allocated_bytes", "talus_gc_gen0_collections", "talus_gc_gen1_collections", "talus_gc_gen2_collections", "talus_gc_pause_total_ms"];
        var before = server.Info("memory");
        // HGETALL builds its reply from the fields it reads: 100 fields of 100 bytes, 200 times, about 2 MB at least.
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(200, c.Call("HGETALL", "h").Items!.Count);
        }
        var after = server.Info("memory");
        foreach (var name in fields)
        {
            Assert.True(Field(after, name) >= Field(before, name), $"{name}: {before[name]} then {after[name]}");
            Assert.True(Field(before, name) >= 0, $"{name}: {before[name]}");
        }
        var allocated = Field(after, "talus_gc_allocated_bytes") - Field(before, "talus_gc_allocated_bytes");
        Assert.True(allocated >= 2_000_000, $"{allocated} bytes allocated by 200 HGETALL of 100 fields of 100 bytes");
        Assert.True(Field(after, "talus_gc_gen0_collections") >= Field(after, "talus_gc_gen1_collections"));
        Assert.True(Field(after, "talus_gc_gen1_collections") >= Field(after, "talus_gc_gen2_collections"));
    }
}
