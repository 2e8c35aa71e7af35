using Microsoft.Extensions.Logging.Abstractions;
using RocksDbSharp;
using Talus.Storage.Engine;
using Talus.Storage.Types;
using Utf8 = System.Text.Encoding;

namespace Talus.Storage.Tests;

/// <summary>
/// The cache of committed `sub` point reads (a set's members, a hash's fields, a list's elements): what it answers,
/// what a write does to it, and that it keeps its write state apart from the key cache's when one batch writes both.
/// </summary>
public class SubKeyCacheTests
{
    [Fact]
    public void A_member_read_is_answered_from_the_cache_and_every_write_of_it_is_seen_by_the_next_read()
    {
        using var f = new StorageFixture();
        var cache = f.Dataset.Engine.SubKeyCache!;
        Assert.Equal(OpStatus.Ok, f.Db.Sets.AddOne("s"u8, "stays"u8, out _));
        Assert.Equal(OpStatus.Ok, f.Db.Sets.AddOne("s"u8, "m"u8, out _));

        Assert.True(IsMember(f.Db, "s", "m"));
        var hits = cache.Hits;
        Assert.True(IsMember(f.Db, "s", "m"));
        Assert.Equal(hits + 1, cache.Hits);

        // A removal leaves the member's absence in the cache, and adding it again its presence.
        Assert.Equal(OpStatus.Ok, f.Db.Sets.Remove("s"u8, ["m"u8.ToArray()], out var removed));
        Assert.Equal(1, removed);
        hits = cache.Hits;
        Assert.False(IsMember(f.Db, "s", "m"));
        Assert.Equal(hits + 1, cache.Hits);
        Assert.Equal(OpStatus.Ok, f.Db.Sets.AddOne("s"u8, "m"u8, out var added));
        Assert.Equal(1, added);
        Assert.True(IsMember(f.Db, "s", "m"));

        // A member read while missing is cached as missing; the SADD that adds it reads that, and the write leaves
        // it present: the next read is a hit.
        Assert.False(IsMember(f.Db, "s", "fresh"));
        Assert.Equal(OpStatus.Ok, f.Db.Sets.AddOne("s"u8, "fresh"u8, out added));
        Assert.Equal(1, added);
        hits = cache.Hits;
        Assert.True(IsMember(f.Db, "s", "fresh"));
        Assert.Equal(hits + 1, cache.Hits);

        // A hash field's value follows its writes.
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.SetOne("h"u8, "f"u8, "v1"u8, out _));
        Assert.Equal("v1", HashGet(f.Db, "h", "f"));
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.SetOne("h"u8, "f"u8, "v2"u8, out _));
        hits = cache.Hits;
        Assert.Equal("v2", HashGet(f.Db, "h", "f"));
        Assert.Equal(hits + 1, cache.Hits);

        // A collection deleted and created again has a new version: none of the old members is found.
        Assert.True(f.Db.Keys.Delete("s"u8));
        Assert.Equal(OpStatus.Ok, f.Db.Sets.AddOne("s"u8, "other"u8, out _));
        Assert.False(IsMember(f.Db, "s", "m"));
        Assert.False(IsMember(f.Db, "s", "fresh"));
        Assert.True(IsMember(f.Db, "s", "other"));
    }

    [Fact]
    public void A_list_index_popped_and_pushed_again_is_read_with_its_new_element()
    {
        // A pop writes only the list's metadata, so the popped element stays in the database (and in the cache, once
        // read) at its index; the push that takes the index again writes it, and that write must reach the cache.
        using var f = new StorageFixture();
        var list = f.Db.Lists;
        Assert.Equal(OpStatus.Ok, list.Push("l"u8, ListEnd.Right, ["old"u8.ToArray(), "keep"u8.ToArray()], out _));
        for (var round = 0; round < 3; round++)
        {
            var value = list.PopOne("l"u8, ListEnd.Left, out var status);
            Assert.Equal(OpStatus.Ok, status);
            Assert.Equal(round == 0 ? "old" : $"new{round - 1}", Utf8.UTF8.GetString(value!));
            Assert.Equal(OpStatus.Ok, list.Push("l"u8, ListEnd.Left, [Utf8.UTF8.GetBytes($"new{round}")], out _));
        }
        Assert.Equal(KeyLookup.Found, list.Index("l"u8, 0, out var first));
        Assert.Equal("new2", Utf8.UTF8.GetString(first!));
        // The second and third pops read the index from the cache: the push before each had put its element there.
        Assert.True(f.Dataset.Engine.SubKeyCache!.Hits >= 2, $"{f.Dataset.Engine.SubKeyCache.Hits} hits");
    }

    [Fact]
    public void Writes_alone_never_fill_the_cache_and_FLUSHALL_empties_it()
    {
        using var f = new StorageFixture();
        var cache = f.Dataset.Engine.SubKeyCache!;
        var elements = Enumerable.Range(0, 2000).Select(i => Utf8.UTF8.GetBytes($"e{i}")).ToList();
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Push("pushed"u8, ListEnd.Right, elements, out _));
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.Set("new"u8, elements.Select(e => KeyValuePair.Create(e, e)).ToList(), out _));
        Assert.Equal(0, cache.UsedBytes);

        // HSET on a hash that exists reads each field before it writes it: those reads fill the cache.
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.SetOne("written"u8, "first"u8, "v"u8, out _));
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.Set("written"u8, elements.Select(e => KeyValuePair.Create(e, e)).ToList(), out _));
        var filled = cache.UsedBytes;
        Assert.True(filled > 0);
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Push("pushed"u8, ListEnd.Right, elements, out _));
        Assert.Equal(filled, cache.UsedBytes);

        Keyspace.FlushAll(f.Dataset);
        Assert.Equal(0, cache.UsedBytes);
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.Get("written"u8, "e1"u8, out var gone));
        Assert.Null(gone);
    }

    [Fact]
    public void A_batch_that_writes_a_cached_key_and_a_cached_member_leaves_both_caches_holding_the_new_state()
    {
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        var meta = f.Db.MetaKey("plain"u8);
        var sub = Utf8.UTF8.GetBytes("member-key");
        using (var seed = new WriteBatch())
        {
            seed.Put(meta, "m1"u8.ToArray(), engine.Meta);
            seed.Put(sub, "s1"u8.ToArray(), engine.Sub);
            engine.Write(seed);
        }
        Assert.Equal("m1", ReadCommitted(engine, engine.Meta, meta));
        Assert.Equal("s1", ReadCommitted(engine, engine.Sub, sub));

        using (var both = new WriteBatch())
        {
            both.Put(meta, "m2"u8.ToArray(), engine.Meta);
            both.Put(sub, "s2"u8.ToArray(), engine.Sub);
            engine.Write(both);
        }
        // Each cache ended its own part of the write: both keys are answered from them with the new values, and a
        // stripe left "in flight" would keep them out for good.
        var (metaHits, subHits) = (engine.KeyCache!.Hits, engine.SubKeyCache!.Hits);
        Assert.Equal("m2", ReadCommitted(engine, engine.Meta, meta));
        Assert.Equal("s2", ReadCommitted(engine, engine.Sub, sub));
        Assert.Equal(metaHits + 1, engine.KeyCache.Hits);
        Assert.Equal(subHits + 1, engine.SubKeyCache.Hits);
    }

    [Fact]
    public void Readers_racing_writers_of_hash_fields_never_read_a_value_older_than_one_whose_write_had_returned()
    {
        // Caches of 16 sets: the fields share sets and stripes and push each other out while two writers rewrite them
        // through the command path (metadata and field in one batch) and two readers read them.
        var path = Path.Combine(Path.GetTempPath(), "talus-subkeycache-" + Guid.NewGuid().ToString("N"));
        var options = new StorageOptions
        {
            Path = path, Fsync = FsyncPolicy.No, BlockCacheBytes = 8 << 20, WriteBufferBytes = 4 << 20,
            KeyCacheBytes = 16 * KeyCache.SetBytes, SubKeyCacheBytes = 16 * KeyCache.SetBytes,
        };
        using var dataset = Dataset.Open(options, NullLogger.Instance);
        try
        {
            var db = dataset[0];
            var (failures, reads) = MonotonicReadRace.Run(keys: 64, keysPerWrite: 1,
                (fields, round) => db.Hashes.SetOne("h"u8, Utf8.UTF8.GetBytes($"f{fields[0]}"), BitConverter.GetBytes(round), out _),
                k =>
                {
                    db.Hashes.Get("h"u8, Utf8.UTF8.GetBytes($"f{k}"), out var value);
                    return value is null ? 0 : BitConverter.ToInt64(value);
                });

            Assert.Empty(failures);
            Assert.True(reads > 10_000, $"only {reads} reads");
            Assert.True(dataset.Engine.SubKeyCache!.Hits > 1000, $"only {dataset.Engine.SubKeyCache.Hits} hits");
        }
        finally
        {
            dataset.Dispose();
            Directory.Delete(path, true);
        }
    }

    private static bool IsMember(Database db, string key, string member)
    {
        Assert.Equal(OpStatus.Ok, db.Sets.IsMember(Utf8.UTF8.GetBytes(key), Utf8.UTF8.GetBytes(member), out var isMember));
        return isMember;
    }

    private static string? HashGet(Database db, string key, string field)
    {
        Assert.Equal(OpStatus.Ok, db.Hashes.Get(Utf8.UTF8.GetBytes(key), Utf8.UTF8.GetBytes(field), out var value));
        return value is null ? null : Utf8.UTF8.GetString(value);
    }

    private static string? ReadCommitted(StorageEngine engine, ColumnFamilyHandle family, byte[] key) =>
        engine.TryGet(family, key, out var value) ? Utf8.UTF8.GetString(value) : null;
}
