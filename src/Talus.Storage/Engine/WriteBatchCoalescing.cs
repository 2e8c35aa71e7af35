using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;

namespace Talus.Storage.Engine;

/// <summary>
/// Drops the records of a batch that a later record of the same batch overwrites, before the batch is written.
/// A group of sixteen pipelined HSETs on one key rewrites the key's metadata sixteen times; only the last of
/// those puts can ever be read, and every one of them would cost a memtable insert, WAL bytes and a replica's
/// apply. The batch stays one atomic write with the same final state, so the binlog still holds whole command
/// groups (the offsets are the sequence numbers of the records that are written).
/// <para>
/// A record is dropped only when it is a put or a deletion and a LATER put or deletion of the same key in the
/// same column family exists. Everything else is kept in its order: merges, single deletions, range deletions
/// and log data (boundary markers). So the result reads the same as the input at every key: the last put or
/// deletion of a key decides it either way, and a range deletion between two puts of a key is overridden by the
/// second put in both.
/// </para>
/// </summary>
public static class WriteBatchCoalescing
{
    /// <summary>
    /// Copies the records of <paramref name="records"/> (a batch without its header) that no later record
    /// overwrites into <paramref name="output"/>, in order, and returns how many sequence-taking records were
    /// kept; returns -1 and writes nothing when no record is overwritten (the batch can be written as it is).
    /// </summary>
    public static int Coalesce(ReadOnlySpan<byte> records, ArrayBufferWriter<byte> output)
    {
        var bounds = ArrayPool<WriteBatchRecord>.Shared.Rent(16);
        var table = Array.Empty<int>();
        var keep = Array.Empty<bool>();
        try
        {
            var count = Parse(records, ref bounds);
            if (count < 2)
            {
                return -1;
            }
            var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)count * 2);
            table = ArrayPool<int>.Shared.Rent(capacity);
            Array.Clear(table, 0, capacity);
            keep = ArrayPool<bool>.Shared.Rent(count);
            var dropped = 0;
            // Backwards: the table holds, per key, a later record that decides it (a put or a deletion).
            for (var i = count - 1; i >= 0; i--)
            {
                ref readonly var record = ref bounds[i];
                keep[i] = true;
                if (!Decides(record.Tag))
                {
                    continue;
                }
                var key = records.Slice(record.KeyStart, record.KeyLength);
                var slot = (int)(XxHash3.HashToUInt64(key, record.Family) & (uint)(capacity - 1));
                while (true)
                {
                    var entry = table[slot];
                    if (entry == 0)
                    {
                        table[slot] = i + 1;
                        break;
                    }
                    ref readonly var later = ref bounds[entry - 1];
                    if (later.Family == record.Family && records.Slice(later.KeyStart, later.KeyLength).SequenceEqual(key))
                    {
                        keep[i] = false;
                        dropped++;
                        break;
                    }
                    slot = (slot + 1) & (capacity - 1);
                }
            }
            if (dropped == 0)
            {
                return -1;
            }
            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                if (!keep[i])
                {
                    continue;
                }
                ref readonly var record = ref bounds[i];
                output.Write(records[record.Start..record.End]);
                if (record.Tag != WriteBatchFormat.LogDataTag)
                {
                    kept++;
                }
            }
            return kept;
        }
        finally
        {
            ArrayPool<WriteBatchRecord>.Shared.Return(bounds);
            if (table.Length != 0)
            {
                ArrayPool<int>.Shared.Return(table);
            }
            if (keep.Length != 0)
            {
                ArrayPool<bool>.Shared.Return(keep);
            }
        }
    }

    /// <summary>Writes a batch representation (header with a zero sequence and <paramref name="count"/>, then the records).</summary>
    public static byte[] ToBatch(ReadOnlySpan<byte> records, int count)
    {
        var rep = new byte[WriteBatchFormat.HeaderSize + records.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(rep.AsSpan(8), (uint)count);
        records.CopyTo(rep.AsSpan(WriteBatchFormat.HeaderSize));
        return rep;
    }

    /// <summary>A put or a deletion: the record that decides its key's value.</summary>
    private static bool Decides(byte tag) => tag is 0 or 1 or 4 or 5;

    private static int Parse(ReadOnlySpan<byte> records, ref WriteBatchRecord[] bounds)
    {
        var count = 0;
        var pos = 0;
        while (pos < records.Length)
        {
            var record = WriteBatchFormat.ReadRecord(records, ref pos);
            if (count == bounds.Length)
            {
                var larger = ArrayPool<WriteBatchRecord>.Shared.Rent(count * 2);
                bounds.AsSpan(0, count).CopyTo(larger);
                ArrayPool<WriteBatchRecord>.Shared.Return(bounds);
                bounds = larger;
            }
            bounds[count++] = record;
        }
        return count;
    }
}
