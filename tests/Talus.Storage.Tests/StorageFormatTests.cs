using Talus.Storage.Encoding;
using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>Pins every value that is written to disk: changing one breaks existing datasets.</summary>
public class StorageFormatTests
{
    [Fact]
    public void Redis_type_bytes_are_pinned()
    {
        Assert.Equal(0, (byte)RedisType.None);
        Assert.Equal(1, (byte)RedisType.String);
        Assert.Equal(2, (byte)RedisType.Hash);
        Assert.Equal(3, (byte)RedisType.List);
        Assert.Equal(4, (byte)RedisType.Set);
        Assert.Equal(5, (byte)RedisType.ZSet);
    }

    [Fact]
    public void Format_version_and_column_family_names_are_pinned()
    {
        Assert.Equal(1, StorageFormat.Version);
        Assert.Equal("meta", StorageFormat.MetaFamily);
        Assert.Equal("sub", StorageFormat.SubFamily);
        Assert.Equal("zscore", StorageFormat.ZScoreFamily);
        Assert.Equal("sys", StorageFormat.SysFamily);
    }

    [Fact]
    public void String_metadata_layout_is_pinned()
    {
        var meta = new Metadata { Type = RedisType.String, ExpireAtMs = 0x0102030405060708 };
        var bytes = new byte[Metadata.HeaderSize];
        Assert.Equal(10, meta.Encode(bytes));
        Assert.Equal(new byte[] { 1, 0, 8, 7, 6, 5, 4, 3, 2, 1 }, bytes);
    }

    [Fact]
    public void List_metadata_round_trips_with_pinned_offsets()
    {
        var meta = Metadata.NewCollection(RedisType.List, version: 42);
        meta.Size = 3;
        meta.Tail = Metadata.ListInitialIndex + 3;
        var bytes = meta.ToArray();
        Assert.Equal(Metadata.ListSize, bytes.Length);
        Assert.Equal(42, bytes[10]);
        Assert.Equal(3, bytes[18]);
        Assert.True(Metadata.TryDecode(bytes, out var back));
        Assert.Equal(meta.Version, back.Version);
        Assert.Equal(meta.Size, back.Size);
        Assert.Equal(meta.Head, back.Head);
        Assert.Equal(meta.Tail, back.Tail);
    }

    [Fact]
    public void Sub_keys_keep_keys_with_shared_prefixes_apart()
    {
        var a = KeyCodec.SubKey(0, "a"u8, 1, "bc"u8);
        var ab = KeyCodec.SubKey(0, "ab"u8, 1, "c"u8);
        Assert.False(a.AsSpan().SequenceEqual(ab));
        Assert.True(KeyCodec.TryDecodeSubKey(ab, out var db, out var key, out var version, out var field));
        Assert.Equal(0, db);
        Assert.Equal("ab"u8.ToArray(), key.ToArray());
        Assert.Equal(1UL, version);
        Assert.Equal("c"u8.ToArray(), field.ToArray());
    }

    [Theory]
    [InlineData(double.NegativeInfinity, -1e300)]
    [InlineData(-1e300, -1.5)]
    [InlineData(-1.5, -0.0)]
    [InlineData(0.0, 1e-300)]
    [InlineData(1e-300, 2.5)]
    [InlineData(2.5, double.PositiveInfinity)]
    public void Encoded_scores_sort_bytewise_in_numeric_order(double lower, double higher)
    {
        var a = new byte[8];
        var b = new byte[8];
        KeyCodec.EncodeScore(lower, a);
        KeyCodec.EncodeScore(higher, b);
        Assert.True(a.AsSpan().SequenceCompareTo(b) < 0);
        Assert.Equal(lower == 0 ? 0 : lower, KeyCodec.DecodeScore(a));
    }

    [Fact]
    public void Every_batch_the_engine_writes_ends_with_the_boundary_marker()
    {
        Assert.Equal("|"u8.ToArray(), WriteBatchFormat.BoundaryMarker.ToArray());
        using var f = new StorageFixture();
        var engine = f.Dataset.Engine;
        var first = engine.LatestSequence + 1;
        f.Db.Strings.Set("a"u8, "1"u8);
        using (var tx = engine.BeginTransaction())
        {
            f.Db.Strings.Set("b"u8, "2"u8);
            f.Db.Strings.Set("c"u8, "3"u8);
            tx.Commit();
        }

        // Two WAL records (the SET, then the transaction), each ending with log data "|" (tag 3, length 1),
        // and no marker between the transaction's two commands.
        using var it = engine.Db.GetUpdatesSince(first);
        var batches = new List<(ulong Seq, int Count, bool MarkerOnlyAtEnd)>();
        byte[] marker = [3, 1, (byte)'|'];
        for (; it.Valid(); it.Next())
        {
            using var batch = it.GetBatch(out var seq);
            var rep = batch.AsSpan();
            batches.Add((seq, batch.Count(), rep.IndexOf(marker) == rep.Length - marker.Length));
        }
        Assert.Equal([(first, 1, true), (first + 1, 2, true)], batches);
    }
}
