using System.Globalization;

namespace Talus.Storage.Tests;

/// <summary>What a point read costs once the data is in large SST files.</summary>
public class PointReadTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    /// <summary>Bytes this thread has read through read/pread calls so far (Linux: /proc/thread-self/io, rchar).</summary>
    private static long ThreadReadBytes()
    {
        foreach (var line in File.ReadLines("/proc/thread-self/io"))
        {
            if (line.StartsWith("rchar:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim(), CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException("no rchar in /proc/thread-self/io");
    }

    [Fact]
    public void A_point_read_in_a_file_whose_filter_exceeds_a_cache_shard_does_not_read_the_whole_filter_again()
    {
        // The fixture's block cache is 8 MB. 2,000,000 members compacted into one file give it a bloom filter of
        // about 2.4 MB. In RocksDB's default sharding (shards of 512 KB and up) that is larger than a shard: it could
        // never stay in the cache, and every point read in the file read and checksummed all of it again (4.8 GB for
        // these 4000 reads; a benchmark's HSET fell to 5,000/s with one core in pread). The engine's cache has shards
        // of at least 32 MB (StorageEngine.CreateBlockCache), here one of 8 MB.
        using var f = new StorageFixture();
        var members = new List<byte[]>(1000);
        for (var batch = 0; batch < 2000; batch++)
        {
            members.Clear();
            for (var i = 0; i < 1000; i++)
            {
                members.Add(B("member:" + (batch * 1000 + i).ToString("D9", CultureInfo.InvariantCulture)));
            }
            Assert.Equal(OpStatus.Ok, f.Db.Sets.Add(B("s"), members, out _));
        }
        f.Db.Engine.CompactAll();

        var before = ThreadReadBytes();
        for (var i = 0; i < 2000; i++)
        {
            Assert.Equal(OpStatus.Ok, f.Db.Sets.IsMember(B("s"), B("absent:" + i.ToString(CultureInfo.InvariantCulture)), out var absent));
            Assert.False(absent);
            Assert.Equal(OpStatus.Ok, f.Db.Sets.IsMember(B("s"), B("member:" + (i * 299).ToString("D9", CultureInfo.InvariantCulture)), out var present));
            Assert.True(present);
        }
        var read = ThreadReadBytes() - before;
        Assert.True(read < 32L << 20, $"4000 point reads read {read:N0} bytes from files");
    }

    [Theory]
    [InlineData(8L << 20, 0)]
    [InlineData(63L << 20, 0)]
    [InlineData(64L << 20, 1)]
    [InlineData(256L << 20, 3)]
    [InlineData(4L << 30, 6)]
    public void The_block_cache_has_shards_of_at_least_32_MB_and_at_most_64_of_them(long capacity, int bits)
    {
        Assert.Equal(bits, Engine.StorageEngine.CacheShardBits(capacity));
    }
}
