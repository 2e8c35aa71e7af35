using Xunit;

namespace Talus.Storage.Tests;

public sealed class BackgroundCompactionTests
{
    [Fact]
    public async Task A_compaction_runs_once_at_a_time_and_reclaims_deleted_keys()
    {
        using var f = new StorageFixture();
        Fill(f, 20_000);
        f.Db.Engine.SyncWal();
        var compaction = f.Db.Engine.Compaction;
        Assert.Equal("none", compaction.LastStatus);
        Assert.True(compaction.TryStart());
        await WaitIdleAsync(compaction);
        Assert.Equal("ok", compaction.LastStatus);
        Assert.Equal(1, compaction.Completed);
        var full = f.Db.Engine.PropertySum("rocksdb.total-sst-files-size");
        Assert.True(full > 1 << 20, $"{full} SST bytes for 20,000 values of 100 bytes");
        for (var i = 0; i < 20_000; i++)
        {
            f.Db.Keys.Delete(Key(i));
        }
        Assert.True(compaction.TryStart());
        await WaitIdleAsync(compaction);
        Assert.Equal(2, compaction.Completed);
        Assert.True(f.Db.Engine.PropertySum("rocksdb.total-sst-files-size") < full / 10);
    }

    [Fact]
    public void Closing_the_engine_during_a_compaction_stops_it_without_touching_a_freed_handle()
    {
        var f = new StorageFixture();
        Fill(f, 50_000);
        var engine = f.Db.Engine;
        Assert.True(engine.Compaction.TryStart());
        f.Dispose(); // pauses manual compaction and waits for the task before freeing the database
        Assert.False(engine.Compaction.Running);
        Assert.Contains(engine.Compaction.LastStatus, new[] { "ok", "aborted" });
    }

    private static void Fill(StorageFixture f, int count)
    {
        var random = new Random(42);
        var value = new byte[100];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(value); // incompressible, so the files' size tracks the data
            f.Db.Strings.Set(Key(i), value);
        }
    }

    private static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes("key:" + i);

    private static async Task WaitIdleAsync(Talus.Storage.Engine.BackgroundCompaction compaction)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (compaction.Running)
        {
            Assert.True(DateTime.UtcNow < deadline, "compaction did not finish within 2 minutes");
            await Task.Delay(20);
        }
    }
}
