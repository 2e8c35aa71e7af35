using System.Buffers.Binary;
using RocksDbSharp;
using Talus.Replication.Binlog;
using Talus.Storage.Engine;
using Talus.TestKit;

namespace Talus.Replication.Tests;

/// <summary>
/// A binlog stream may start inside a batch only where a boundary marker ends one of the batches merged into
/// it, and then sends the later records only, renumbered.
/// </summary>
public class WriteBatchRecordsTests
{
    private static readonly byte[] Marker = WriteBatchFormat.BoundaryMarker.ToArray();

    /// <summary>Two master batches as a replica writes them: [put a, delete b, marker] [put c, put d, marker].</summary>
    private static WriteBatch Merged()
    {
        var batch = new WriteBatch();
        batch.Put("a"u8.ToArray(), "1"u8.ToArray());
        batch.Delete("b"u8.ToArray());
        batch.PutLogData(Marker, (ulong)Marker.Length);
        batch.Put("c"u8.ToArray(), "3"u8.ToArray());
        batch.Put("d"u8.ToArray(), "4"u8.ToArray());
        batch.PutLogData(Marker, (ulong)Marker.Length);
        return batch;
    }

    [Fact]
    public void A_suffix_at_a_marker_holds_the_later_records_renumbered()
    {
        using var dir = new TempDirectory("talus-wbr");
        using var db = RocksDb.Open(new DbOptions().SetCreateIfMissing(true), dir.Path);
        using var merged = Merged();
        var rep = merged.AsSpan().ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(rep, 5);
        db.Put("b"u8.ToArray(), "kept"u8.ToArray());

        var suffix = WriteBatchRecords.Suffix(rep, 2);

        Assert.NotNull(suffix);
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
    public void Only_a_batch_start_or_a_marker_starts_whole_commands()
    {
        using var merged = Merged();
        var rep = merged.AsSpan().ToArray();
        Assert.Equal([true, false, true, false], Enumerable.Range(0, 4).Select(i => WriteBatchRecords.StartsCommands(rep, (ulong)i)));
        Assert.Null(WriteBatchRecords.Suffix(rep, 1));
        Assert.Null(WriteBatchRecords.Suffix(rep, 3));
    }

    [Fact]
    public void Other_log_data_is_not_a_boundary()
    {
        using var batch = new WriteBatch();
        batch.Put("a"u8.ToArray(), "1"u8.ToArray());
        batch.PutLogData("note"u8.ToArray(), 4);
        batch.Put("b"u8.ToArray(), "2"u8.ToArray());
        var rep = batch.AsSpan().ToArray();
        Assert.False(WriteBatchRecords.StartsCommands(rep, 1));
    }

    [Fact]
    public void Skipping_every_record_is_refused()
    {
        using var merged = Merged();
        var rep = merged.AsSpan().ToArray();
        Assert.Throws<InvalidDataException>(() => WriteBatchRecords.Suffix(rep, 4));
    }
}
