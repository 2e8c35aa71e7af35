using System.Buffers.Binary;
using Talus.Storage.Engine;

namespace Talus.Replication.Binlog;

/// <summary>
/// Cuts a RocksDB WriteBatch representation (write_batch.cc: a 12-byte header of sequence and count, then
/// records of a tag byte, a column family id for the CF tags, and varint32-length-prefixed key and value or
/// range end) after its first records, so a binlog stream can start inside a batch (see
/// <see cref="BinlogTail.Holds"/>). Every record but log data takes one sequence number.
/// </summary>
public static class WriteBatchRecords
{
    /// <summary>
    /// The batch without its first <paramref name="skip"/> sequence-consuming records, renumbered to start at
    /// <paramref name="sequence"/>. Throws <see cref="InvalidDataException"/> on a record it does not know.
    /// </summary>
    public static byte[] Suffix(ReadOnlySpan<byte> rep, ulong skip, ulong sequence)
    {
        if (rep.Length < WriteBatchFormat.HeaderSize)
        {
            throw new InvalidDataException("write batch shorter than its header");
        }
        var count = BinaryPrimitives.ReadUInt32LittleEndian(rep[8..WriteBatchFormat.HeaderSize]);
        if (skip >= count)
        {
            throw new InvalidDataException($"cannot skip {skip} of {count} records");
        }
        var pos = WriteBatchFormat.HeaderSize;
        for (ulong skipped = 0; skipped < skip;)
        {
            if (SkipRecord(rep, ref pos))
            {
                skipped++;
            }
        }
        var result = new byte[WriteBatchFormat.HeaderSize + rep.Length - pos];
        BinaryPrimitives.WriteUInt64LittleEndian(result, sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), count - (uint)skip);
        rep[pos..].CopyTo(result.AsSpan(WriteBatchFormat.HeaderSize));
        return result;
    }

    /// <summary>Moves past one record; true when it takes a sequence number.</summary>
    private static bool SkipRecord(ReadOnlySpan<byte> rep, ref int pos)
    {
        if (pos >= rep.Length)
        {
            throw new InvalidDataException("write batch ended before the records to skip");
        }
        var tag = rep[pos++];
        if (tag is 4 or 5 or 6 or 8 or 14)
        {
            WriteBatchFormat.ReadVarint(rep, ref pos); // column family id
        }
        switch (tag)
        {
            case 0 or 4 or 7 or 8: // deletion, single deletion: key
                WriteBatchFormat.ReadSlice(rep, ref pos);
                return true;
            case 1 or 5 or 2 or 6 or 14 or 15: // value, merge: key and value; range deletion: begin and end
                WriteBatchFormat.ReadSlice(rep, ref pos);
                WriteBatchFormat.ReadSlice(rep, ref pos);
                return true;
            case 3: // log data: a blob, no sequence number
                WriteBatchFormat.ReadSlice(rep, ref pos);
                return false;
            default:
                throw new InvalidDataException($"write batch record tag {tag} cannot be skipped");
        }
    }
}
