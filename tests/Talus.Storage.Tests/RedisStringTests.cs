using Talus.Storage.Types;

namespace Talus.Storage.Tests;

public class RedisStringTests
{
    [Fact]
    public void Set_then_get_returns_the_value()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set("k"u8, "v"u8);
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get("k"u8, out var value));
        Assert.Equal("v"u8.ToArray(), value.ToArray());
    }

    [Fact]
    public void An_expired_key_is_invisible_at_once()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set("k"u8, "v"u8, Database.NowMs - 1);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("k"u8, out _));
        Assert.False(f.Db.Keys.Exists("k"u8));
        Assert.Equal(0, f.Db.Keys.Count().Keys);
    }

    [Fact]
    public void Incr_from_many_threads_loses_no_increment()
    {
        using var f = new StorageFixture();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 500; i++)
            {
                Assert.Equal(OpStatus.Ok, f.Db.Strings.IncrBy("n"u8, 1, out _));
            }
        });
        f.Db.Strings.Get("n"u8, out var value);
        Assert.Equal("4000", System.Text.Encoding.ASCII.GetString(value));
    }

    [Fact]
    public void Incr_refuses_a_non_integer_and_overflow()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set("s"u8, "abc"u8);
        Assert.Equal(OpStatus.NotInteger, f.Db.Strings.IncrBy("s"u8, 1, out _));
        f.Db.Strings.Set("m"u8, "9223372036854775807"u8);
        Assert.Equal(OpStatus.Overflow, f.Db.Strings.IncrBy("m"u8, 1, out _));
    }

    [Fact]
    public void Set_nx_and_xx_respect_existence()
    {
        using var f = new StorageFixture();
        Assert.Equal(OpStatus.NotPerformed, f.Db.Strings.Set("k"u8, "1"u8, 0, SetCondition.IfExists, false, false, out _));
        Assert.Equal(OpStatus.Ok, f.Db.Strings.Set("k"u8, "1"u8, 0, SetCondition.IfMissing, false, false, out _));
        Assert.Equal(OpStatus.NotPerformed, f.Db.Strings.Set("k"u8, "2"u8, 0, SetCondition.IfMissing, false, true, out var old));
        Assert.Equal("1"u8.ToArray(), old);
    }

    [Fact]
    public void Data_survives_reopen()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "talus-reopen-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new Engine.StorageOptions { Path = path };
            using (var ds = Dataset.Open(options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
            {
                ds[3].Strings.Set("k"u8, "v"u8);
            }
            using (var ds = Dataset.Open(options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
            {
                Assert.Equal(KeyLookup.Found, ds[3].Strings.Get("k"u8, out var value));
                Assert.Equal("v"u8.ToArray(), value.ToArray());
                Assert.Equal(KeyLookup.Missing, ds[0].Strings.Get("k"u8, out _));
            }
        }
        finally
        {
            Directory.Delete(path, true);
        }
    }
}
