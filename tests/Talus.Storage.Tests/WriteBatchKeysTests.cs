using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>The keys a written batch changes, read back from the WAL as a replica receives them.</summary>
public class WriteBatchKeysTests
{
    [Fact]
    public void Keys_of_strings_and_collection_elements_and_emptied_databases_are_found()
    {
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        var first = engine.LatestSequence + 1;
        f.Db.Strings.Set("s"u8, "1"u8);
        f.Db.Hashes.Set("h"u8, [new("f"u8.ToArray(), "1"u8.ToArray())], out _);
        f.Db.Hashes.Set("h"u8, [new("f"u8.ToArray(), "2"u8.ToArray())], out _);
        f.Dataset[3].Strings.Set("in3"u8, "x"u8);
        f.Dataset[3].Keys.Flush();

        var batches = new List<string>();
        using var it = engine.Db.GetUpdatesSince(first);
        for (; it.Valid(); it.Next())
        {
            using var batch = it.GetBatch(out _);
            var seen = new SortedSet<string>(StringComparer.Ordinal);
            WriteBatchKeys.Visit(engine, batch.AsSpan(), (db, key) => seen.Add($"{db}:{System.Text.Encoding.ASCII.GetString(key)}"), db => seen.Add($"{db}:*"));
            batches.Add(string.Join(' ', seen));
        }
        // The second HSET changes a field only (a sub-key), and still names its key; FLUSHDB names its database.
        Assert.Equal(["0:s", "0:h", "0:h", "3:in3", "3:*"], batches);
    }
}
