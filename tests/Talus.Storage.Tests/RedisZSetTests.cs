using Talus.Storage.Encoding;
using Talus.Storage.Types;

namespace Talus.Storage.Tests;

public class RedisZSetTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static string S(byte[] b) => System.Text.Encoding.UTF8.GetString(b);

    private static List<ZEntry> Entries(params (double Score, string Member)[] items) =>
        items.Select(i => new ZEntry(B(i.Member), i.Score)).ToList();

    private static void Add(Database db, string key, params (double Score, string Member)[] items) =>
        Assert.Equal(OpStatus.Ok, db.ZSets.Add(B(key), Entries(items), ZAddFlags.None, out _, out _, out _));

    private static List<ZEntry> Range(Database db, string key, ZRangeQuery query)
    {
        var result = new List<ZEntry>();
        db.ZSets.Range(B(key), query, result);
        return result;
    }

    private static List<ZEntry> All(Database db, string key) => Range(db, key, new ZRangeQuery { Kind = ZRangeKind.Rank, Start = 0, Stop = -1 });

    /// <summary>The reference order, written independently of the code under test: score, then member bytes.</summary>
    private static List<(string Member, double Score)> Sorted(Dictionary<string, double> model) =>
        model.OrderBy(p => p.Value).ThenBy(p => B(p.Key), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))
            .Select(p => (p.Key, p.Value)).ToList();

    private static List<(string Member, double Score)> Pairs(List<ZEntry> entries) => entries.Select(e => (S(e.Member), e.Score)).ToList();

    [Fact]
    public void Add_then_score_card_and_rank()
    {
        using var f = new StorageFixture();
        Assert.Equal(OpStatus.Ok, f.Db.ZSets.Add(B("z"), Entries((2, "b"), (1, "a"), (3, "c")), ZAddFlags.None, out var added, out var updated, out _));
        Assert.Equal((3L, 0L), (added, updated));
        f.Db.ZSets.Card(B("z"), out var size);
        Assert.Equal(3, size);
        f.Db.ZSets.Score(B("z"), B("b"), out var score);
        Assert.Equal(2, score);
        f.Db.ZSets.Rank(B("z"), B("c"), false, out var rank);
        Assert.Equal(2, rank);
        f.Db.ZSets.Rank(B("z"), B("c"), true, out var revRank);
        Assert.Equal(0, revRank);
        f.Db.ZSets.Rank(B("z"), B("nope"), false, out var missing);
        Assert.Null(missing);
        Assert.Equal(RedisType.ZSet, f.Db.Keys.TypeOf(B("z")));
    }

    [Fact]
    public void A_member_given_twice_in_one_add_ends_with_the_last_score()
    {
        using var f = new StorageFixture();
        f.Db.ZSets.Add(B("z"), Entries((1, "a"), (2, "a")), ZAddFlags.None, out var added, out var updated, out _);
        Assert.Equal((1L, 1L), (added, updated));
        Assert.Equal([("a", 2.0)], Pairs(All(f.Db, "z")));
        f.Db.ZSets.Card(B("z"), out var size);
        Assert.Equal(1, size);
    }

    [Fact]
    public void Equal_scores_order_by_member_bytes_with_the_shorter_first()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", (1, "b"), (1, "ab"), (1, "a"), (1, ""), (1, "\0"), (double.NegativeInfinity, "low"), (double.PositiveInfinity, "high"), (-2.5, "neg"));
        Assert.Equal(["low", "neg", "", "\0", "a", "ab", "b", "high"], All(f.Db, "z").Select(e => S(e.Member)));
    }

    [Fact]
    public void Negative_zero_is_stored_as_zero()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", (-0.0, "m"), (0, "n"));
        f.Db.ZSets.Score(B("z"), B("m"), out var score);
        Assert.False(double.IsNegative(score!.Value));
        Assert.Equal(2, Range(f.Db, "z", new ZRangeQuery { Kind = ZRangeKind.Score, Scores = new ZScoreRange(-0.0, false, 0, false) }).Count);
    }

    [Fact]
    public void Both_indexes_hold_every_member_and_the_metadata_holds_the_size()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", (2, "b"), (-1, "a"), (2, "c"));
        f.Db.Lookup(B("z"), RedisType.ZSet, out var meta, out _);
        Assert.Equal(3, meta.Size);
        var prefix = KeyCodec.SubKeyPrefix(0, B("z"), meta.Version);
        var members = new List<(string, double)>();
        using (var it = f.Db.Engine.NewIterator(f.Db.Engine.Sub, prefix, KeyCodec.PrefixUpperBound(prefix)))
        {
            for (it.SeekToFirst(); it.Valid(); it.Next())
            {
                Assert.Equal(8, it.GetValueSpan().Length);
                members.Add((S(it.GetKeySpan()[prefix.Length..].ToArray()), KeyCodec.DecodeScore(it.GetValueSpan())));
            }
        }
        Assert.Equal([("a", -1.0), ("b", 2.0), ("c", 2.0)], members);
        var scores = new List<(double, string)>();
        using (var it = f.Db.Engine.NewIterator(f.Db.Engine.ZScore, prefix, KeyCodec.PrefixUpperBound(prefix)))
        {
            for (it.SeekToFirst(); it.Valid(); it.Next())
            {
                var key = it.GetKeySpan();
                Assert.Equal(0, it.GetValueSpan().Length);
                scores.Add((KeyCodec.DecodeScore(key.Slice(prefix.Length, 8)), S(key[(prefix.Length + 8)..].ToArray())));
            }
        }
        Assert.Equal([(-1.0, "a"), (2.0, "b"), (2.0, "c")], scores);
    }

    [Fact]
    public void Conditions_follow_redis()
    {
        using var f = new StorageFixture();
        var z = B("z");
        f.Db.ZSets.Add(z, Entries((5, "a")), ZAddFlags.IfExists, out var added, out _, out _);
        Assert.Equal(0, added);
        Assert.False(f.Db.Keys.Exists(z)); // XX never creates the key
        Add(f.Db, "z", (5, "a"));
        f.Db.ZSets.Add(z, Entries((1, "a"), (1, "b")), ZAddFlags.IfMissing, out added, out var updated, out _);
        Assert.Equal((1L, 0L), (added, updated));
        f.Db.ZSets.Add(z, Entries((4, "a")), ZAddFlags.GreaterThan, out _, out updated, out _);
        Assert.Equal(0, updated);
        f.Db.ZSets.Add(z, Entries((6, "a")), ZAddFlags.GreaterThan, out _, out updated, out _);
        Assert.Equal(1, updated);
        f.Db.ZSets.Add(z, Entries((7, "a")), ZAddFlags.LessThan, out _, out updated, out _);
        Assert.Equal(0, updated);
        f.Db.ZSets.Add(z, Entries((2.5, "a")), ZAddFlags.Increment, out _, out _, out var incr);
        Assert.Equal(8.5, incr);
        f.Db.ZSets.Add(z, Entries((-1, "a")), ZAddFlags.Increment | ZAddFlags.GreaterThan, out _, out _, out incr);
        Assert.Null(incr);
        Add(f.Db, "z", (double.PositiveInfinity, "inf"));
        Assert.Equal(OpStatus.NaNOrInfinity, f.Db.ZSets.Add(z, Entries((double.NegativeInfinity, "inf")), ZAddFlags.Increment, out _, out _, out _));
        f.Db.ZSets.Score(z, B("inf"), out var unchanged);
        Assert.Equal(double.PositiveInfinity, unchanged);
    }

    [Fact]
    public void Removing_the_last_member_deletes_the_key()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", (1, "a"), (2, "b"));
        f.Db.ZSets.Remove(B("z"), [B("a"), B("a"), B("x")], out var removed);
        Assert.Equal(1, removed);
        Assert.True(f.Db.Keys.Exists(B("z")));
        f.Db.ZSets.Remove(B("z"), [B("b")], out removed);
        Assert.Equal(1, removed);
        Assert.False(f.Db.Keys.Exists(B("z")));
    }

    [Fact]
    public void Random_operations_agree_with_a_reference_model()
    {
        using var f = new StorageFixture();
        var random = new Random(12345);
        var model = new Dictionary<string, double>();
        for (var i = 0; i < 1500; i++)
        {
            var member = "m" + random.Next(400);
            var score = random.Next(-50, 50) / 2.0;
            switch (random.Next(4))
            {
                case 0:
                    f.Db.ZSets.Remove(B("z"), [B(member)], out _);
                    model.Remove(member);
                    break;
                case 1:
                    f.Db.ZSets.Add(B("z"), Entries((score, member)), ZAddFlags.Increment, out _, out _, out _);
                    model[member] = model.GetValueOrDefault(member) + score;
                    break;
                default:
                    Add(f.Db, "z", (score, member));
                    model[member] = score;
                    break;
            }
        }
        var sorted = Sorted(model);
        Assert.Equal(sorted, Pairs(All(f.Db, "z")));
        var n = sorted.Count;
        for (var q = 0; q < 300; q++)
        {
            long start = random.Next(-n - 5, n + 5), stop = random.Next(-n - 5, n + 5);
            var reverse = random.Next(2) == 0;
            var ordered = reverse ? Enumerable.Reverse(sorted).ToList() : sorted;
            long from = start < 0 ? Math.Max(0, n + start) : start, to = Math.Min(n - 1, stop < 0 ? n + stop : stop);
            var expected = from > to || from >= n ? [] : ordered.Skip((int)from).Take((int)(to - from + 1)).ToList();
            Assert.Equal(expected, Pairs(Range(f.Db, "z", new ZRangeQuery { Kind = ZRangeKind.Rank, Start = start, Stop = stop, Reverse = reverse })));

            var member = "m" + random.Next(400);
            f.Db.ZSets.Rank(B("z"), B(member), reverse, out var rank);
            var index = ordered.FindIndex(p => p.Member == member);
            Assert.Equal(index < 0 ? null : index, rank);

            var min = random.Next(-60, 60) / 2.0;
            var max = min + random.Next(0, 40) / 2.0;
            var range = new ZScoreRange(min, random.Next(2) == 0, max, random.Next(2) == 0);
            var inRange = ordered.Where(p => range.MinExclusive ? p.Score > min : p.Score >= min).Where(p => range.MaxExclusive ? p.Score < max : p.Score <= max).ToList();
            f.Db.ZSets.Count(B("z"), range, out var count);
            Assert.Equal(inRange.Count, count);
            int offset = random.Next(-1, 5), limit = random.Next(-1, 8);
            var page = offset < 0 ? [] : inRange.Skip(offset).Take(limit < 0 ? int.MaxValue : limit).ToList();
            Assert.Equal(page, Pairs(Range(f.Db, "z", new ZRangeQuery { Kind = ZRangeKind.Score, Scores = range, Reverse = reverse, Offset = offset, Limit = limit })));
        }
    }

    [Fact]
    public void Lex_ranges_and_counts_over_equal_scores()
    {
        using var f = new StorageFixture();
        var members = new[] { "", "a", "aa", "ab", "b", "ba", "c", "z", "\u00e9" }; // byte order: é is C3 A9
        Add(f.Db, "z", members.Select(m => (0.0, m)).ToArray());
        ZLexRange Lex(string min, string max)
        {
            static ZLexBound Bound(string s) => s switch
            {
                "-" => ZLexBound.Minus,
                "+" => ZLexBound.Plus,
                _ => s[0] == '(' ? ZLexBound.ExclusiveOf(B(s[1..])) : ZLexBound.Inclusive(B(s[1..])),
            };
            return new ZLexRange(Bound(min), Bound(max));
        }
        void Check(string min, string max, params string[] expected)
        {
            var range = Lex(min, max);
            Assert.Equal(expected, Range(f.Db, "z", new ZRangeQuery { Kind = ZRangeKind.Lex, Lex = range }).Select(e => S(e.Member)));
            Assert.Equal(expected.Reverse(), Range(f.Db, "z", new ZRangeQuery { Kind = ZRangeKind.Lex, Lex = range, Reverse = true }).Select(e => S(e.Member)));
            f.Db.ZSets.LexCount(B("z"), range, out var count);
            Assert.Equal(expected.Length, count);
        }
        Check("-", "+", members);
        Check("[a", "[b", "a", "aa", "ab", "b");
        Check("(a", "(b", "aa", "ab");
        Check("[aa", "(ba", "aa", "ab", "b");
        Check("-", "[", "");
        Check("(", "+", "a", "aa", "ab", "b", "ba", "c", "z", "\u00e9");
        Check("+", "-");
        Check("-", "-");
        Check("[b", "[a");
        Check("(b", "[b");
    }

    [Fact]
    public void Remove_ranges_and_pops()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", Enumerable.Range(0, 10).Select(i => ((double)i, "m" + i)).ToArray());
        f.Db.ZSets.RemoveRange(B("z"), new ZRangeQuery { Kind = ZRangeKind.Score, Scores = new ZScoreRange(2, true, 4, false) }, out var removed);
        Assert.Equal(2, removed);
        f.Db.ZSets.RemoveRange(B("z"), new ZRangeQuery { Kind = ZRangeKind.Rank, Start = -2, Stop = -1 }, out removed);
        Assert.Equal(2, removed);
        Assert.Equal(["m0", "m1", "m2", "m5", "m6", "m7"], All(f.Db, "z").Select(e => S(e.Member)));
        var popped = new List<ZEntry>();
        f.Db.ZSets.Pop(B("z"), 2, max: true, popped);
        Assert.Equal([("m7", 7.0), ("m6", 6.0)], Pairs(popped));
        popped.Clear();
        f.Db.ZSets.Pop(B("z"), 10, max: false, popped);
        Assert.Equal(["m0", "m1", "m2", "m5"], popped.Select(e => S(e.Member)));
        Assert.False(f.Db.Keys.Exists(B("z")));
        Assert.Equal(OpStatus.NotFound, f.Db.ZSets.Pop(B("z"), 1, false, popped));
    }

    [Fact]
    public void Union_intersection_and_difference_with_weights_and_aggregates()
    {
        using var f = new StorageFixture();
        Add(f.Db, "a", (1, "x"), (2, "y"), (3, "z"));
        Add(f.Db, "b", (10, "y"), (20, "z"), (30, "w"));
        var result = new List<ZEntry>();
        f.Db.ZSets.Combine([B("a"), B("b")], [2, 1], ZAggregate.Sum, ZSetOperation.Union, result);
        Assert.Equal([("x", 2.0), ("y", 14.0), ("z", 26.0), ("w", 30.0)], Pairs(result));
        result.Clear();
        f.Db.ZSets.Combine([B("a"), B("b")], null, ZAggregate.Max, ZSetOperation.Inter, result);
        Assert.Equal([("y", 10.0), ("z", 20.0)], Pairs(result));
        result.Clear();
        f.Db.ZSets.Combine([B("a"), B("b")], null, ZAggregate.Min, ZSetOperation.Inter, result);
        Assert.Equal([("y", 2.0), ("z", 3.0)], Pairs(result));
        result.Clear();
        f.Db.ZSets.Combine([B("a"), B("b"), B("missing")], null, ZAggregate.Sum, ZSetOperation.Diff, result);
        Assert.Equal([("x", 1.0)], Pairs(result));
        f.Db.ZSets.InterCard([B("a"), B("b")], 1, out var limited);
        Assert.Equal(1, limited);
        Assert.Equal(OpStatus.Ok, f.Db.ZSets.CombineStore(B("a"), [B("a"), B("b")], null, ZAggregate.Sum, ZSetOperation.Inter, out var stored));
        Assert.Equal(2, stored);
        Assert.Equal([("y", 12.0), ("z", 23.0)], Pairs(All(f.Db, "a")));
    }

    [Fact]
    public void Weighted_infinities_follow_redis_nan_rules()
    {
        using var f = new StorageFixture();
        Add(f.Db, "i", (double.PositiveInfinity, "p"), (double.NegativeInfinity, "n"));
        var result = new List<ZEntry>();
        // Union: every weighted score that is NaN (0 × inf) counts as 0, and inf + -inf sums to 0.
        f.Db.ZSets.Combine([B("i"), B("i")], [1, -1], ZAggregate.Sum, ZSetOperation.Union, result);
        Assert.Equal([("n", 0.0), ("p", 0.0)], Pairs(result));
        result.Clear();
        // Intersection: only the first input's NaN becomes 0; a later NaN makes the sum NaN, then 0.
        f.Db.ZSets.Combine([B("i"), B("i")], [0, 1], ZAggregate.Sum, ZSetOperation.Inter, result);
        Assert.Equal([("n", double.NegativeInfinity), ("p", double.PositiveInfinity)], Pairs(result));
        result.Clear();
        f.Db.ZSets.Combine([B("i"), B("i")], [1, 0], ZAggregate.Sum, ZSetOperation.Inter, result);
        Assert.Equal([("n", 0.0), ("p", 0.0)], Pairs(result));
    }

    [Fact]
    public void Store_replaces_any_type_drops_the_expiry_and_deletes_on_empty()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set(B("dst"), B("text"), Database.NowMs + 100_000);
        f.Db.ZSets.Store(B("dst"), Entries((1, "a")));
        Assert.Equal(RedisType.ZSet, f.Db.Keys.TypeOf(B("dst")));
        Assert.Equal(-1, f.Db.Keys.TtlMs(B("dst")));
        f.Db.ZSets.Store(B("dst"), []);
        Assert.False(f.Db.Keys.Exists(B("dst")));
        Add(f.Db, "src", (1, "a"), (2, "b"), (3, "c"));
        f.Db.ZSets.RangeStore(B("dst"), B("src"), new ZRangeQuery { Kind = ZRangeKind.Rank, Start = 1, Stop = -1, Reverse = true }, out var stored);
        Assert.Equal(2, stored);
        Assert.Equal([("a", 1.0), ("b", 2.0)], Pairs(All(f.Db, "dst")));
    }

    [Fact]
    public void A_string_key_is_the_wrong_type()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set(B("s"), B("v"));
        Assert.Equal(OpStatus.WrongType, f.Db.ZSets.Add(B("s"), Entries((1, "a")), ZAddFlags.None, out _, out _, out _));
        Assert.Equal(KeyLookup.WrongType, f.Db.ZSets.Range(B("s"), new ZRangeQuery(), []));
        Assert.Equal(OpStatus.WrongType, f.Db.ZSets.Combine([B("s")], null, ZAggregate.Sum, ZSetOperation.Union, []));
        Assert.Equal(OpStatus.WrongType, f.Db.ZSets.Remove(B("s"), [B("a")], out _));
    }

    [Fact]
    public void An_expired_set_is_invisible_and_a_new_one_starts_empty()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", (1, "old"));
        Assert.True(f.Db.Keys.SetExpiry(B("z"), Database.NowMs + 50, ExpireCondition.Always));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (f.Db.Keys.Exists(B("z")) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }
        Assert.Equal(KeyLookup.Missing, f.Db.ZSets.Card(B("z"), out _));
        Add(f.Db, "z", (2, "new"));
        Assert.Equal([("new", 2.0)], Pairs(All(f.Db, "z")));
    }

    [Fact]
    public void Increments_from_many_threads_lose_nothing()
    {
        using var f = new StorageFixture();
        Parallel.For(0, 8, thread =>
        {
            for (var i = 0; i < 250; i++)
            {
                f.Db.ZSets.Add(B("z"), Entries((1, "counter"), (i, $"t{thread}-{i}")), ZAddFlags.None, out _, out _, out _);
                f.Db.ZSets.Add(B("z"), Entries((1, "total")), ZAddFlags.Increment, out _, out _, out _);
            }
        });
        f.Db.ZSets.Score(B("z"), B("total"), out var total);
        f.Db.ZSets.Card(B("z"), out var size);
        Assert.Equal(2000, total);
        Assert.Equal(2000 + 2, size);
        Assert.Equal(2000 + 2, All(f.Db, "z").Count);
    }

    [Fact]
    public void Samples_are_members_distinct_when_asked_and_sized_as_asked()
    {
        using var f = new StorageFixture();
        Add(f.Db, "z", Enumerable.Range(0, 50).Select(i => ((double)i, "m" + i)).ToArray());
        var picks = new List<ZEntry>();
        f.Db.ZSets.Sample(B("z"), 20, unique: true, picks);
        Assert.Equal(20, picks.Select(p => S(p.Member)).Distinct().Count());
        Assert.All(picks, p => Assert.Equal(p.Score, double.Parse(S(p.Member)[1..], System.Globalization.CultureInfo.InvariantCulture)));
        picks.Clear();
        f.Db.ZSets.Sample(B("z"), 500, unique: false, picks);
        Assert.Equal(500, picks.Count);
        Assert.True(picks.Select(p => S(p.Member)).Distinct().Count() > 30); // 500 uniform draws from 50 miss almost none
        picks.Clear();
        f.Db.ZSets.Sample(B("z"), 30, unique: false, picks);
        Assert.Equal(30, picks.Count);
        picks.Clear();
        f.Db.ZSets.Sample(B("z"), 80, unique: true, picks);
        Assert.Equal(50, picks.Count);
        Assert.Equal(KeyLookup.Found, f.Db.ZSets.RandomMember(B("z"), out var one));
        Assert.NotNull(one);
    }

    [Fact]
    public void Scan_returns_a_small_set_whole_and_pages_a_large_one()
    {
        using var f = new StorageFixture();
        Add(f.Db, "small", (2, "b"), (1, "a"), (3, "ab"));
        f.Db.ZSets.Scan(B("small"), 0, null, 1, out var page);
        Assert.Equal((0L, true), (page.Cursor, page.Compact));
        Assert.Equal(["a", "b", "ab"], page.Items.Select(e => S(e.Member)));
        f.Db.ZSets.Scan(B("small"), 0, B("a*"), 1, out page);
        Assert.Equal(["a", "ab"], page.Items.Select(e => S(e.Member)));

        Add(f.Db, "large", Enumerable.Range(0, 300).Select(i => ((double)(i % 7), "m" + i)).ToArray());
        var seen = new List<string>();
        long cursor = 0;
        var calls = 0;
        do
        {
            f.Db.ZSets.Scan(B("large"), cursor, null, 25, out page);
            Assert.False(page.Compact);
            seen.AddRange(page.Items.Select(e => S(e.Member)));
            cursor = page.Cursor;
        }
        while (cursor != 0 && ++calls < 100);
        Assert.Equal(300, seen.Count);
        Assert.Equal(300, seen.Distinct().Count());
    }

    [Fact]
    public void Scan_returns_every_member_once_while_the_scores_of_those_not_yet_returned_move_behind_the_cursor()
    {
        using var f = new StorageFixture();
        var members = Enumerable.Range(0, 400).Select(i => "m" + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Add(f.Db, "z", members.Select((m, i) => ((double)i, m)).ToArray());
        var returned = new List<string>();
        long cursor = 0;
        var calls = 0;
        do
        {
            f.Db.ZSets.Scan(B("z"), cursor, null, 20, out var page);
            Assert.False(page.Compact);
            returned.AddRange(page.Items.Select(e => S(e.Member)));
            cursor = page.Cursor;
            calls++;
            // Every member not returned yet takes a score below all the others: in score order, each would now lie
            // behind the cursor.
            var pending = members.Except(returned).ToList();
            if (pending.Count > 0)
            {
                Add(f.Db, "z", pending.Select(m => (-1000.0 - calls, m)).ToArray());
            }
        }
        while (cursor != 0 && calls < 200);
        Assert.Equal(0, cursor);
        Assert.Equal(members.Count, returned.Count);
        Assert.Equal(members, returned.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Scan_of_a_large_set_resumes_at_the_same_member_after_the_set_is_recreated()
    {
        using var f = new StorageFixture();
        var entries = Enumerable.Range(0, 300).Select(i => ((double)(300 - i), "m" + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Add(f.Db, "z", entries);
        f.Db.ZSets.Scan(B("z"), 0, null, 100, out var first);
        Assert.Equal(entries.Take(100).Select(e => e.Item2), first.Items.Select(e => S(e.Member)));
        Assert.Equal(300.0, first.Items[0].Score);
        f.Db.Keys.Delete(B("z"));
        Add(f.Db, "z", entries);
        f.Db.ZSets.Scan(B("z"), first.Cursor, null, 1000, out var rest);
        Assert.Equal(0, rest.Cursor);
        Assert.Equal(entries.Skip(100).Select(e => e.Item2), rest.Items.Select(e => S(e.Member)));
    }
}
