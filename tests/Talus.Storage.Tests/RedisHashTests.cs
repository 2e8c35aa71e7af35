using RocksDbSharp;
using Talus.Storage.Encoding;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Storage.Tests;

public class RedisHashTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static string S(byte[]? b) => b is null ? "(nil)" : System.Text.Encoding.UTF8.GetString(b);

    private static List<KeyValuePair<byte[], byte[]>> Pairs(params string[] flat)
    {
        var list = new List<KeyValuePair<byte[], byte[]>>();
        for (var i = 0; i < flat.Length; i += 2)
        {
            list.Add(new(B(flat[i]), B(flat[i + 1])));
        }
        return list;
    }

    /// <summary>Every sub-key stored under the key's given version, straight from the sub column family.</summary>
    internal static List<(byte[] Field, byte[] Value)> SubEntries(Database db, string key, ulong version)
    {
        var prefix = KeyCodec.SubKeyPrefix(db.Index, B(key), version);
        var result = new List<(byte[], byte[])>();
        using var it = db.Engine.NewIterator(db.Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));
        for (it.Seek(prefix); it.Valid(); it.Next())
        {
            result.Add((it.Key()[prefix.Length..], it.Value()));
        }
        return result;
    }

    /// <summary>Number of sub-keys of a user key in any version.</summary>
    internal static int AllSubKeysOf(Database db, string key)
    {
        var count = 0;
        using var it = db.Engine.NewIterator(db.Engine.Sub, null, null);
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            if (KeyCodec.TryDecodeSubKey(it.GetKeySpan(), out var index, out var userKey, out _, out _) && index == db.Index && userKey.SequenceEqual(B(key)))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Makes a key logically expired while its records stay on disk (as after its expiry time passes).</summary>
    internal static void ExpireInPlace(Database db, string key)
    {
        var metaKey = db.MetaKey(B(key));
        var raw = db.Engine.Get(db.Engine.Meta, metaKey)!;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(2), Database.NowMs - 1000);
        using var batch = new WriteBatch();
        batch.Put(metaKey, raw, db.Engine.Meta);
        db.Engine.Write(batch);
    }

    [Fact]
    public void Set_counts_new_fields_once_and_the_last_duplicate_wins()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        Assert.Equal(OpStatus.Ok, h.Set(B("h"), Pairs("a", "1", "b", "2", "a", "3"), out var added));
        Assert.Equal(2, added);
        Assert.Equal(OpStatus.Ok, h.Set(B("h"), Pairs("a", "4", "c", "5"), out added));
        Assert.Equal(1, added);
        h.Get(B("h"), B("a"), out var value);
        Assert.Equal("4", S(value));
        h.Count(B("h"), out var count);
        Assert.Equal(3, count);
        h.GetMany(B("h"), [B("c"), B("zz"), B("b")], out var values);
        Assert.Equal(["5", "(nil)", "2"], values.Select(S));
    }


    [Fact]
    public void Set_writes_nothing_for_a_field_that_already_holds_the_value_and_a_field_given_twice_ends_at_its_last_value()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        h.Set(B("h"), Pairs("a", "x", "b", "y"), out _);
        var before = f.Db.Engine.LatestSequence;
        Assert.Equal(OpStatus.Ok, h.Set(B("h"), Pairs("a", "x"), out var added));
        Assert.Equal(0, added);
        Assert.Equal(OpStatus.Ok, h.Set(B("h"), Pairs("b", "y", "a", "x"), out added));
        Assert.Equal(0, added);
        Assert.Equal(before, f.Db.Engine.LatestSequence);

        // A field given twice: the first value may equal the stored one, the last one given always wins.
        h.Set(B("h"), Pairs("a", "x", "a", "z"), out _);
        h.Set(B("h"), Pairs("b", "q", "b", "y"), out _);
        h.Set(B("h"), Pairs("c", "1", "c", "2"), out added);
        Assert.Equal(1, added);
        Assert.True(f.Db.Engine.LatestSequence > before);
        h.GetMany(B("h"), [B("a"), B("b"), B("c")], out var values);
        Assert.Equal(["z", "y", "2"], values.Select(S));
        h.Count(B("h"), out var count);
        Assert.Equal(3, count);

        // A changed value is written.
        before = f.Db.Engine.LatestSequence;
        h.Set(B("h"), Pairs("a", "zz"), out _);
        Assert.True(f.Db.Engine.LatestSequence > before);
        h.Get(B("h"), B("a"), out var value);
        Assert.Equal("zz", S(value));
    }
    [Fact]
    public void Fields_are_sub_keys_holding_the_value_and_the_metadata_holds_the_count()
    {
        using var f = new StorageFixture();
        f.Db.Hashes.Set(B("h"), Pairs("x", "vx", "a", "va"), out _);
        Assert.Equal(KeyLookup.Found, f.Db.Lookup(B("h"), RedisType.Hash, out var meta, out _));
        Assert.Equal(2, meta.Size);
        var entries = SubEntries(f.Db, "h", meta.Version);
        Assert.Equal(["a", "x"], entries.Select(e => S(e.Field)));
        Assert.Equal(["va", "vx"], entries.Select(e => S(e.Value)));
    }

    [Fact]
    public void SetIfMissing_only_writes_new_fields()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        h.SetIfMissing(B("h"), B("a"), B("1"), out var set);
        Assert.True(set);
        h.SetIfMissing(B("h"), B("a"), B("2"), out set);
        Assert.False(set);
        h.Get(B("h"), B("a"), out var value);
        Assert.Equal("1", S(value));
        h.Count(B("h"), out var count);
        Assert.Equal(1, count);
    }

    [Fact]
    public void Deleting_the_last_field_deletes_the_key()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        h.Set(B("h"), Pairs("a", "1", "b", "2"), out _);
        Assert.Equal(OpStatus.Ok, h.Delete(B("h"), [B("a"), B("a"), B("zz")], out var removed));
        Assert.Equal(1, removed);
        h.Delete(B("h"), [B("b")], out removed);
        Assert.Equal(1, removed);
        Assert.False(f.Db.Keys.Exists(B("h")));
        Assert.Null(f.Db.Engine.Get(f.Db.Engine.Meta, f.Db.MetaKey(B("h"))));
    }

    [Fact]
    public void Every_operation_refuses_a_string_key()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        f.Db.Strings.Set(B("s"), B("x"));
        Assert.Equal(OpStatus.WrongType, h.Set(B("s"), Pairs("a", "1"), out _));
        Assert.Equal(OpStatus.WrongType, h.SetIfMissing(B("s"), B("a"), B("1"), out _));
        Assert.Equal(OpStatus.WrongType, h.Get(B("s"), B("a"), out _));
        Assert.Equal(OpStatus.WrongType, h.GetMany(B("s"), [B("a")], out _));
        Assert.Equal(OpStatus.WrongType, h.GetAll(B("s"), HashParts.Both, out _));
        Assert.Equal(OpStatus.WrongType, h.Delete(B("s"), [B("a")], out _));
        Assert.Equal(OpStatus.WrongType, h.Count(B("s"), out _));
        Assert.Equal(OpStatus.WrongType, h.ValueLength(B("s"), B("a"), out _));
        Assert.Equal(OpStatus.WrongType, h.IncrBy(B("s"), B("a"), 1, out _));
        Assert.Equal(OpStatus.WrongType, h.IncrByFloat(B("s"), B("a"), LongDouble.FromLong(1), out _));
        Assert.Equal(OpStatus.WrongType, h.RandomFields(B("s"), 1, false, out _));
        Assert.Equal(OpStatus.WrongType, h.Scan(B("s"), 0, [], 10, out _));
        f.Db.Strings.Get(B("s"), out var value);
        Assert.Equal("x", System.Text.Encoding.UTF8.GetString(value));
    }

    [Fact]
    public void IncrBy_checks_the_stored_value_and_overflow()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        Assert.Equal(OpStatus.Ok, h.IncrBy(B("h"), B("n"), 5, out var result));
        Assert.Equal(5, result);
        Assert.Equal(OpStatus.Ok, h.IncrBy(B("h"), B("n"), -7, out result));
        Assert.Equal(-2, result);
        h.Set(B("h"), Pairs("s", "abc", "big", "9223372036854775807", "z", "012"), out _);
        Assert.Equal(OpStatus.NotInteger, h.IncrBy(B("h"), B("s"), 1, out _));
        Assert.Equal(OpStatus.NotInteger, h.IncrBy(B("h"), B("z"), 1, out _));
        Assert.Equal(OpStatus.Overflow, h.IncrBy(B("h"), B("big"), 1, out _));
        h.Count(B("h"), out var count);
        Assert.Equal(4, count);
    }

    [Fact]
    public void IncrByFloat_computes_in_long_double_like_redis()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        Assert.True(LongDouble.TryParse("0.1"u8, out var tenth));
        Assert.True(LongDouble.TryParse("0.2"u8, out var fifth));
        h.IncrByFloat(B("h"), B("x"), tenth, out _);
        Assert.Equal(OpStatus.Ok, h.IncrByFloat(B("h"), B("x"), fifth, out var result));
        Assert.Equal("0.3", result); // what redis-server 7.0 answers; a double sum would print 0.30000000000000004
        h.Set(B("h"), Pairs("s", "abc"), out _);
        Assert.Equal(OpStatus.NotFloat, h.IncrByFloat(B("h"), B("s"), tenth, out _));
        h.Set(B("h"), Pairs("inf", "inf"), out _);
        Assert.Equal(OpStatus.NaNOrInfinity, h.IncrByFloat(B("h"), B("inf"), tenth, out _));
    }

    [Fact]
    public void Concurrent_increments_lose_nothing_and_the_count_stays_exact()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        Parallel.For(0, 8, t =>
        {
            for (var i = 0; i < 300; i++)
            {
                Assert.Equal(OpStatus.Ok, h.IncrBy(B("h"), B("shared"), 1, out _));
                Assert.Equal(OpStatus.Ok, h.Set(B("h"), Pairs($"f{i % 50}", "v", $"t{t}-{i}", "v"), out _));
            }
        });
        h.Get(B("h"), B("shared"), out var value);
        Assert.Equal("2400", S(value));
        f.Db.Lookup(B("h"), RedisType.Hash, out var meta, out _);
        Assert.Equal(1 + 50 + 8 * 300, meta.Size);
        Assert.Equal(meta.Size, SubEntries(f.Db, "h", meta.Version).Count);
    }

    [Fact]
    public void An_expired_hash_is_invisible_and_a_new_one_starts_empty()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        h.Set(B("h"), Pairs("old", "1", "keep", "2"), out _);
        ExpireInPlace(f.Db, "h");
        Assert.Equal(OpStatus.Ok, h.Get(B("h"), B("old"), out var value));
        Assert.Null(value);
        h.Count(B("h"), out var count);
        Assert.Equal(0, count);
        h.Set(B("h"), Pairs("new", "3"), out var added);
        Assert.Equal(1, added);
        h.GetAll(B("h"), HashParts.Both, out var items);
        Assert.Equal(["new", "3"], items.Select(S));
        Assert.Equal(-1, f.Db.Keys.TtlMs(B("h")));
    }

    [Fact]
    public void GetAll_returns_fields_values_or_both_in_field_order()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        h.Set(B("h"), Pairs("b", "2", "a", "1", "c", "3"), out _);
        h.GetAll(B("h"), HashParts.Both, out var both);
        h.GetAll(B("h"), HashParts.Fields, out var fields);
        h.GetAll(B("h"), HashParts.Values, out var values);
        Assert.Equal(["a", "1", "b", "2", "c", "3"], both.Select(S));
        Assert.Equal(["a", "b", "c"], fields.Select(S));
        Assert.Equal(["1", "2", "3"], values.Select(S));
        Assert.Equal(OpStatus.Ok, h.GetAll(B("missing"), HashParts.Both, out var none));
        Assert.Empty(none);
    }

    [Fact]
    public void Delete_of_a_big_hash_writes_only_the_metadata_and_compaction_reclaims_its_fields()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        for (var batch = 0; batch < 20; batch++)
        {
            var pairs = Enumerable.Range(batch * 1000, 1000).Select(i => new KeyValuePair<byte[], byte[]>(B($"field:{i}"), B($"value:{i}"))).ToList();
            h.Set(B("big"), pairs, out _);
        }
        h.Set(B("other"), Pairs("a", "1"), out _);
        Assert.Equal(20_000, AllSubKeysOf(f.Db, "big"));
        var before = f.Db.Engine.LatestSequence;
        Assert.True(f.Db.Keys.Delete(B("big")));
        // One sequence number per batch entry: the DEL wrote exactly one record, the metadata deletion.
        Assert.Equal(before + 1, f.Db.Engine.LatestSequence);
        Assert.Equal(20_000, AllSubKeysOf(f.Db, "big"));
        f.Db.Engine.CompactAll();
        Assert.Equal(0, AllSubKeysOf(f.Db, "big"));
        Assert.Equal(1, AllSubKeysOf(f.Db, "other"));
    }

    [Fact]
    public void Compaction_drops_the_fields_of_an_overwritten_version_and_keeps_the_new_one()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        h.Set(B("h"), Pairs("a", "1", "b", "2"), out _);
        f.Db.Lookup(B("h"), RedisType.Hash, out var oldMeta, out _);
        f.Db.Keys.Delete(B("h"));
        h.Set(B("h"), Pairs("c", "3"), out _);
        f.Db.Lookup(B("h"), RedisType.Hash, out var newMeta, out _);
        Assert.NotEqual(oldMeta.Version, newMeta.Version);
        f.Db.Engine.CompactAll();
        Assert.Empty(SubEntries(f.Db, "h", oldMeta.Version));
        Assert.Single(SubEntries(f.Db, "h", newMeta.Version));
        h.GetAll(B("h"), HashParts.Both, out var items);
        Assert.Equal(["c", "3"], items.Select(S));
    }

    [Fact]
    public void Scan_pages_visit_every_field_once_and_filter_by_pattern()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        var pairs = Enumerable.Range(0, 95).Select(i => new KeyValuePair<byte[], byte[]>(B($"f{i}"), B($"v{i}"))).ToList();
        h.Set(B("h"), pairs, out _);
        var seen = new List<string>();
        long cursor = 0;
        var calls = 0;
        do
        {
            Assert.Equal(OpStatus.Ok, h.Scan(B("h"), cursor, [], 10, out var page));
            Assert.True(page.Items.Count <= 20);
            for (var i = 0; i < page.Items.Count; i += 2)
            {
                Assert.Equal("v" + S(page.Items[i])[1..], S(page.Items[i + 1]));
                seen.Add(S(page.Items[i]));
            }
            cursor = page.Cursor;
        }
        while (cursor != 0 && ++calls < 100);
        Assert.Equal(pairs.Select(p => S(p.Key)).OrderBy(x => x, StringComparer.Ordinal), seen.OrderBy(x => x, StringComparer.Ordinal));
        h.Scan(B("h"), 0, B("f1?"), 1000, out var filtered);
        Assert.Equal(20, filtered.Items.Count); // f10..f19, field and value each
        Assert.Equal(OpStatus.Ok, h.Scan(B("nokey"), 0, [], 10, out var empty));
        Assert.Equal(0, empty.Cursor);
        Assert.Empty(empty.Items);
    }

    [Fact]
    public void Random_fields_follow_the_count_rules()
    {
        using var f = new StorageFixture();
        var h = f.Db.Hashes;
        var pairs = Enumerable.Range(0, 40).Select(i => new KeyValuePair<byte[], byte[]>(B($"f{i}"), B($"v{i}"))).ToList();
        h.Set(B("h"), pairs, out _);
        for (var round = 0; round < 20; round++)
        {
            h.RandomFields(B("h"), 7, true, out var distinct);
            Assert.Equal(7, distinct.Count);
            Assert.Equal(7, distinct.Elements.Select(e => S(e.Key)).Distinct().Count());
            Assert.All(distinct.Elements, e => Assert.Equal("v" + S(e.Key)[1..], S(e.Value)));
            h.RandomFields(B("h"), -25, false, out var repeated);
            Assert.Equal(25, repeated.Count);
            Assert.All(repeated.Elements, e => Assert.StartsWith("f", S(e.Key)));
        }
        h.RandomFields(B("h"), 100, false, out var all);
        Assert.Equal(40, all.Count);
        h.RandomFields(B("h"), -100, false, out var many);
        Assert.Equal(100, many.Count);
        Assert.Equal(40, many.Elements.Count);
        h.RandomFields(B("nokey"), 5, false, out var none);
        Assert.Equal(0, none.Count);
        // Over many draws every field turns up: the picks are not stuck on one region of the key space.
        var hits = new HashSet<string>();
        for (var i = 0; i < 2000 && hits.Count < 40; i++)
        {
            h.RandomFields(B("h"), 1, false, out var one);
            hits.Add(S(one.Elements[0].Key));
        }
        Assert.Equal(40, hits.Count);
    }
}
