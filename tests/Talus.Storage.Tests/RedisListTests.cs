using System.Buffers.Binary;
using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Types;

namespace Talus.Storage.Tests;

public class RedisListTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static List<string> All(Database db, string key)
    {
        db.Lists.Range(B(key), 0, -1, out var values);
        return values.ToList().Select(v => System.Text.Encoding.UTF8.GetString(v)).ToList();
    }

    private static void Push(Database db, string key, ListEnd end, params string[] values) =>
        Assert.Equal(OpStatus.Ok, db.Lists.Push(B(key), end, values.Select(B).ToArray(), out _));

    /// <summary>Every sub-key stored under <paramref name="key"/>, whatever its version.</summary>
    private static int SubKeyCount(Database db, string key)
    {
        var withVersion = KeyCodec.SubKeyPrefix(db.Index, B(key), 0);
        var prefix = withVersion[..^8];
        using var it = db.Engine.NewIterator(db.Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));
        var n = 0;
        for (it.Seek(prefix); it.Valid(); it.Next())
        {
            n++;
        }
        return n;
    }

    [Fact]
    public void Store_replaces_a_key_of_any_type_by_a_list_and_an_empty_store_deletes_it()
    {
        using var f = new StorageFixture();
        Assert.Equal(OpStatus.Ok, f.Db.Hashes.Set(B("d"), [new(B("f"), B("v"))], out _));
        Assert.True(f.Db.Keys.SetExpiry(B("d"), Database.NowMs + 100_000, ExpireCondition.Always));
        Assert.True(f.Db.Lists.Store(B("d"), [B("x"), B(""), B("y")]));
        Assert.Equal(RedisType.List, f.Db.Keys.TypeOf(B("d")));
        Assert.Equal(["x", "", "y"], All(f.Db, "d"));
        Assert.Equal(-1, f.Db.Keys.TtlMs(B("d")));
        Assert.Equal(OpStatus.WrongType, f.Db.Hashes.Get(B("d"), B("f"), out _));
        // The list behaves as one pushed element by element: both ends move on from it.
        Push(f.Db, "d", ListEnd.Left, "first");
        Push(f.Db, "d", ListEnd.Right, "last");
        Assert.Equal(["first", "x", "", "y", "last"], All(f.Db, "d"));

        Assert.True(f.Db.Lists.Store(B("d"), []));
        Assert.False(f.Db.Keys.Exists(B("d")));
        Assert.False(f.Db.Lists.Store(B("never"), []));
    }

    [Fact]
    public void Lpush_prepends_one_by_one_and_rpush_appends()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Left, "a", "b", "c");
        Push(f.Db, "k", ListEnd.Right, "x", "y");
        Assert.Equal(["c", "b", "a", "x", "y"], All(f.Db, "k"));
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Length(B("k"), out var length));
        Assert.Equal(5, length);
    }

    [Fact]
    public void Element_sub_keys_carry_the_big_endian_index_and_lpush_starts_below_the_middle()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Left, "a");
        Push(f.Db, "k", ListEnd.Right, "b");
        f.Db.Lookup(B("k"), RedisType.List, out var meta, out _);
        Assert.Equal(Metadata.ListInitialIndex - 1, meta.Head);
        Assert.Equal(Metadata.ListInitialIndex + 1, meta.Tail);
        var prefix = KeyCodec.SubKeyPrefix(0, B("k"), meta.Version);
        using var it = f.Db.Engine.NewIterator(f.Db.Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix));
        var indices = new List<ulong>();
        for (it.Seek(prefix); it.Valid(); it.Next())
        {
            var field = it.Key()[prefix.Length..];
            Assert.Equal(8, field.Length);
            indices.Add(BinaryPrimitives.ReadUInt64BigEndian(field));
        }
        Assert.Equal([(1UL << 63) - 1, 1UL << 63], indices);
    }

    [Fact]
    public void Pop_takes_from_either_end_and_an_emptied_list_loses_its_key()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, "a", "b", "c", "d");
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Left, 1, out var left));
        Assert.Equal("a", System.Text.Encoding.UTF8.GetString(left.Single()));
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Right, 2, out var right));
        Assert.Equal(["d", "c"], right.Select(v => System.Text.Encoding.UTF8.GetString(v)));
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Right, 10, out var rest));
        Assert.Equal("b", System.Text.Encoding.UTF8.GetString(rest.Single()));
        Assert.False(f.Db.Keys.Exists(B("k")));
        Assert.Equal(OpStatus.NotFound, f.Db.Lists.Pop(B("k"), ListEnd.Left, 1, out _));
    }

    [Fact]
    public void Wrong_type_is_reported_and_nothing_is_written()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set(B("s"), B("v"));
        Assert.Equal(OpStatus.WrongType, f.Db.Lists.Push(B("s"), ListEnd.Left, [B("a")], out _));
        Assert.Equal(OpStatus.WrongType, f.Db.Lists.Pop(B("s"), ListEnd.Left, 1, out _));
        Assert.Equal(KeyLookup.WrongType, f.Db.Lists.Range(B("s"), 0, -1, out _));
        Assert.Equal(OpStatus.WrongType, f.Db.Lists.Move(B("s"), B("d"), ListEnd.Left, ListEnd.Left, out _));
        Push(f.Db, "l", ListEnd.Left, "a");
        Assert.Equal(OpStatus.WrongType, f.Db.Lists.Move(B("l"), B("s"), ListEnd.Left, ListEnd.Left, out _));
        Assert.Equal(["a"], All(f.Db, "l"));
        Assert.Equal(RedisType.String, f.Db.Keys.TypeOf(B("s")));
    }

    [Fact]
    public void An_expired_list_is_replaced_by_a_fresh_one()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, "old1", "old2");
        f.Db.Keys.SetExpiry(B("k"), Database.NowMs + 50, ExpireCondition.Always);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (f.Db.Keys.Exists(B("k")) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10); // waiting for the wall clock to pass the expiry, which is the state under test
        }
        Assert.False(f.Db.Keys.Exists(B("k")));
        Push(f.Db, "k", ListEnd.Right, "new");
        Assert.Equal(["new"], All(f.Db, "k"));
        Assert.Equal(-1, f.Db.Keys.TtlMs(B("k")));
    }

    [Fact]
    public void Move_between_keys_and_within_one_key()
    {
        using var f = new StorageFixture();
        Push(f.Db, "src", ListEnd.Right, "a", "b", "c");
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Move(B("src"), B("dst"), ListEnd.Right, ListEnd.Left, out var moved));
        Assert.Equal("c", System.Text.Encoding.UTF8.GetString(moved!));
        Assert.Equal(["a", "b"], All(f.Db, "src"));
        Assert.Equal(["c"], All(f.Db, "dst"));
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Move(B("src"), B("src"), ListEnd.Left, ListEnd.Right, out _));
        Assert.Equal(["b", "a"], All(f.Db, "src"));
        Push(f.Db, "one", ListEnd.Right, "x");
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Move(B("one"), B("one"), ListEnd.Left, ListEnd.Left, out _));
        Assert.Equal(["x"], All(f.Db, "one"));
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Move(B("one"), B("dst"), ListEnd.Left, ListEnd.Right, out _));
        Assert.False(f.Db.Keys.Exists(B("one")));
        Assert.Equal(["c", "x"], All(f.Db, "dst"));
        Assert.Equal(OpStatus.NotFound, f.Db.Lists.Move(B("none"), B("dst"), ListEnd.Left, ListEnd.Right, out _));
    }

    [Fact]
    public void Lpos_follows_rank_count_and_maxlen()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, "a", "b", "c", "1", "2", "3", "c", "c");
        List<long> Pos(long rank, long? count, long maxLength)
        {
            f.Db.Lists.Positions(B("k"), B("c"), rank, count, maxLength, out var positions);
            return positions;
        }
        Assert.Equal([2], Pos(1, null, 0));
        Assert.Equal([6], Pos(2, null, 0));
        Assert.Equal([7], Pos(-1, null, 0));
        Assert.Equal([2, 6, 7], Pos(1, 0, 0));
        Assert.Equal([6, 7], Pos(2, 0, 0));
        Assert.Equal([7, 6], Pos(-1, 2, 0));
        Assert.Equal([], Pos(1, 0, 2));
        Assert.Equal([2], Pos(1, 0, 3));
        Assert.Equal([], Pos(4, 0, 0));
    }

    /// <summary>
    /// A seeded random walk over every edit, checked after each step against a plain List model. Lists grow past
    /// the range-delete and own-batch thresholds so both code paths run.
    /// </summary>
    [Fact]
    public void Random_edits_match_a_list_model()
    {
        const int seed = 4242;
        using var f = new StorageFixture();
        var walk = new ModelWalk(f.Db, new Random(seed));
        for (var step = 0; step < 3000; step++)
        {
            var op = walk.Step();
            Assert.True(walk.Model.SequenceEqual(All(f.Db, "k")), $"seed {seed}, step {step}, {op}: list differs from the model");
            Assert.Equal(walk.Model.Count > 0, f.Db.Keys.Exists(B("k")));
        }
    }

    /// <summary>One random list operation at a time on key "k", applied to the store and to <see cref="Model"/>.</summary>
    private sealed class ModelWalk(Database db, Random random)
    {
        private static readonly string[] Values = ["a", "b", "c", "d"];

        public List<string> Model { get; private set; } = [];

        private string Value() => Values[random.Next(Values.Length)];

        public string Step()
        {
            var op = random.Next(9);
            switch (op)
            {
                case 0 or 1:
                    Push(op == 0);
                    return "push";
                case 2:
                    Pop();
                    return "pop";
                case 3:
                    Remove();
                    return "lrem";
                case 4:
                    Insert();
                    return "linsert";
                case 5:
                    Trim();
                    return "ltrim";
                case 6:
                    Set();
                    return "lset";
                case 7:
                    Index();
                    return "lindex";
                default:
                    Range();
                    return "lrange";
            }
        }

        private void Push(bool left)
        {
            var n = random.Next(10) == 0 ? random.Next(100, 400) : random.Next(1, 4);
            var items = Enumerable.Range(0, n).Select(_ => Value()).ToArray();
            RedisListTests.Push(db, "k", left ? ListEnd.Left : ListEnd.Right, items);
            foreach (var item in items)
            {
                if (left)
                {
                    Model.Insert(0, item);
                }
                else
                {
                    Model.Add(item);
                }
            }
        }

        private void Pop()
        {
            var count = random.Next(0, 80);
            var left = random.Next(2) == 0;
            db.Lists.Pop(B("k"), left ? ListEnd.Left : ListEnd.Right, count, out var popped);
            var expected = left ? Model.Take(count).ToList() : Enumerable.Reverse(Model).Take(count).ToList();
            Assert.Equal(expected, popped.Select(p => System.Text.Encoding.UTF8.GetString(p)));
            Model.RemoveRange(left ? 0 : Model.Count - expected.Count, expected.Count);
        }

        private void Remove()
        {
            var count = random.Next(-3, 4);
            var value = Value();
            db.Lists.Remove(B("k"), count, B(value), out var removed);
            var limit = count == 0 ? int.MaxValue : Math.Abs(count);
            // Indices of the matches in scan order; removing from the highest index down keeps the others valid.
            var order = count >= 0 ? Enumerable.Range(0, Model.Count) : Enumerable.Range(0, Model.Count).Reverse();
            var matches = order.Where(i => Model[i] == value).Take(limit).OrderDescending().ToList();
            foreach (var i in matches)
            {
                Model.RemoveAt(i);
            }
            Assert.Equal(matches.Count, removed);
        }

        private void Insert()
        {
            var pivot = Value();
            var value = Value();
            var after = random.Next(2) == 0;
            db.Lists.Insert(B("k"), after, B(pivot), B(value), out var length);
            var at = Model.IndexOf(pivot);
            if (Model.Count == 0 || at < 0)
            {
                Assert.Equal(Model.Count == 0 ? 0 : -1, length);
                return;
            }
            Model.Insert(after ? at + 1 : at, value);
            Assert.Equal(Model.Count, length);
        }

        private void Trim()
        {
            long start = random.Next(-100, 100), stop = random.Next(-100, 100);
            db.Lists.Trim(B("k"), start, stop);
            Model = RedisList.ClampRange(Model.Count, ref start, ref stop) ? Model.GetRange((int)start, (int)(stop - start + 1)) : [];
        }

        private void Set()
        {
            var index = random.Next(-Model.Count - 2, Model.Count + 2);
            var value = Value();
            var status = db.Lists.Set(B("k"), index, B(value));
            var resolved = index < 0 ? index + Model.Count : index;
            if (Model.Count == 0)
            {
                Assert.Equal(OpStatus.NotFound, status);
            }
            else if (resolved < 0 || resolved >= Model.Count)
            {
                Assert.Equal(OpStatus.NotPerformed, status);
            }
            else
            {
                Assert.Equal(OpStatus.Ok, status);
                Model[resolved] = value;
            }
        }

        private void Index()
        {
            var index = random.Next(-Model.Count - 2, Model.Count + 2);
            db.Lists.Index(B("k"), index, out var value);
            var resolved = index < 0 ? index + Model.Count : index;
            var expected = resolved >= 0 && resolved < Model.Count ? Model[resolved] : null;
            Assert.Equal(expected, value is null ? null : System.Text.Encoding.UTF8.GetString(value));
        }

        private void Range()
        {
            long start = random.Next(-20, 20), stop = random.Next(-20, 20);
            db.Lists.Range(B("k"), start, stop, out var range);
            var expected = RedisList.ClampRange(Model.Count, ref start, ref stop) ? Model.GetRange((int)start, (int)(stop - start + 1)) : [];
            Assert.Equal(expected, range.ToList().Select(r => System.Text.Encoding.UTF8.GetString(r)));
        }
    }

    [Fact]
    public void Trim_and_pop_leave_no_element_behind_after_compaction()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, Enumerable.Range(0, 1000).Select(i => "e" + i).ToArray());
        f.Db.Lists.Trim(B("k"), 100, 899); // 100 cut at each end
        f.Db.Lists.Trim(B("k"), 1, -2);    // one more at each end
        f.Db.Lists.Pop(B("k"), ListEnd.Left, 3, out _);
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Remove(B("k"), 0, B("e890"), out var removed)); // frees one index at the tail end
        Assert.Equal(1, removed);
        f.Db.Engine.CompactAll();
        Assert.Equal(794, SubKeyCount(f.Db, "k"));
        Assert.Equal("e104", All(f.Db, "k")[0]);
        Assert.Equal("e898", All(f.Db, "k")[^1]);
    }

    [Fact]
    public void Pops_leave_the_popped_elements_for_compaction_and_no_read_copy_or_digest_sees_them()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, Enumerable.Range(0, 200).Select(i => "e" + i).ToArray());
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Left, 50, out _));
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Right, 1, out _));
        }
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(OpStatus.Ok, f.Db.Lists.Move(B("k"), B("other"), ListEnd.Left, ListEnd.Right, out _));
        }
        // Pushes take the indices of popped elements again, at both ends.
        Push(f.Db, "k", ListEnd.Left, "n0", "n1", "n2", "n3", "n4");
        Push(f.Db, "k", ListEnd.Right, "r0", "r1", "r2");
        List<string> expected = ["n4", "n3", "n2", "n1", "n0", .. Enumerable.Range(60, 110).Select(i => "e" + i), "r0", "r1", "r2"];
        Assert.Equal(expected, All(f.Db, "k"));
        // No deletion was written: all 200 indices still hold a value, 118 of them inside [head, tail).
        Assert.Equal(200, SubKeyCount(f.Db, "k"));
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Index(B("k"), -1, out var last));
        Assert.Equal("r2", System.Text.Encoding.UTF8.GetString(last!));
        Assert.True(f.Db.Keys.Copy(B("k"), f.Db, B("copy"), replace: false));
        Assert.Equal(118, SubKeyCount(f.Db, "copy"));
        Assert.Equal(expected, All(f.Db, "copy"));
        var digest = f.Db.Keys.Digest();

        f.Db.Engine.CompactAll();

        Assert.Equal(118, SubKeyCount(f.Db, "k"));
        Assert.Equal(expected, All(f.Db, "k"));
        Assert.Equal(digest, f.Db.Keys.Digest());
        Assert.Equal(Enumerable.Range(50, 10).Select(i => "e" + i), All(f.Db, "other"));
    }

    [Fact]
    public void Elements_pushed_after_a_compaction_into_indices_it_found_popped_survive_the_next_one()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, Enumerable.Range(0, 100).Select(i => "e" + i).ToArray());
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Left, 40, out _));
        f.Db.Engine.CompactAll();
        Assert.Equal(60, SubKeyCount(f.Db, "k"));

        // The next compaction reads the list's metadata again: the head it found above would take these for popped.
        Push(f.Db, "k", ListEnd.Left, Enumerable.Range(0, 30).Select(i => "n" + i).ToArray());
        Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("k"), ListEnd.Right, 10, out _));
        f.Db.Engine.CompactAll();

        List<string> expected = [.. Enumerable.Range(0, 30).Reverse().Select(i => "n" + i), .. Enumerable.Range(40, 50).Select(i => "e" + i)];
        Assert.Equal(expected, All(f.Db, "k"));
        Assert.Equal(80, SubKeyCount(f.Db, "k"));
    }

    [Fact]
    public void A_list_missing_an_element_inside_head_and_tail_fails_its_reads_loudly()
    {
        using var f = new StorageFixture();
        Push(f.Db, "k", ListEnd.Right, "a", "b", "c");
        f.Db.Lookup(B("k"), RedisType.List, out var meta, out _);
        Span<byte> index = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(index, meta.Head + 1);
        using (var batch = new RocksDbSharp.WriteBatch())
        {
            batch.Delete(KeyCodec.SubKey(f.Db.Index, B("k"), meta.Version, index), f.Db.Engine.Sub);
            f.Db.Engine.Write(batch);
        }
        Assert.Throws<InvalidDataException>(() => f.Db.Lists.Index(B("k"), 1, out _));
        Assert.Throws<InvalidDataException>(() => f.Db.Lists.Range(B("k"), 0, -1, out _));
        // LPOS counts positions as it goes: without the check it would answer 1 for "c", which is at 2.
        Assert.Throws<InvalidDataException>(() => f.Db.Lists.Positions(B("k"), B("c"), 1, null, 0, out _));
        Assert.Throws<InvalidDataException>(() => f.Db.Lists.Positions(B("k"), B("a"), -1, null, 0, out _));
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Positions(B("k"), B("a"), 1, null, 1, out var first));
        Assert.Equal([0L], first);
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Index(B("k"), 2, out var third));
        Assert.Equal("c", System.Text.Encoding.UTF8.GetString(third!));
    }

    [Fact]
    public void A_million_element_list_reads_ranges_and_leaves_nothing_after_delete_and_compaction()
    {
        using var f = new StorageFixture();
        const int total = 1_000_000, perCommand = 10_000;
        var key = B("big");
        for (var offset = 0; offset < total; offset += perCommand)
        {
            var first = offset;
            Assert.Equal(OpStatus.Ok, f.Db.Lists.Push(key, ListEnd.Right, perCommand, first, static (start, i) => System.Text.Encoding.ASCII.GetBytes("element-" + (start + i)), false, out var length));
            Assert.Equal(offset + perCommand, length);
        }
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Range(key, 0, 99, out var head));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "element-" + i), head.ToList().Select(v => System.Text.Encoding.ASCII.GetString(v)));
        f.Db.Lists.Index(key, total / 2, out var middle);
        Assert.Equal("element-500000", System.Text.Encoding.ASCII.GetString(middle!));
        f.Db.Lists.Range(key, -2, -1, out var tail);
        Assert.Equal(["element-999998", "element-999999"], tail.ToList().Select(v => System.Text.Encoding.ASCII.GetString(v)));

        Assert.True(f.Db.Keys.Delete(key));
        Assert.False(f.Db.Keys.Exists(key));
        f.Db.Engine.CompactAll();
        Assert.Equal(0, SubKeyCount(f.Db, "big"));
    }

    [Fact]
    public void A_range_read_into_the_thread_buffer_holds_each_element_whole_after_a_reply_over_its_kept_size()
    {
        using var f = new StorageFixture();
        var key = B("wide");
        var elements = Enumerable.Range(0, 3000).Select(i => new string((char)('a' + i % 26), 1000 + i % 7) + i).ToArray();
        Push(f.Db, "wide", ListEnd.Right, elements);

        // 3 MB: more than the buffer keeps between replies, so it grows here and is shrunk by the next reply.
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Range(key, 0, -1, out var all));
        Assert.Equal(elements.Length, all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            Assert.Equal(elements[i], System.Text.Encoding.UTF8.GetString(all[i]));
        }
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Range(key, -2, -1, out var tail));
        Assert.Equal([elements[^2], elements[^1]], Enumerable.Range(0, tail.Count).Select(i => System.Text.Encoding.UTF8.GetString(tail[i])));
        Assert.Equal(KeyLookup.Missing, f.Db.Lists.Range(B("none"), 0, -1, out var none));
        Assert.Equal(0, none.Count);
    }

    [Fact]
    public void Pops_in_a_pipeline_group_read_ahead_and_see_the_groups_own_writes_as_a_model_list_does()
    {
        // Groups of random list commands on one key, each group in a pipeline transaction as a pipeline's
        // group runs them: pops from both ends (read ahead after the first), LSET of elements the buffer may
        // already hold, pushes, LINSERT and LREM (which rewrite a side), LTRIM (which moves head or tail only),
        // checked reply by reply against a List<string>, and the list read back after each commit.
        const int seed = 20261205;
        var random = new Random(seed);
        using var f = new StorageFixture();
        var db = f.Db;
        var key = B("l");
        var model = new List<string>();
        var next = 0;
        string Fresh() => "v" + next++;
        var initial = Enumerable.Range(0, 400).Select(_ => Fresh()).ToArray();
        Push(db, "l", ListEnd.Right, initial);
        model.AddRange(initial);
        var served = 0;
        var pops = 0;
        for (var group = 0; group < 60; group++)
        {
            var tx = new PipelineTransaction();
            tx.Open(f.Dataset);
            tx.Hold(db.Index, key);
            // Half the groups read ahead from their first read on, as when more commands follow in the read.
            tx.ReadAheadAtOnce = group % 2 == 0;
            // One group in four also rewrites (LINSERT, LREM, LTRIM): after an iterator over its own writes (LINSERT,
            // LREM) a group reads through an index of its writes, without reading ahead.
            var rewrites = group % 4 == 3;
            for (var step = 0; step < 40; step++)
            {
                var at = $"seed {seed}, group {group}, step {step}";
                var op = random.Next(rewrites ? 20 : 14);
                op = op == 13 && !rewrites ? 18 : op;
                if (op < 8 || model.Count == 0)
                {
                    var left = op % 2 == 0;
                    var status = db.Lists.Pop(key, left ? ListEnd.Left : ListEnd.Right, 1, out var popped);
                    if (model.Count == 0)
                    {
                        Assert.True(status == OpStatus.NotFound, at);
                        continue;
                    }
                    var expected = left ? model[0] : model[^1];
                    model.RemoveAt(left ? 0 : model.Count - 1);
                    Assert.True(status == OpStatus.Ok, at);
                    Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(Assert.Single(popped)));
                    pops++;
                }
                else if (op < 11)
                {
                    // Often near an end, where the read-ahead buffer is.
                    var index = random.Next(2) == 0 ? random.Next(Math.Min(20, model.Count)) : model.Count - 1 - random.Next(Math.Min(20, model.Count));
                    var value = Fresh();
                    Assert.True(db.Lists.Set(key, index, B(value)) == OpStatus.Ok, at);
                    model[index] = value;
                }
                else if (op < 14)
                {
                    var left = op % 2 == 0;
                    var values = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Fresh()).ToArray();
                    Assert.Equal(OpStatus.Ok, db.Lists.Push(key, left ? ListEnd.Left : ListEnd.Right, values.Select(B).ToArray(), out var length));
                    foreach (var v in values)
                    {
                        if (left)
                        {
                            model.Insert(0, v);
                        }
                        else
                        {
                            model.Add(v);
                        }
                    }
                    Assert.Equal(model.Count, length);
                }
                else if (op < 16)
                {
                    var pivot = model[random.Next(model.Count)];
                    var value = Fresh();
                    Assert.True(db.Lists.Insert(key, after: false, B(pivot), B(value), out var length) == OpStatus.Ok, at);
                    model.Insert(model.IndexOf(pivot), value);
                    Assert.Equal(model.Count, length);
                }
                else if (op < 18)
                {
                    var victim = model[random.Next(model.Count)];
                    Assert.True(db.Lists.Remove(key, 1, B(victim), out var removed) == OpStatus.Ok, at);
                    Assert.Equal(1, removed);
                    model.Remove(victim);
                }
                else if (op == 18)
                {
                    var index = random.Next(model.Count);
                    Assert.Equal(KeyLookup.Found, db.Lists.Index(key, index, out var value));
                    Assert.Equal(model[index], System.Text.Encoding.UTF8.GetString(value!));
                }
                else if (model.Count > 100 && random.Next(4) == 0)
                {
                    // Keeps [start, size - 1]: more than 64 elements go, by moving head alone.
                    var start = random.Next(65, model.Count - 20);
                    Assert.True(db.Lists.Trim(key, start, -1) == OpStatus.Ok, at);
                    model.RemoveRange(0, start);
                }
            }
            served += tx.ReadAheadServed;
            tx.Commit();
            Assert.Equal(model, All(db, "l"));
            if (model.Count < 40)
            {
                var refill = Enumerable.Range(0, 300).Select(_ => Fresh()).ToArray();
                Push(db, "l", ListEnd.Right, refill);
                model.AddRange(refill);
            }
        }
        Assert.True(pops > 500, $"only {pops} pops");
        // Many pops take what the group itself pushed or set; of the others, each direction of a group reads
        // the database twice (a lookup, then one refill) and takes the rest from what was read ahead.
        Assert.True(served > 200, $"only {served} of {pops} pops answered from what was read ahead");
    }

    [Fact]
    public void Groups_of_pops_hand_their_read_ahead_on_and_no_write_between_groups_is_missed()
    {
        // Groups of pops only (they write no element, so each hands what it read ahead on to the next), and
        // between groups writes from outside any group: LSET and pushes near the ends (inside what was handed
        // on), LINSERT, DEL and a new list under the same key, RENAME away and back, EXPIRE, SET over the key.
        // Every pop is checked against a model, and the hand-on must have served most pops.
        const int seed = 20261206;
        var random = new Random(seed);
        using var f = new StorageFixture();
        var db = f.Db;
        var key = B("q");
        var model = new List<string>();
        var next = 0;
        string Fresh() => "w" + next++;
        void Refill(int n)
        {
            var values = Enumerable.Range(0, n).Select(_ => Fresh()).ToArray();
            Push(db, "q", ListEnd.Right, values);
            model.AddRange(values);
        }
        Refill(600);
        var served = 0;
        var pops = 0;
        for (var group = 0; group < 200; group++)
        {
            var at = $"seed {seed}, group {group}";
            var tx = new PipelineTransaction();
            tx.Open(f.Dataset);
            tx.Hold(db.Index, key);
            tx.ReadAheadAtOnce = true;
            var left = group % 7 != 3;
            for (var i = 0; i < 16 && model.Count > 0; i++)
            {
                Assert.True(db.Lists.Pop(key, left ? ListEnd.Left : ListEnd.Right, 1, out var popped) == OpStatus.Ok, at);
                Assert.Equal(left ? model[0] : model[^1], System.Text.Encoding.UTF8.GetString(Assert.Single(popped)));
                model.RemoveAt(left ? 0 : model.Count - 1);
                pops++;
            }
            served += tx.ReadAheadServed;
            tx.Commit();
            switch (random.Next(20))
            {
                case 0 when model.Count > 3:
                    var index = random.Next(3);
                    var value = Fresh();
                    Assert.True(db.Lists.Set(key, index, B(value)) == OpStatus.Ok, at);
                    model[index] = value;
                    break;
                case 1:
                    var pushed = Fresh();
                    Push(db, "q", ListEnd.Left, pushed);
                    model.Insert(0, pushed);
                    break;
                case 2 when model.Count > 3:
                    var inserted = Fresh();
                    Assert.True(db.Lists.Insert(key, after: true, B(model[1]), B(inserted), out _) == OpStatus.Ok, at);
                    model.Insert(2, inserted);
                    break;
                case 3:
                    Assert.True(db.Keys.Delete(key), at);
                    model.Clear();
                    break;
                case 4:
                    Assert.True(db.Keys.Rename(key, B("elsewhere"), onlyIfMissing: false) == OpStatus.Ok, at);
                    Assert.True(db.Keys.Rename(B("elsewhere"), key, onlyIfMissing: false) == OpStatus.Ok, at);
                    break;
                case 5:
                    db.Strings.Set(key, B("text"));
                    model.Clear();
                    Assert.True(db.Keys.Delete(key), at);
                    break;
                case 6 when model.Count > 0:
                    Assert.True(db.Keys.SetExpiry(key, Database.NowMs + 3_600_000, ExpireCondition.Always), at);
                    break;
            }
            if (model.Count < 40)
            {
                Refill(300);
            }
            Assert.Equal(model, All(db, "q"));
        }
        Assert.True(pops > 2500, $"only {pops} pops");
        Assert.True(served > pops / 2, $"only {served} of {pops} pops answered from what was read ahead or handed on");
        // Most groups start on what the one before handed on: a refill reads four groups' worth.
        Assert.True(f.Db.Engine.ReadAheadCarry!.Taken > 50, $"only {f.Db.Engine.ReadAheadCarry.Taken} of 200 groups took a hand-over");
    }

    [Fact]
    public void A_hand_over_whose_list_is_being_refilled_by_its_taker_is_still_matched_by_its_first_key()
    {
        // The group that takes a hand-over refills its list in place once it has popped what it held; a group
        // popping from another list may have read the slot's entry just before it was taken, and look at it only
        // then. Emptying the list (as a refill starts) while the entry is still in its slot puts every look at the
        // slot in that state: it must neither fail nor take the entry for another list's, and the list's own key
        // finds nothing in it.
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        var carry = engine.ReadAheadCarry!;
        var version = engine.NextVersion();
        byte[] Element(string list, ulong index) => ElementKey(f.Db.Index, list, version, index);
        var entries = new List<(byte[] Key, byte[] Value)> { (Element("a", 7), B("x")), (Element("a", 8), B("y")) };
        carry.Offer(engine.Sub, forward: true, entries);
        entries.Clear();
        // Lists enough that some share the entry's slot (one in 64 does).
        for (var i = 0; i < 2000; i++)
        {
            Assert.Null(carry.Take(engine.Sub, Element($"other{i}", 7), forward: true));
        }
        Assert.Null(carry.Take(engine.Sub, Element("a", 7), forward: true));
        Assert.Equal(0, carry.Taken);
    }

    [Fact]
    public void An_element_is_found_in_a_read_ahead_buffer_whatever_its_place_direction_or_the_hint_given()
    {
        // A buffer holds consecutive indices; the lookup tries the hint, then the place the key's index gives, then
        // every entry. Each way must give the entry that holds the key, and no entry for a key the buffer lacks.
        byte[] Element(string list, ulong index) => ElementKey(0, list, 42, index);
        List<(byte[] Key, byte[] Value)> Read(IEnumerable<ulong> indices) => [.. indices.Select(i => (Element("l", i), B($"v{i}")))];

        var forward = Read(Enumerable.Range(0, ReadAhead.Depth).Select(i => 1000UL + (ulong)i));
        var backward = Read(Enumerable.Range(0, ReadAhead.Depth).Select(i => 5000UL - (ulong)i));
        foreach (var hint in new[] { -1, 0, 17, ReadAhead.Depth })
        {
            Assert.Equal(200, ReadAhead.IndexOf(forward, Element("l", 1200), hint));
            Assert.Equal(200, ReadAhead.IndexOf(backward, Element("l", 4800), hint));
            Assert.Equal(-1, ReadAhead.IndexOf(forward, Element("l", 1000 + (ulong)ReadAhead.Depth), hint));
            Assert.Equal(-1, ReadAhead.IndexOf(forward, Element("other", 1200), hint));
            Assert.Equal(-1, ReadAhead.IndexOf(backward, Element("l", 5001), hint));
        }
        // Indices that are not consecutive (a gap after the 10th) are still found, by the walk.
        var gapped = Read(Enumerable.Range(0, 20).Select(i => 100UL + (ulong)i + (i >= 10 ? 5UL : 0UL)));
        Assert.Equal(15, ReadAhead.IndexOf(gapped, Element("l", 120), hint: -1));
        Assert.Equal(-1, ReadAhead.IndexOf(gapped, Element("l", 112), hint: -1));
        Assert.Equal(-1, ReadAhead.IndexOf([], Element("l", 1), hint: 0));
    }

    /// <summary>The sub-key of a list's element at <paramref name="index"/>.</summary>
    private static byte[] ElementKey(int db, string list, ulong version, ulong index)
    {
        var key = KeyCodec.SubKey(db, B(list), version, new byte[8]);
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(key.Length - 8), index);
        return key;
    }

    [Fact]
    public void A_read_ahead_takes_no_value_past_the_popped_one_that_would_take_it_over_its_byte_bound()
    {
        using var f = new StorageFixture();
        var big = new string('x', ReadAhead.MaxBytes + 1);
        Push(f.Db, "l", ListEnd.Right, "a", big, "b", "c");
        var tx = new PipelineTransaction();
        tx.Open(f.Dataset);
        tx.Hold(f.Db.Index, B("l"));
        tx.ReadAheadAtOnce = true;
        var popped = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(OpStatus.Ok, f.Db.Lists.Pop(B("l"), ListEnd.Left, 1, out var values));
            popped.Add(System.Text.Encoding.UTF8.GetString(Assert.Single(values)));
        }
        // "a" is read without the large value after it; the large one alone; then "b" with "c", which is served.
        Assert.Equal(1, tx.ReadAheadServed);
        tx.Commit();
        Assert.Equal(["a", big, "b", "c"], popped);
        Assert.Empty(All(f.Db, "l"));
    }
}
