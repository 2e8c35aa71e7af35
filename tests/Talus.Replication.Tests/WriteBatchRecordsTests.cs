using System.Buffers.Binary;
using RocksDbSharp;
using Talus.Replication.Binlog;
using Talus.TestKit;

namespace Talus.Replication.Tests;

/// <summary>A binlog stream that starts inside a batch sends the batch's later records only, renumbered.</summary>
public class WriteBatchRecordsTests
{
    [Fact]
    public void A_suffix_holds_the_records_after_the_skipped_ones_from_the_given_sequence()
    {
        using var dir = new TempDirectory("talus-wbr");
        using var db = RocksDb.Open(new DbOptions().SetCreateIfMissing(true), dir.Path);
        using var batch = new WriteBatch();
        batch.Put("a"u8.ToArray(), "1"u8.ToArray());
        batch.Delete("b"u8.ToArray());
        batch.Put("c"u8.ToArray(), "3"u8.ToArray());
        batch.Put("d"u8.ToArray(), "4"u8.ToArray());
        db.Put("b"u8.ToArray(), "kept"u8.ToArray());

        var suffix = WriteBatchRecords.Suffix(batch.AsSpan(), 2, 7);

        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(suffix));
        using var cut = new WriteBatch(suffix, suffix.Length);
        Assert.Equal(2, cut.Count());
        db.Write(cut);
        Assert.Null(db.Get("a"u8.ToArray()));
        Assert.Equal("kept"u8.ToArray(), db.Get("b"u8.ToArray()));
        Assert.Equal("3"u8.ToArray(), db.Get("c"u8.ToArray()));
        Assert.Equal("4"u8.ToArray(), db.Get("d"u8.ToArray()));
    }

    [Fact]
    public void Skipping_every_record_is_refused()
    {
        using var batch = new WriteBatch();
        batch.Put("a"u8.ToArray(), "1"u8.ToArray());
        var rep = batch.AsSpan().ToArray();
        Assert.Throws<InvalidDataException>(() => WriteBatchRecords.Suffix(rep, 1, 5));
    }
}
