using Talus.Storage.Engine;
using Talus.Storage.Types;

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
    public void A_transaction_knows_whether_it_wrote_more_than_metadata()
    {
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        Assert.Equal(OpStatus.Ok, f.Db.Sets.Add("s"u8, ["a"u8.ToArray()], out _));
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Push("l"u8, ListEnd.Left, ["x"u8.ToArray(), "y"u8.ToArray()], out _));
        using (var tx = engine.BeginTransaction())
        {
            // A counter, a pop and an SADD of a member already there: metadata records only, or nothing.
            Assert.Equal(OpStatus.Ok, f.Db.Strings.IncrBy("n"u8, 1, out _));
            Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop("l"u8, ListEnd.Left, 1, out _));
            Assert.Equal(OpStatus.Ok, f.Db.Sets.Add("s"u8, ["a"u8.ToArray()], out var none));
            Assert.Equal(0, none);
            Assert.False(tx.WroteElements);
            Assert.Equal(2u, tx.Count);
            Assert.Equal(OpStatus.Ok, f.Db.Sets.Add("s"u8, ["b"u8.ToArray()], out var added));
            Assert.Equal(1, added);
            Assert.True(tx.WroteElements);
            tx.Commit();
        }
        Assert.Equal(OpStatus.Ok, f.Db.Sets.IsMember("s"u8, "b"u8, out var isMember));
        Assert.True(isMember);
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

    [Fact]
    public void Point_reads_see_each_keys_last_write_in_its_column_family_before_and_after_an_iterator_indexes_them()
    {
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        Write(engine, b => b.Put("a"u8.ToArray(), "0"u8.ToArray(), engine.Meta).Put("b"u8.ToArray(), "0"u8.ToArray(), engine.Meta).Put("e"u8.ToArray(), "0"u8.ToArray(), engine.Meta));
        using (var tx = engine.BeginTransaction())
        {
            Write(engine, b => b.Put("a"u8.ToArray(), "1"u8.ToArray(), engine.Meta).Delete("b"u8.ToArray(), engine.Meta));
            Write(engine, b => b.Put("c"u8.ToArray(), "1"u8.ToArray(), engine.Meta).Put("a"u8.ToArray(), "2"u8.ToArray(), engine.Meta));
            // The same key in another column family is another key.
            Write(engine, b => b.Put("e"u8.ToArray(), "sub"u8.ToArray(), engine.Sub).Delete("c"u8.ToArray(), engine.Sub));
            // Enough keys to make the overlay grow its table several times.
            for (var i = 0; i < 200; i++)
            {
                var n = System.Text.Encoding.ASCII.GetBytes("n" + i);
                Write(engine, b => b.Put(n, n, engine.Sub));
            }
            Write(engine, b => b.Delete("n7"u8.ToArray(), engine.Sub));

            string Read(RocksDbSharp.ColumnFamilyHandle family, string key) =>
                engine.TryGet(family, System.Text.Encoding.ASCII.GetBytes(key), out var value) ? System.Text.Encoding.ASCII.GetString(value) : "-";
            string[] Reads() => [Read(engine.Meta, "a"), Read(engine.Meta, "b"), Read(engine.Meta, "c"), Read(engine.Meta, "d"), Read(engine.Meta, "e"),
                Read(engine.Sub, "e"), Read(engine.Sub, "c"), Read(engine.Sub, "n6"), Read(engine.Sub, "n7"), Read(engine.Sub, "n199")];
            string[] expected = ["2", "-", "1", "-", "0", "sub", "-", "n6", "-", "n199"];
            Assert.Equal(expected, Reads());
            Assert.Equal("2"u8.ToArray(), engine.Get(engine.Meta, "a"u8));
            Assert.Null(engine.Get(engine.Meta, "b"u8));

            // An iterator needs the index; it is built from the records so far and answers the same.
            var keys = new List<string>();
            using (var it = engine.NewIterator(engine.Meta, null, null))
            {
                for (it.SeekToFirst(); it.Valid(); it.Next())
                {
                    keys.Add(System.Text.Encoding.ASCII.GetString(it.Key()));
                }
            }
            Assert.Contains("a", keys);
            Assert.Contains("c", keys);
            Assert.DoesNotContain("b", keys);
            Assert.Equal(expected, Reads());
            Write(engine, b => b.Put("b"u8.ToArray(), "3"u8.ToArray(), engine.Meta));
            Assert.Equal("3", Read(engine.Meta, "b"));
            tx.Commit();
        }
        Assert.Equal("2"u8.ToArray(), engine.Get(engine.Meta, "a"u8));
        Assert.Equal("3"u8.ToArray(), engine.Get(engine.Meta, "b"u8));
        Assert.Equal("sub"u8.ToArray(), engine.Get(engine.Sub, "e"u8));
        Assert.Null(engine.Get(engine.Sub, "n7"u8));
    }

    private static void Write(StorageEngine engine, Action<RocksDbSharp.WriteBatch> fill)
    {
        using var batch = new RocksDbSharp.WriteBatch();
        fill(batch);
        engine.Write(batch);
    }
}
