using Microsoft.Extensions.Logging.Abstractions;
using Talus.Storage.Engine;
using Talus.Storage.Types;

namespace Talus.Storage.Tests;

/// <summary>The cache of windows of lists read by LRANGE, and its coherence with writes.</summary>
public class ListCacheTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlySpan<byte> b) => System.Text.Encoding.UTF8.GetString(b);

    private static List<string> Range(Database db, string key, long start, long stop)
    {
        db.Lists.Range(B(key), start, stop, out var values);
        return values.ToList().Select(v => S(v)).ToList();
    }

    private static void Push(Database db, string key, ListEnd end, params string[] values) =>
        Assert.Equal(OpStatus.Ok, db.Lists.Push(B(key), end, values.Select(B).ToArray(), out _));

    private static string[] Items(int n, string prefix = "e") => Enumerable.Range(0, n).Select(i => prefix + i).ToArray();

    [Fact]
    public void A_range_is_read_once_and_then_answered_from_the_cache_within_the_window_it_holds()
    {
        using var f = new StorageFixture();
        var cache = f.Dataset.Engine.ListCache!;
        Push(f.Db, "l", ListEnd.Right, Items(300));

        Assert.Equal(Items(100), Range(f.Db, "l", 0, 99));
        Assert.Equal((0L, 1L), (cache.Hits, cache.Misses));
        Assert.Equal(Items(100), Range(f.Db, "l", 0, 99));
        Assert.Equal(Items(100)[10..50], Range(f.Db, "l", 10, 49));
        Assert.Equal(Items(100)[^1..], Range(f.Db, "l", -201, -201)); // element 99, counted from the tail
        Assert.Empty(Range(f.Db, "l", 5, 2));
        Assert.Equal((4L, 1L), (cache.Hits, cache.Misses));

        // Past the window: read from RocksDB, and the window read replaces the entry.
        Assert.Equal(Items(300)[..150], Range(f.Db, "l", 0, 149));
        Assert.Equal((4L, 2L), (cache.Hits, cache.Misses));
        Assert.Equal(Items(300)[120..150], Range(f.Db, "l", 120, 149));
        Assert.Equal(5L, cache.Hits);

        // A window at the tail, as RPUSH timelines are read.
        Assert.Equal(Items(300)[200..], Range(f.Db, "l", -100, -1));
        Assert.Equal((5L, 3L), (cache.Hits, cache.Misses));
        Assert.Equal(Items(300)[250..], Range(f.Db, "l", -50, -1));
        Assert.Equal(Items(300)[200..210], Range(f.Db, "l", 200, 209));
        Assert.Equal((7L, 3L), (cache.Hits, cache.Misses));
        Assert.Equal(Items(300)[..10], Range(f.Db, "l", 0, 9)); // outside the window now
        Assert.Equal((7L, 4L), (cache.Hits, cache.Misses));
        Assert.True(cache.UsedBytes > 10 * 2);
    }

    [Fact]
    public void Every_write_of_a_cached_list_or_of_its_key_is_seen_by_the_next_range_read()
    {
        using var f = new StorageFixture();
        var db = f.Dataset[0];
        var model = Items(20).ToList();
        Push(db, "l", ListEnd.Right, [.. model]);
        var hitsBefore = f.Dataset.Engine.ListCache!.Hits;

        void Check(string after)
        {
            // Twice: the first read may refill the entry, the second is answered by it.
            Assert.True(model.SequenceEqual(Range(db, "l", 0, -1)), $"after {after}");
            Assert.True(model.SequenceEqual(Range(db, "l", 0, -1)), $"after {after}, read again");
        }

        Check("rpush");
        Assert.Equal(OpStatus.Ok, db.Lists.Set(B("l"), 3, B("x")));
        model[3] = "x";
        Check("lset");
        Push(db, "l", ListEnd.Left, "h");
        model.Insert(0, "h");
        Check("lpush");
        db.Lists.Pop(B("l"), ListEnd.Right, 2, out _);
        model.RemoveRange(model.Count - 2, 2);
        Check("rpop");
        db.Lists.Insert(B("l"), after: true, B("x"), B("y"), out _);
        model.Insert(model.IndexOf("x") + 1, "y");
        Check("linsert");
        db.Lists.Remove(B("l"), 0, B("e5"), out _);
        model.Remove("e5");
        Check("lrem");
        db.Lists.Trim(B("l"), 1, -2);
        model = model[1..^1];
        Check("ltrim");
        Assert.True(db.Keys.Copy(B("l"), db, B("copy"), replace: false));
        Push(db, "copy", ListEnd.Left, "c");
        Check("a copy written");
        Assert.Equal(OpStatus.Ok, db.Keys.Rename(B("copy"), B("l"), onlyIfMissing: false));
        model.Insert(0, "c");
        Check("rename onto it");
        Assert.True(db.Keys.SetExpiry(B("l"), Database.NowMs + 60_000, ExpireCondition.Always));
        Check("expire");
        db.Strings.Set(B("l"), B("s"));
        Assert.Equal(KeyLookup.WrongType, db.Lists.Range(B("l"), 0, -1, out _));
        Assert.True(db.Keys.Delete(B("l")));
        model = [];
        Check("overwrite and del");
        Push(db, "l", ListEnd.Right, "n1", "n2");
        model = ["n1", "n2"];
        Check("a new list");
        db.Keys.Flush();
        model = [];
        Check("flushdb");
        Push(db, "l", ListEnd.Right, "after");
        model = ["after"];
        Check("a list after flushdb");
        Keyspace.FlushAll(f.Dataset);
        model = [];
        Check("flushall");

        Assert.True(f.Dataset.Engine.ListCache!.Hits - hitsBefore >= 10); // the second reads were served from the cache
    }

    [Fact]
    public void A_cached_list_whose_expiry_passes_reads_as_missing_at_once()
    {
        using var f = new StorageFixture();
        Push(f.Db, "l", ListEnd.Right, "a", "b");
        Assert.True(f.Db.Keys.SetExpiry(B("l"), Database.NowMs + 300, ExpireCondition.Always));
        Assert.Equal(["a", "b"], Range(f.Db, "l", 0, -1));
        var hits = f.Dataset.Engine.ListCache!.Hits;
        Assert.Equal(["a", "b"], Range(f.Db, "l", 0, -1));
        Assert.Equal(hits + 1, f.Dataset.Engine.ListCache.Hits);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Range(f.Db, "l", 0, -1).Count > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.True(DateTime.UtcNow < deadline);
        Assert.Equal(KeyLookup.Missing, f.Db.Lists.Range(B("l"), 0, -1, out _));
    }

    [Fact]
    public void What_was_read_before_a_write_began_is_never_served_after_it()
    {
        using var f = new StorageFixture();
        var cache = f.Dataset.Engine.ListCache!;
        Push(f.Db, "l", ListEnd.Right, "old");
        var metaKey = f.Db.MetaKey(B("l"));
        var values = Util.ValueBuffer.Take();
        values.Add(B("old"));

        // Stamped, then a write, then the offer of what was read before it: not kept.
        var stamp = cache.Stamp(metaKey, out var hash);
        Assert.True(stamp >= 0);
        Push(f.Db, "l", ListEnd.Left, "new");
        cache.Offer(metaKey, hash, stamp, 1, 0, 0, values);
        Assert.False(cache.TryGet(metaKey, out _));

        // An entry kept before a write is retired by it.
        stamp = cache.Stamp(metaKey, out hash);
        cache.Offer(metaKey, hash, stamp, 1, 0, 0, values);
        Assert.True(cache.TryGet(metaKey, out var entry));
        Assert.Equal("old", S(entry[0]));
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Set(B("l"), 0, B("changed")));
        Assert.False(cache.TryGet(metaKey, out _));
        Assert.Equal(["changed", "old"], Range(f.Db, "l", 0, -1));
    }

    [Fact]
    public void A_transaction_reads_its_own_writes_and_not_the_cache()
    {
        using var f = new StorageFixture();
        Push(f.Db, "l", ListEnd.Right, "a", "b");
        Assert.Equal(["a", "b"], Range(f.Db, "l", 0, -1));
        Assert.Equal(["a", "b"], Range(f.Db, "l", 0, -1)); // cached

        using (var tx = f.Dataset.Engine.BeginTransaction())
        {
            Push(f.Db, "l", ListEnd.Left, "t");
            Assert.Equal(["t", "a", "b"], Range(f.Db, "l", 0, -1));
            tx.Commit();
        }
        Assert.Equal(["t", "a", "b"], Range(f.Db, "l", 0, -1));
    }

    [Fact]
    public void A_list_read_again_after_each_write_holds_one_entry_not_one_per_read()
    {
        using var f = new StorageFixture();
        var cache = f.Dataset.Engine.ListCache!;
        Push(f.Db, "l", ListEnd.Right, Items(100));
        Assert.Equal(100, Range(f.Db, "l", 0, -1).Count);
        var one = cache.UsedBytes;
        for (var i = 0; i < 200; i++)
        {
            // A write of the same length retires the entry; the read after it replaces it.
            Assert.Equal(OpStatus.Ok, f.Db.Lists.Set(B("l"), 0, B(i % 2 == 0 ? "f0" : "e0")));
            Assert.Equal(100, Range(f.Db, "l", 0, -1).Count);
        }
        Assert.Equal(one, cache.UsedBytes);
        Assert.Equal(201, cache.Misses);

        // Two windows read in turn replace each other: one entry, the size of either.
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Set(B("l"), 0, B("e0")));
        Assert.Equal(10, Range(f.Db, "l", 0, 9).Count);
        var window = cache.UsedBytes;
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(10, Range(f.Db, "l", 50, 59).Count);
            Assert.Equal(10, Range(f.Db, "l", 0, 9).Count);
        }
        Assert.Equal(window, cache.UsedBytes);
        Assert.Equal(602, cache.Misses);
    }

    [Fact]
    public void The_entries_stay_within_the_capacity_and_the_oldest_leave_first()
    {
        var path = Path.Combine(Path.GetTempPath(), "talus-storage-" + Guid.NewGuid().ToString("N"));
        const long capacity = 64 * 1024;
        try
        {
            using var dataset = Dataset.Open(new StorageOptions { Path = path, Fsync = FsyncPolicy.No, ListCacheBytes = capacity }, NullLogger.Instance);
            var db = dataset[0];
            var cache = dataset.Engine.ListCache!;
            for (var i = 0; i < 200; i++)
            {
                Push(db, "l" + i, ListEnd.Right, Items(50, new string('v', 20)));
                Assert.Equal(50, Range(db, "l" + i, 0, -1).Count);
                Assert.InRange(cache.UsedBytes, 1, capacity);
            }
            Assert.False(cache.TryGet(db.MetaKey(B("l0")), out _));
            Assert.True(cache.TryGet(db.MetaKey(B("l199")), out _));

            // An entry larger than the bound per entry is not kept.
            Push(db, "big", ListEnd.Right, Items(ListCache.MaxElements + 1));
            Assert.Equal(ListCache.MaxElements + 1, Range(db, "big", 0, -1).Count);
            Assert.False(cache.TryGet(db.MetaKey(B("big")), out _));
        }
        finally
        {
            Directory.Delete(path, true);
        }
    }

    /// <summary>
    /// A writer pushes increasing numbers at the head of one list while two readers read its head again and
    /// again. A read that starts after another read has returned a number never returns a smaller one: no
    /// reader is served a head that a write had already replaced when its read began.
    /// </summary>
    [Fact]
    public void Concurrent_readers_never_see_a_head_older_than_one_already_seen()
    {
        using var f = new StorageFixture();
        static string Number(int n) => n.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        Push(f.Db, "l", ListEnd.Left, Number(0));
        const int pushes = 20_000;
        var writing = true;
        var seen = 0;
        var reads = 0;
        string? failure = null;
        var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (Volatile.Read(ref writing) && failure is null)
            {
                var floor = Volatile.Read(ref seen);
                var head = int.Parse(Range(f.Db, "l", 0, 0)[0], System.Globalization.CultureInfo.InvariantCulture);
                if (head < floor)
                {
                    failure = $"read head {head} after {floor} had been read";
                }
                int last;
                while ((last = Volatile.Read(ref seen)) < head && Interlocked.CompareExchange(ref seen, head, last) != last)
                {
                }
                Interlocked.Increment(ref reads);
            }
        })).ToList();
        readers.ForEach(t => t.Start());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var n = 1; n <= pushes && failure is null && DateTime.UtcNow < deadline; n++)
        {
            Push(f.Db, "l", ListEnd.Left, Number(n));
        }
        Volatile.Write(ref writing, false);
        readers.ForEach(t => t.Join());
        Assert.Null(failure);
        Assert.Equal(Number(pushes), Range(f.Db, "l", 0, 0)[0]);
        Assert.True(f.Dataset.Engine.ListCache!.Hits > 0);
        Assert.True(reads > 100, $"{reads} reads");
    }
}
