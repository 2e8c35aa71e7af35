using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

public class WriteGroupTests
{
    [Fact]
    public void Grouped_sets_are_invisible_until_the_commit_then_all_visible()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        Assert.True(f.Db.Strings.Set("a"u8, "1"u8, 0, group));
        Assert.True(f.Db.Strings.Set("b"u8, "2"u8, 0, group));
        Assert.True(f.Db.Strings.Set("a"u8, "3"u8, 0, group));
        Assert.Equal(3, group.Commands);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("a"u8, out _));

        group.Commit(f.Dataset);

        Assert.True(group.IsEmpty);
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get("a"u8, out var a));
        Assert.Equal("3"u8.ToArray(), a.ToArray()); // the later SET of the same key wins, as in command order
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get("b"u8, out var b));
        Assert.Equal("2"u8.ToArray(), b.ToArray());
    }

    [Fact]
    public void A_group_is_one_write_batch_in_the_wal()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        var before = f.Dataset.Engine.LatestSequence;
        for (var i = 0; i < 16; i++)
        {
            f.Db.Strings.Set(System.Text.Encoding.ASCII.GetBytes("k" + i), "v"u8, 0, group);
        }
        group.Commit(f.Dataset);

        using var log = f.Dataset.Engine.Db.GetUpdatesSince(before + 1);
        Assert.True(log.Valid());
        using var batch = log.GetBatch(out var sequence);
        Assert.Equal(before + 1, sequence);
        Assert.Equal(16, batch.Count());
        log.Next();
        Assert.False(log.Valid());
    }

    [Fact]
    public void An_expiry_set_through_a_group_is_kept()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        f.Db.Strings.Set("gone"u8, "v"u8, Database.NowMs - 1, group);
        f.Db.Strings.Set("later"u8, "v"u8, Database.NowMs + 60_000, group);
        group.Commit(f.Dataset);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("gone"u8, out _));
        Assert.InRange(f.Db.Keys.TtlMs("later"u8), 1, 60_000);
    }

    [Fact]
    public void A_value_too_large_to_group_is_refused()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        Assert.False(f.Db.Strings.Set("big"u8, new byte[WriteGroup.MaxValueBytes], 0, group));
        Assert.True(group.IsEmpty);
    }

    [Fact]
    public void Commit_waits_for_the_lock_of_every_key_in_the_group()
    {
        // A read-modify-write command (INCR) holds its key's stripe from its read to its write; a group that
        // committed meanwhile would be overwritten by a value computed from the older state.
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        f.Db.Strings.Set("free"u8, "1"u8, 0, group);
        f.Db.Strings.Set("held"u8, "1"u8, 0, group);
        Task commit;
        using (f.Db.Locks.Lock(0, "held"u8))
        {
            commit = Task.Run(() => group.Commit(f.Dataset));
            Assert.False(commit.Wait(TimeSpan.FromMilliseconds(300)), "the commit did not wait for the key lock");
            Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("free"u8, out _));
        }
        Assert.True(commit.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get("held"u8, out _));
    }
}
