using System.Buffers;
using RocksDbSharp;
using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>Dropping the records of a batch that a later record overwrites, before it is written.</summary>
public class WriteBatchCoalescingTests
{
    [Fact]
    public void Only_puts_and_deletions_that_a_later_put_or_deletion_of_the_same_key_overwrites_are_dropped()
    {
        using var stores = new TwoStores();
        using var batch = new WriteBatch();
        batch.Put("a"u8.ToArray(), "1"u8.ToArray(), stores.Default1);    // 0: overwritten by 1
        batch.Put("a"u8.ToArray(), "2"u8.ToArray(), stores.Default1);    // 1: overwritten by 8
        batch.Delete("b"u8.ToArray(), stores.Default1);                  // 2: overwritten by 3
        batch.Put("b"u8.ToArray(), "3"u8.ToArray(), stores.Default1);    // 3
        batch.Put("c"u8.ToArray(), "1"u8.ToArray(), stores.Other1);      // 4: another column family
        batch.Put("c"u8.ToArray(), "2"u8.ToArray(), stores.Default1);    // 5
        batch.PutLogData("|"u8.ToArray(), 1);                            // 6: log data stays
        batch.DeleteRange("a"u8.ToArray(), 1, "z"u8.ToArray(), 1, stores.Default1); // 7: range deletions stay
        batch.Put("a"u8.ToArray(), "4"u8.ToArray(), stores.Default1);    // 8

        var output = new ArrayBufferWriter<byte>();
        var kept = WriteBatchCoalescing.Coalesce(batch.AsSpan()[WriteBatchFormat.HeaderSize..], output);

        Assert.Equal(5, kept);
        var described = Describe(output.WrittenSpan);
        Assert.Equal(["put 0 b=3", "put 1 c=1", "put 0 c=2", "log |", "range 0 a..z", "put 0 a=4"], described);
    }

    [Fact]
    public void A_batch_without_overwrites_is_left_as_it_is()
    {
        using var stores = new TwoStores();
        using var batch = new WriteBatch();
        batch.Put("a"u8.ToArray(), "1"u8.ToArray(), stores.Default1);
        batch.Put("a"u8.ToArray(), "1"u8.ToArray(), stores.Other1);
        batch.Delete("b"u8.ToArray(), stores.Default1);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(-1, WriteBatchCoalescing.Coalesce(batch.AsSpan()[WriteBatchFormat.HeaderSize..], output));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Random_batches_leave_the_same_data_coalesced_or_not()
    {
        using var stores = new TwoStores();
        var random = new Random(20261204);
        var droppedAny = 0;
        for (var round = 0; round < 300; round++)
        {
            using var batch = new WriteBatch();
            using var plain = new WriteBatch();
            var operations = random.Next(1, 40);
            for (var i = 0; i < operations; i++)
            {
                var other = random.Next(2) == 0;
                var key = System.Text.Encoding.ASCII.GetBytes("k" + random.Next(6));
                switch (random.Next(10))
                {
                    case < 5:
                        var value = System.Text.Encoding.ASCII.GetBytes($"v{round}.{i}");
                        batch.Put(key, value, other ? stores.Other1 : stores.Default1);
                        plain.Put(key, value, other ? stores.Other2 : stores.Default2);
                        break;
                    case < 8:
                        batch.Delete(key, other ? stores.Other1 : stores.Default1);
                        plain.Delete(key, other ? stores.Other2 : stores.Default2);
                        break;
                    case 8:
                        var end = System.Text.Encoding.ASCII.GetBytes("k" + random.Next(key[1] - '0', 7));
                        batch.DeleteRange(key, (ulong)key.Length, end, (ulong)end.Length, other ? stores.Other1 : stores.Default1);
                        plain.DeleteRange(key, (ulong)key.Length, end, (ulong)end.Length, other ? stores.Other2 : stores.Default2);
                        break;
                    default:
                        batch.PutLogData("|"u8.ToArray(), 1);
                        plain.PutLogData("|"u8.ToArray(), 1);
                        break;
                }
            }
            var output = new ArrayBufferWriter<byte>();
            var kept = WriteBatchCoalescing.Coalesce(batch.AsSpan()[WriteBatchFormat.HeaderSize..], output);
            if (kept >= 0)
            {
                droppedAny++;
                var rep = WriteBatchCoalescing.ToBatch(output.WrittenSpan, kept);
                using var coalesced = new WriteBatch(rep, rep.Length);
                Assert.True(coalesced.Count() < batch.Count());
                stores.Db1.Write(coalesced);
            }
            else
            {
                stores.Db1.Write(batch);
            }
            stores.Db2.Write(plain);
            Assert.Equal(stores.Contents(stores.Db2, stores.Default2, stores.Other2), stores.Contents(stores.Db1, stores.Default1, stores.Other1));
        }
        Assert.True(droppedAny > 100, $"only {droppedAny} batches had an overwritten record");
    }

    private static List<string> Describe(ReadOnlySpan<byte> records)
    {
        var result = new List<string>();
        var pos = 0;
        while (pos < records.Length)
        {
            var tag = records[pos++];
            var family = WriteBatchFormat.HasFamilyId(tag) ? WriteBatchFormat.ReadVarint(records, ref pos) : 0;
            var first = System.Text.Encoding.ASCII.GetString(WriteBatchFormat.ReadSlice(records, ref pos));
            result.Add(tag switch
            {
                0 or 4 => $"delete {family} {first}",
                1 or 5 => $"put {family} {first}={System.Text.Encoding.ASCII.GetString(WriteBatchFormat.ReadSlice(records, ref pos))}",
                3 => $"log {first}",
                14 or 15 => $"range {family} {first}..{System.Text.Encoding.ASCII.GetString(WriteBatchFormat.ReadSlice(records, ref pos))}",
                _ => $"tag {tag}",
            });
        }
        return result;
    }

    /// <summary>Two plain RocksDB stores, each with the default column family and one more.</summary>
    private sealed class TwoStores : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "talus-coalesce-" + Guid.NewGuid().ToString("N"));

        public TwoStores()
        {
            Db1 = Open("1");
            Db2 = Open("2");
            Default1 = Db1.GetDefaultColumnFamily();
            Other1 = Db1.GetColumnFamily("other");
            Default2 = Db2.GetDefaultColumnFamily();
            Other2 = Db2.GetColumnFamily("other");
        }

        public RocksDb Db1 { get; }
        public RocksDb Db2 { get; }
        public ColumnFamilyHandle Default1 { get; }
        public ColumnFamilyHandle Other1 { get; }
        public ColumnFamilyHandle Default2 { get; }
        public ColumnFamilyHandle Other2 { get; }

        public string Contents(RocksDb db, params ColumnFamilyHandle[] families)
        {
            var text = new System.Text.StringBuilder();
            foreach (var family in families)
            {
                using var it = db.NewIterator(family);
                for (it.SeekToFirst(); it.Valid(); it.Next())
                {
                    text.Append(it.StringKey()).Append('=').Append(it.StringValue()).Append(' ');
                }
                text.Append("| ");
            }
            return text.ToString();
        }

        private RocksDb Open(string name)
        {
            Directory.CreateDirectory(_path);
            var options = new DbOptions().SetCreateIfMissing(true).SetCreateMissingColumnFamilies(true);
            var families = new ColumnFamilies { { "other", new ColumnFamilyOptions() } };
            return RocksDb.Open(options, Path.Combine(_path, name), families);
        }

        public void Dispose()
        {
            Db1.Dispose();
            Db2.Dispose();
            try
            {
                Directory.Delete(_path, true);
            }
            catch (IOException)
            {
            }
        }
    }
}
