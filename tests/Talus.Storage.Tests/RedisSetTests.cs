using Talus.Storage.Encoding;
using Talus.Storage.Types;

namespace Talus.Storage.Tests;

public class RedisSetTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static string S(byte[] b) => System.Text.Encoding.UTF8.GetString(b);

    private static List<byte[]> M(params string[] members) => members.Select(B).ToList();

    private static List<string> Sorted(IEnumerable<byte[]> members) => members.Select(S).OrderBy(x => x, StringComparer.Ordinal).ToList();

    [Fact]
    public void Add_and_remove_count_each_member_once()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        Assert.Equal(OpStatus.Ok, s.Add(B("s"), M("a", "b", "a", ""), out var added));
        Assert.Equal(3, added);
        s.Add(B("s"), M("b", "c"), out added);
        Assert.Equal(1, added);
        s.Count(B("s"), out var count);
        Assert.Equal(4, count);
        s.Remove(B("s"), M("a", "a", "zz"), out var removed);
        Assert.Equal(1, removed);
        s.Members(B("s"), out var members);
        Assert.Equal(["", "b", "c"], members.Select(S));
        s.IsMember(B("s"), B(""), out var isMember);
        Assert.True(isMember);
        s.AreMembers(B("s"), M("b", "a", "c"), out var areMembers);
        Assert.Equal([true, false, true], areMembers);
    }

    [Fact]
    public void Members_are_sub_keys_with_empty_values()
    {
        using var f = new StorageFixture();
        f.Db.Sets.Add(B("s"), M("y", "x"), out _);
        Assert.Equal(KeyLookup.Found, f.Db.Lookup(B("s"), RedisType.Set, out var meta, out _));
        Assert.Equal(2, meta.Size);
        var entries = RedisHashTests.SubEntries(f.Db, "s", meta.Version);
        Assert.Equal(["x", "y"], entries.Select(e => S(e.Field)));
        Assert.All(entries, e => Assert.Empty(e.Value));
    }

    [Fact]
    public void Removing_the_last_member_deletes_the_key()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        s.Add(B("s"), M("a"), out _);
        s.Remove(B("s"), M("a"), out _);
        Assert.False(f.Db.Keys.Exists(B("s")));
        Assert.Equal(OpStatus.Ok, s.Members(B("s"), out var members));
        Assert.Empty(members);
    }

    [Fact]
    public void Every_operation_refuses_a_string_key()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        f.Db.Strings.Set(B("str"), B("x"));
        s.Add(B("set"), M("a"), out _);
        Assert.Equal(OpStatus.WrongType, s.Add(B("str"), M("a"), out _));
        Assert.Equal(OpStatus.WrongType, s.Remove(B("str"), M("a"), out _));
        Assert.Equal(OpStatus.WrongType, s.Count(B("str"), out _));
        Assert.Equal(OpStatus.WrongType, s.IsMember(B("str"), B("a"), out _));
        Assert.Equal(OpStatus.WrongType, s.AreMembers(B("str"), M("a"), out _));
        Assert.Equal(OpStatus.WrongType, s.Members(B("str"), out _));
        Assert.Equal(OpStatus.WrongType, s.Pop(B("str"), 1, out _));
        Assert.Equal(OpStatus.WrongType, s.RandomMembers(B("str"), 1, out _));
        Assert.Equal(OpStatus.WrongType, s.Scan(B("str"), 0, [], 10, out _));
        Assert.Equal(OpStatus.WrongType, s.Combine(SetOperation.Inter, [B("missing"), B("str")], out _));
        Assert.Equal(OpStatus.WrongType, s.Combine(SetOperation.Diff, [B("missing"), B("str")], out _));
        Assert.Equal(OpStatus.WrongType, s.CombineAndStore(SetOperation.Union, B("d"), [B("set"), B("str")], out _));
        Assert.Equal(OpStatus.WrongType, s.InterCard([B("set"), B("str")], 0, out _));
        Assert.Equal(OpStatus.WrongType, s.Move(B("set"), B("str"), B("a"), out _));
        Assert.Equal(OpStatus.WrongType, s.Move(B("str"), B("set"), B("a"), out _));
        // A missing source answers "not moved" before the destination's type is looked at, as in Redis.
        Assert.Equal(OpStatus.Ok, s.Move(B("missing"), B("str"), B("a"), out var moved));
        Assert.False(moved);
        Assert.False(f.Db.Keys.Exists(B("d")));
    }

    [Fact]
    public void Pop_removes_distinct_members_and_popping_all_deletes_only_the_metadata()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        var all = Enumerable.Range(0, 100).Select(i => $"m{i}").ToList();
        s.Add(B("s"), all.Select(B).ToList(), out _);
        Assert.Equal(OpStatus.Ok, s.Pop(B("s"), 30, out var popped));
        Assert.Equal(30, popped.Select(S).Distinct().Count());
        Assert.All(popped, p => Assert.Contains(S(p), all));
        s.Members(B("s"), out var left);
        Assert.Equal(all.Except(popped.Select(S)).OrderBy(x => x, StringComparer.Ordinal), Sorted(left));
        s.Count(B("s"), out var count);
        Assert.Equal(70, count);
        var before = f.Db.Engine.LatestSequence;
        s.Pop(B("s"), 1000, out var rest);
        Assert.Equal(70, rest.Count);
        Assert.Equal(before + 1, f.Db.Engine.LatestSequence);
        Assert.False(f.Db.Keys.Exists(B("s")));
        Assert.Equal(OpStatus.NotFound, s.Pop(B("s"), 1, out _));
    }

    [Fact]
    public void Random_members_follow_the_count_rules()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        s.Add(B("s"), Enumerable.Range(0, 30).Select(i => B($"m{i}")).ToList(), out _);
        for (var round = 0; round < 20; round++)
        {
            s.RandomMembers(B("s"), 10, out var distinct);
            Assert.Equal(10, distinct.Elements.Select(e => S(e.Key)).Distinct().Count());
            s.RandomMembers(B("s"), -12, out var repeated);
            Assert.Equal(12, repeated.Count);
        }
        s.RandomMembers(B("s"), 31, out var all);
        Assert.Equal(30, all.Count);
        s.RandomMembers(B("s"), -1000, out var many);
        Assert.Equal(1000, many.Count);
        Assert.Equal(30, many.Elements.Count);
        s.RandomMembers(B("s"), 0, out var none);
        Assert.Equal(0, none.Count);
    }

    [Fact]
    public void Move_transfers_one_member_and_cleans_up_an_emptied_source()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        s.Add(B("src"), M("a", "b"), out _);
        s.Add(B("dst"), M("b"), out _);
        s.Move(B("src"), B("dst"), B("a"), out var moved);
        Assert.True(moved);
        s.Move(B("src"), B("dst"), B("a"), out moved);
        Assert.False(moved);
        s.Move(B("src"), B("src"), B("b"), out moved);
        Assert.True(moved);
        s.Move(B("src"), B("dst"), B("b"), out moved);
        Assert.True(moved);
        Assert.False(f.Db.Keys.Exists(B("src")));
        s.Members(B("dst"), out var members);
        Assert.Equal(["a", "b"], members.Select(S));
        s.Count(B("dst"), out var count);
        Assert.Equal(2, count);
        s.Move(B("dst"), B("fresh"), B("a"), out moved);
        Assert.True(moved);
        s.Members(B("fresh"), out members);
        Assert.Equal(["a"], members.Select(S));
    }

    [Fact]
    public void Inter_union_and_diff_agree_with_a_model_on_random_sets()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        var random = new Random(4242);
        var model = new Dictionary<string, HashSet<string>>();
        for (var k = 0; k < 6; k++)
        {
            var members = Enumerable.Range(0, random.Next(0, 60)).Select(_ => $"m{random.Next(80)}").ToHashSet();
            model[$"k{k}"] = members;
            if (members.Count > 0)
            {
                s.Add(B($"k{k}"), members.Select(B).ToList(), out _);
            }
        }
        for (var round = 0; round < 200; round++)
        {
            var keys = Enumerable.Range(0, random.Next(1, 5)).Select(_ => $"k{random.Next(7)}").ToList(); // k6 never exists
            var sets = keys.Select(k => model.TryGetValue(k, out var m) ? m : []).ToList();
            var inter = sets.Skip(1).Aggregate(new HashSet<string>(sets[0]), (acc, x) => { acc.IntersectWith(x); return acc; });
            var union = sets.Aggregate(new HashSet<string>(), (acc, x) => { acc.UnionWith(x); return acc; });
            var diff = sets.Skip(1).Aggregate(new HashSet<string>(sets[0]), (acc, x) => { acc.ExceptWith(x); return acc; });
            var keyBytes = keys.Select(B).ToList();
            s.Combine(SetOperation.Inter, keyBytes, out var gotInter);
            s.Combine(SetOperation.Union, keyBytes, out var gotUnion);
            s.Combine(SetOperation.Diff, keyBytes, out var gotDiff);
            Assert.Equal(inter.Order(StringComparer.Ordinal), gotInter.Select(S));
            Assert.Equal(union.Order(StringComparer.Ordinal), gotUnion.Select(S));
            Assert.Equal(diff.Order(StringComparer.Ordinal), Sorted(gotDiff));
            s.InterCard(keyBytes, 0, out var card);
            Assert.Equal(inter.Count, card);
            s.InterCard(keyBytes, 3, out var limited);
            Assert.Equal(Math.Min(3, inter.Count), limited);
        }
    }

    [Fact]
    public void Store_replaces_the_destination_whatever_it_was_and_an_empty_result_deletes_it()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        s.Add(B("a"), M("1", "2", "3"), out _);
        s.Add(B("b"), M("2", "3", "4"), out _);
        f.Db.Strings.Set(B("dst"), B("string"), Database.NowMs + 100_000);
        Assert.Equal(OpStatus.Ok, s.CombineAndStore(SetOperation.Inter, B("dst"), [B("a"), B("b")], out var count));
        Assert.Equal(2, count);
        Assert.Equal(RedisType.Set, f.Db.Keys.TypeOf(B("dst")));
        Assert.Equal(-1, f.Db.Keys.TtlMs(B("dst")));
        s.Members(B("dst"), out var members);
        Assert.Equal(["2", "3"], members.Select(S));
        // The destination may be one of the sources: it is read before it is replaced.
        s.CombineAndStore(SetOperation.Union, B("a"), [B("a"), B("b")], out count);
        Assert.Equal(4, count);
        s.Count(B("a"), out var size);
        Assert.Equal(4, size);
        s.CombineAndStore(SetOperation.Diff, B("dst"), [B("dst"), B("a")], out count);
        Assert.Equal(0, count);
        Assert.False(f.Db.Keys.Exists(B("dst")));
        s.CombineAndStore(SetOperation.Inter, B("never"), [B("a"), B("missing")], out count);
        Assert.Equal(0, count);
        Assert.False(f.Db.Keys.Exists(B("never")));
    }

    [Fact]
    public void Delete_of_a_big_set_writes_only_the_metadata_and_compaction_reclaims_its_members()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        for (var batch = 0; batch < 20; batch++)
        {
            s.Add(B("big"), Enumerable.Range(batch * 1000, 1000).Select(i => B($"member:{i}")).ToList(), out _);
        }
        s.Count(B("big"), out var count);
        Assert.Equal(20_000, count);
        var before = f.Db.Engine.LatestSequence;
        Assert.True(f.Db.Keys.Delete(B("big")));
        Assert.Equal(before + 1, f.Db.Engine.LatestSequence);
        f.Db.Engine.CompactAll();
        Assert.Equal(0, RedisHashTests.AllSubKeysOf(f.Db, "big"));
    }

    [Fact]
    public void An_expired_set_is_invisible_to_reads_and_to_set_operations()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        s.Add(B("old"), M("a", "b"), out _);
        s.Add(B("live"), M("a", "b"), out _);
        RedisHashTests.ExpireInPlace(f.Db, "old");
        s.IsMember(B("old"), B("a"), out var isMember);
        Assert.False(isMember);
        s.Combine(SetOperation.Inter, [B("live"), B("old")], out var inter);
        Assert.Empty(inter);
        s.Combine(SetOperation.Diff, [B("live"), B("old")], out var diff);
        Assert.Equal(2, diff.Count);
        s.Add(B("old"), M("c"), out var added);
        Assert.Equal(1, added);
        s.Members(B("old"), out var members);
        Assert.Equal(["c"], members.Select(S));
    }

    [Fact]
    public void Scan_resumes_where_it_stopped_even_after_the_set_is_recreated()
    {
        using var f = new StorageFixture();
        var s = f.Db.Sets;
        s.Add(B("s"), Enumerable.Range(0, 10).Select(i => B($"m{i}")).ToList(), out _);
        s.Scan(B("s"), 0, [], 4, out var first);
        Assert.Equal(["m0", "m1", "m2", "m3"], first.Items.Select(S));
        f.Db.Keys.Delete(B("s"));
        s.Add(B("s"), Enumerable.Range(0, 10).Select(i => B($"m{i}")).ToList(), out _);
        s.Scan(B("s"), first.Cursor, [], 100, out var rest);
        Assert.Equal(0, rest.Cursor);
        Assert.Equal(["m4", "m5", "m6", "m7", "m8", "m9"], rest.Items.Select(S));
    }
}
