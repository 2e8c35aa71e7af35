using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

public class EngineTransactionTests
{
    [Fact]
    public void Writes_are_seen_by_the_owner_only_and_committed_as_one_batch()
    {
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        f.Db.Strings.Set("gone"u8, "x"u8);
        var before = engine.LatestSequence;
        using (var tx = engine.BeginTransaction())
        {
            f.Db.Strings.Set("a"u8, "1"u8);
            Assert.Equal(OpStatus.Ok, f.Db.Strings.IncrBy("a"u8, 5, out var result));
            Assert.Equal(6, result);
            Assert.True(f.Db.Keys.Delete("gone"u8));
            Assert.Equal(1, f.Db.Keys.Count().Keys);
            // Another thread reads the database as it was.
            // (A thread of its own: waiting on a task could run it inline on this thread.)
            (bool, bool) other = default;
            var reader = new Thread(() => other = (f.Db.Keys.Exists("a"u8), f.Db.Keys.Exists("gone"u8)));
            reader.Start();
            reader.Join();
            Assert.Equal((false, true), other);
            Assert.Equal(before, engine.LatestSequence);
            tx.Commit();
        }
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get("a"u8, out var value));
        Assert.Equal("6"u8.ToArray(), value.ToArray());
        Assert.False(f.Db.Keys.Exists("gone"u8));
        // SET, SET (INCR), DEL in one batch; INCR's put overwrites SET's, so two records are written.
        Assert.Equal(before + 2, engine.LatestSequence);
    }

    [Fact]
    public void A_range_deletion_hides_keys_inside_the_transaction_and_a_disposed_one_writes_nothing()
    {
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        f.Db.Strings.Set("a"u8, "1"u8);
        f.Db.Strings.Set("b"u8, "2"u8);
        using (var tx = engine.BeginTransaction())
        {
            f.Db.Keys.Flush();
            Assert.False(f.Db.Keys.Exists("a"u8));
            f.Db.Strings.Set("c"u8, "3"u8);
            Assert.Equal(1, f.Db.Keys.Count().Keys);
            tx.Commit();
        }
        Assert.False(f.Db.Keys.Exists("a"u8));
        Assert.True(f.Db.Keys.Exists("c"u8));
        var before = engine.LatestSequence;
        using (engine.BeginTransaction())
        {
            f.Db.Strings.Set("d"u8, "4"u8);
        }
        Assert.False(f.Db.Keys.Exists("d"u8));
        Assert.Equal(before, engine.LatestSequence);
    }
}
