using Talus.Storage.Encoding;
using Talus.Storage.Types;

namespace Talus.Storage.Tests;

public class RedisHyperLogLogTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static byte[] Value(Database db, string key)
    {
        Assert.Equal(KeyLookup.Found, db.Strings.Get(B(key), out var value));
        return value.ToArray();
    }

    [Fact]
    public void Format_constants_on_disk_are_pinned()
    {
        Assert.Equal(0, HyperLogLog.Dense);
        Assert.Equal(1, HyperLogLog.Sparse);
        Assert.Equal(16, HyperLogLog.HeaderSize);
        Assert.Equal(16384, HyperLogLog.RegisterCount);
        Assert.Equal(12304, HyperLogLog.DenseSize);
        Assert.Equal(3000, HyperLogLog.SparseMaxBytes);
    }

    [Fact]
    public void Pfadd_then_pfcount_gives_redis_server_bytes()
    {
        using var f = new StorageFixture();
        Assert.Equal(HyperLogLogStatus.Ok, f.Db.HyperLogLogs.Add(B("h"), [B("a"), B("b"), B("c")], out var changed));
        Assert.True(changed);
        Assert.Equal(HyperLogLogStatus.Ok, f.Db.HyperLogLogs.Count([B("h")], updateCache: true, out var count));
        Assert.Equal(3, count);
        // redis-server 7.0.15 after PFADD h a b c; PFCOUNT h: GET h
        Assert.Equal(Convert.FromHexString("48594C4C01000000030000000000000060F38050B1844BFB80425A"), Value(f.Db, "h"));
    }

    [Fact]
    public void A_new_empty_hll_is_one_xzero_with_a_stale_cache()
    {
        using var f = new StorageFixture();
        f.Db.HyperLogLogs.Add(B("h"), [], out var changed);
        Assert.True(changed);
        Assert.Equal(Convert.FromHexString("48594C4C0100000000000000000000807FFF"), Value(f.Db, "h"));
        f.Db.HyperLogLogs.Add(B("h"), [], out changed);
        Assert.False(changed);
    }

    [Fact]
    public void Many_elements_promote_to_dense_and_count_closely()
    {
        using var f = new StorageFixture();
        for (var i = 0; i < 20_000; i += 500)
        {
            f.Db.HyperLogLogs.Add(B("h"), Enumerable.Range(i, 500).Select(n => B("e" + n)).ToList(), out _);
        }
        var value = Value(f.Db, "h");
        Assert.Equal(HyperLogLog.DenseSize, value.Length);
        Assert.Equal(HyperLogLog.Dense, value[4]);
        f.Db.HyperLogLogs.Count([B("h")], updateCache: false, out var count);
        Assert.InRange(count, 19_600, 20_400); // the standard error at 16384 registers is 0.81%
        Assert.Equal(value, Value(f.Db, "h")); // no cache update asked: the value is unchanged
    }

    [Fact]
    public void Merge_counts_the_union()
    {
        using var f = new StorageFixture();
        f.Db.HyperLogLogs.Add(B("a"), Enumerable.Range(0, 3000).Select(n => B("e" + n)).ToList(), out _);
        f.Db.HyperLogLogs.Add(B("b"), Enumerable.Range(2000, 3000).Select(n => B("e" + n)).ToList(), out _);
        Assert.Equal(HyperLogLogStatus.Ok, f.Db.HyperLogLogs.Merge(B("u"), [B("a"), B("b"), B("missing")]));
        f.Db.HyperLogLogs.Count([B("u")], updateCache: true, out var merged);
        f.Db.HyperLogLogs.Count([B("a"), B("b")], updateCache: true, out var union);
        Assert.Equal(union, merged);
        Assert.InRange(merged, 4900, 5100);
    }

    [Fact]
    public void Other_values_are_refused_with_the_right_status()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set(B("s"), B("not an hll"));
        f.Db.ZSets.Add(B("z"), [new ZEntry(B("m"), 1)], ZAddFlags.None, out _, out _, out _);
        Assert.Equal(HyperLogLogStatus.NotHyperLogLog, f.Db.HyperLogLogs.Add(B("s"), [B("x")], out _));
        Assert.Equal(HyperLogLogStatus.WrongType, f.Db.HyperLogLogs.Count([B("z")], true, out _));
        Assert.Equal(HyperLogLogStatus.WrongType, f.Db.HyperLogLogs.Merge(B("d"), [B("z")]));
        // Sparse opcodes covering 16383 registers, cache marked stale.
        f.Db.Strings.Set(B("bad"), Convert.FromHexString("48594C4C0100000000000000000000807FFE"));
        Assert.Equal(HyperLogLogStatus.Corrupted, f.Db.HyperLogLogs.Count([B("bad")], true, out _));
        Assert.Equal(HyperLogLogStatus.Ok, f.Db.HyperLogLogs.Count([B("nothing")], true, out var zero));
        Assert.Equal(0, zero);
    }

    [Fact]
    public void Pfadd_keeps_the_expiry()
    {
        using var f = new StorageFixture();
        f.Db.HyperLogLogs.Add(B("h"), [B("a")], out _);
        f.Db.Keys.SetExpiry(B("h"), Database.NowMs + 100_000, ExpireCondition.Always);
        f.Db.HyperLogLogs.Add(B("h"), [B("b"), B("c"), B("d")], out var changed);
        Assert.True(changed);
        Assert.InRange(f.Db.Keys.TtlMs(B("h")), 1, 100_000);
    }
}
