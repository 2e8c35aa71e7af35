using System.Text;
using Talus.Storage.Types;
using Utf8 = System.Text.Encoding;
using Microsoft.Extensions.Logging.Abstractions;
using RocksDbSharp;
using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>The cache of committed `meta` point reads in front of RocksDB, and its coherence with writes.</summary>
public class KeyCacheTests
{
    [Fact]
    public void A_read_key_is_answered_from_the_cache_and_a_write_of_it_is_seen_by_the_next_read()
    {
        using var f = new StorageFixture();
        var cache = f.Dataset.Engine.KeyCache!;
        f.Db.Strings.Set("k"u8, "v1"u8);

        Assert.Equal("v1", Read(f.Db, "k"));
        var hits = cache.Hits;
        Assert.Equal("v1", Read(f.Db, "k"));
        Assert.Equal(hits + 1, cache.Hits);

        f.Db.Strings.Set("k"u8, "v2"u8);
        hits = cache.Hits;
        Assert.Equal("v2", Read(f.Db, "k"));
        Assert.Equal(hits + 1, cache.Hits); // a cached key gets its new value at its write

        Assert.True(f.Db.Keys.Delete("k"u8));
        hits = cache.Hits;
        Assert.Null(Read(f.Db, "k"));
        Assert.Equal(hits + 1, cache.Hits); // ... and its absence at its deletion

        // A key read while missing is cached as missing, and its first write is seen.
        Assert.Null(Read(f.Db, "new"));
        f.Db.Strings.Set("new"u8, "x"u8);
        Assert.Equal("x", Read(f.Db, "new"));
    }

    [Fact]
    public void A_cached_key_expires_on_time_and_FLUSHDB_and_FLUSHALL_empty_the_cache()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set("short"u8, "v"u8, Database.NowMs + 200);
        f.Db.Strings.Set("a"u8, "1"u8);
        f.Dataset[1].Strings.Set("b"u8, "2"u8);
        Assert.Equal("v", Read(f.Db, "short"));
        Assert.Equal("v", Read(f.Db, "short"));
        Assert.Equal("1", Read(f.Db, "a"));
        Assert.Equal("2", Read(f.Dataset[1], "b"));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Read(f.Db, "short") is not null && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.Null(Read(f.Db, "short"));
        Assert.True(DateTime.UtcNow < deadline); // the loop above ended on the key, not on its deadline

        f.Db.Keys.Flush();
        Assert.Null(Read(f.Db, "a"));
        Assert.Equal("2", Read(f.Dataset[1], "b"));
        Keyspace.FlushAll(f.Dataset);
        Assert.Null(Read(f.Dataset[1], "b"));
    }

    [Fact]
    public void A_read_that_missed_before_a_write_does_not_leave_its_older_value_in_the_cache()
    {
        using var stores = new CacheOnEngine();
        var cache = stores.Cache;
        var capture = ValueCapture.Current;
        var key = "m:key"u8.ToArray();

        // The read misses, the write begins and ends (and leaves its value), then the read offers what it read
        // before the write: the cache keeps the write's value.
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, capture, out var ticket));
        Write(stores, (key, "new"), written: true);
        cache.Fill(key, ticket, found: true, "old"u8);
        Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(key, capture, out _));
        Assert.Equal("new", Utf8.UTF8.GetString(capture.Span));

        // The same with a write that failed: it leaves nothing, and the older read is not kept either.
        var other = "m:other"u8.ToArray();
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(other, capture, out var otherTicket));
        Write(stores, (other, "new"), written: false);
        cache.Fill(other, otherTicket, found: true, "old"u8);
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(other, capture, out _));

        // A read that misses while a write of its stripe is in flight gets no ticket at all.
        using (var batch = Batch(stores, (key, "newer")))
        {
            cache.BeginWrite(batch.AsSpan());
            Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, capture, out var during));
            Assert.Equal(-1, during.Epoch);
            cache.Fill(key, during, found: true, "stale"u8);
            Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, capture, out _));
            cache.EndWrite(batch.AsSpan(), written: false);
        }
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, capture, out var after));

        // A read that misses after the write has ended is kept.
        cache.Fill(key, after, found: true, "newer"u8);
        Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(key, capture, out _));
        Assert.Equal("newer", Utf8.UTF8.GetString(capture.Span));
    }

    [Fact]
    public void A_cached_key_written_by_two_overlapping_batches_leaves_the_cache_and_a_failed_write_leaves_no_value()
    {
        using var stores = new CacheOnEngine();
        var cache = stores.Cache;
        var capture = ValueCapture.Current;
        var key = "m:key"u8.ToArray();
        void Cache(string value)
        {
            MissAndFill(cache, key, found: true, Utf8.UTF8.GetBytes(value));
            Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(key, capture, out _));
        }

        // Two writers of one key overlap; the database's order of the two is not known here, so neither may
        // put its value back. Each batch is begun and ended on a thread of its own, as the engine does.
        Cache("v0");
        using var first = Batch(stores, (key, "v1"));
        using var second = Batch(stores, (key, "v2"));
        var firstRep = first.AsSpan().ToArray();
        var secondRep = second.AsSpan().ToArray();
        using var firstBegun = new ManualResetEventSlim();
        using var secondDone = new ManualResetEventSlim();
        var writer = new Thread(() =>
        {
            cache.BeginWrite(firstRep);
            firstBegun.Set();
            secondDone.Wait();
            cache.EndWrite(firstRep, written: true);
        });
        writer.Start();
        firstBegun.Wait();
        cache.BeginWrite(secondRep);
        cache.EndWrite(secondRep, written: true);
        secondDone.Set();
        writer.Join();
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, capture, out _));

        // A write that failed leaves the key out of the cache.
        Cache("v0");
        Write(stores, (key, "lost"), written: false);
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, capture, out _));

        // A write alone puts back a cached key: its value, or its absence.
        Cache("v0");
        Write(stores, (key, "v3"), written: true);
        Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(key, capture, out _));
        Assert.Equal("v3", Utf8.UTF8.GetString(capture.Span));
        Write(stores, (key, null), written: true);
        Assert.Equal(KeyCache.Lookup.NotFound, cache.TryRead(key, capture, out _));
    }

    [Fact]
    public void The_cache_stays_within_its_capacity_and_leaves_out_a_record_larger_than_a_set()
    {
        using var stores = new CacheOnEngine();
        var cache = stores.Cache;
        var capture = ValueCapture.Current;
        for (var i = 0; i < 20_000; i++)
        {
            var key = Utf8.UTF8.GetBytes($"m:key{i}");
            MissAndFill(cache, key, found: i % 3 != 0, Utf8.UTF8.GetBytes(new string('v', i % 97)));
            Assert.True(cache.UsedBytes <= cache.Capacity, $"{cache.UsedBytes} bytes used of {cache.Capacity}");
        }
        // The most recent keys are still there, with their values; the oldest were pushed out.
        Assert.Equal(KeyCache.Lookup.Found, cache.TryRead("m:key19999"u8, capture, out _));
        Assert.Equal(new string('v', 19999 % 97), Utf8.UTF8.GetString(capture.Span));
        Assert.Equal(KeyCache.Lookup.NotFound, cache.TryRead("m:key19998"u8, capture, out _));
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead("m:key0"u8, capture, out _));

        var large = "m:large"u8.ToArray();
        MissAndFill(cache, large, found: true, new byte[KeyCache.SetBytes]);
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(large, capture, out _));
    }

    [Fact]
    public void A_written_key_takes_only_free_room_and_never_pushes_a_cached_key_out()
    {
        using var stores = new CacheOnEngine();
        var cache = stores.Cache;
        var capture = ValueCapture.Current;

        // An empty cache: a written key, and a deleted one, are answered from it afterwards.
        Write(stores, ("m:w"u8.ToArray(), "x"), written: true);
        Assert.Equal(KeyCache.Lookup.Found, cache.TryRead("m:w"u8, capture, out _));
        Assert.Equal("x", Utf8.UTF8.GetString(capture.Span));
        Write(stores, ("m:gone"u8.ToArray(), null), written: true);
        Assert.Equal(KeyCache.Lookup.NotFound, cache.TryRead("m:gone"u8, capture, out _));

        // Reads fill every set with entries of about 110 bytes: no set has room left for one of 316 or more.
        var read = Enumerable.Range(0, 5000).Select(i => Utf8.UTF8.GetBytes($"m:read{i:D5}")).ToList();
        foreach (var key in read)
        {
            MissAndFill(cache, key, found: true, new byte[96]);
        }
        var cached = read.Where(k => cache.TryRead(k, capture, out _) == KeyCache.Lookup.Found).ToList();
        Assert.True(cached.Count > 64 * 3, $"only {cached.Count} keys cached");
        var used = cache.UsedBytes;

        // Writes of keys that were not cached, with records too large for what their sets have free: none of
        // them enters, and every read key stays.
        var written = Enumerable.Range(0, 200).Select(i => Utf8.UTF8.GetBytes($"m:written{i:D3}")).ToList();
        foreach (var key in written)
        {
            Write(stores, (key, new string('w', 300)), written: true);
        }
        Assert.All(written, k => Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(k, capture, out _)));
        Assert.All(cached, k => Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(k, capture, out _)));
        Assert.Equal(used, cache.UsedBytes);

        // A cached key that is written gets its new value in its set even when that set is full.
        Write(stores, (cached[0], new string('n', 300)), written: true);
        Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(cached[0], capture, out _));
        Assert.Equal(new string('n', 300), Utf8.UTF8.GetString(capture.Span));
    }

    [Fact]
    public void Every_key_a_set_still_holds_is_found_by_its_write_after_its_neighbours_were_pushed_out_or_removed()
    {
        // A set's summary answers "not here" for a key whose tag bit is clear, without reading the set: a bit
        // lost by an eviction or a removal would leave the key's old value behind its write.
        using var stores = new CacheOnEngine();
        var cache = stores.Cache;
        var capture = ValueCapture.Current;
        var keys = Enumerable.Range(0, 3000).Select(i => Utf8.UTF8.GetBytes($"m:key{i:D4}")).ToList();
        foreach (var key in keys)
        {
            MissAndFill(cache, key, found: true, Utf8.UTF8.GetBytes("old"));
        }
        // Every third key leaves the cache through a write that failed (nothing takes its place).
        for (var i = 0; i < keys.Count; i += 3)
        {
            Write(stores, (keys[i], "failed"), written: false);
        }
        var cached = keys.Where(k => cache.TryRead(k, capture, out _) == KeyCache.Lookup.Found).ToList();
        Assert.True(cached.Count > 64 * 4, $"only {cached.Count} keys cached");

        foreach (var key in cached)
        {
            Write(stores, (key, "new"), written: true);
        }
        Assert.All(cached, k =>
        {
            Assert.Equal(KeyCache.Lookup.Found, cache.TryRead(k, capture, out _));
            Assert.Equal("new", Utf8.UTF8.GetString(capture.Span));
        });
    }

    [Fact]
    public void Readers_racing_writers_never_read_a_value_older_than_one_whose_write_had_returned()
    {
        // A cache of 16 sets: the 64 keys share sets and stripes, push each other out, and are written in
        // batches of several keys, so fills, write-backs and evictions of neighbours interleave all the time.
        var path = Path.Combine(Path.GetTempPath(), "talus-keycache-" + Guid.NewGuid().ToString("N"));
        using var dataset = Dataset.Open(new StorageOptions { Path = path, Fsync = FsyncPolicy.No, BlockCacheBytes = 8 << 20, WriteBufferBytes = 4 << 20, KeyCacheBytes = 16 * KeyCache.SetBytes }, NullLogger.Instance);
        try
        {
            var db = dataset[0];
            var (failures, reads) = MonotonicReadRace.Run(keys: 64, keysPerWrite: 3,
                (keys, round) =>
                {
                    using var batch = new WriteBatch();
                    foreach (var k in keys)
                    {
                        batch.Put(db.MetaKey(Utf8.UTF8.GetBytes($"key{k}")), Metadata(round), dataset.Engine.Meta);
                    }
                    dataset.Engine.Write(batch);
                },
                k => dataset.Engine.TryGet(dataset.Engine.Meta, db.MetaKey(Utf8.UTF8.GetBytes($"key{k}")), out var value)
                    ? BitConverter.ToInt64(value[^8..])
                    : 0);

            Assert.Empty(failures);
            Assert.True(reads > 10_000, $"only {reads} reads");
            Assert.True(dataset.Engine.KeyCache!.Hits > 1000, $"only {dataset.Engine.KeyCache.Hits} hits");
        }
        finally
        {
            dataset.Dispose();
            Directory.Delete(path, true);
        }
    }

    /// <summary>A read that misses the cache and offers what it found in the database, with no write in between.</summary>
    private static void MissAndFill(KeyCache cache, byte[] key, bool found, byte[] record)
    {
        Assert.Equal(KeyCache.Lookup.Miss, cache.TryRead(key, ValueCapture.Current, out var ticket));
        cache.Fill(key, ticket, found, record);
    }

    private static string? Read(Database db, string key) =>
        db.Strings.Get(Utf8.UTF8.GetBytes(key), out var value) == KeyLookup.Found ? Utf8.UTF8.GetString(value) : null;

    /// <summary>Bytes that stand for a stored record in the race test: the round, last.</summary>
    private static byte[] Metadata(long round)
    {
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(8), round);
        return bytes;
    }

    /// <summary>One batch through the cache's write path, as the engine runs it around a write that succeeded or failed.</summary>
    private static void Write(CacheOnEngine stores, (byte[] Key, string? Value) record, bool written)
    {
        using var batch = Batch(stores, record);
        stores.Cache.BeginWrite(batch.AsSpan());
        stores.Cache.EndWrite(batch.AsSpan(), written);
    }

    private static WriteBatch Batch(CacheOnEngine stores, params (byte[] Key, string? Value)[] records)
    {
        var batch = new WriteBatch();
        foreach (var (key, value) in records)
        {
            if (value is null)
            {
                batch.Delete(key, stores.Meta);
            }
            else
            {
                batch.Put(key, Utf8.UTF8.GetBytes(value), stores.Meta);
            }
        }
        return batch;
    }

    /// <summary>A key cache driven by hand, with a real engine for the `meta` family's id.</summary>
    private sealed class CacheOnEngine : IDisposable
    {
        private readonly StorageFixture _fixture = new();

        public CacheOnEngine()
        {
            Meta = _fixture.Dataset.Engine.Meta;
            Cache = new KeyCache(64 * KeyCache.SetBytes, _fixture.Dataset.Engine.IdOf(Meta));
        }

        public KeyCache Cache { get; }

        public ColumnFamilyHandle Meta { get; }

        public void Dispose() => _fixture.Dispose();
    }
}
