using System.Buffers.Binary;
using Talus.Storage.Engine;

namespace Talus.Replication.Binlog;

/// <summary>
/// Finds where a binlog stream may start inside a WriteBatch representation (<see cref="WriteBatchFormat"/>).
/// A batch's first record is always such a place; any other record is one only when a boundary marker
/// directly precedes it, which is where one of the batches merged into this one ended. Starting anywhere
/// else could split a command (an EXEC, say), so those offsets are not served (rule 2: a full sync instead).
/// </summary>
public static class WriteBatchRecords
{
    /// <summary>
    /// Whether the record <paramref name="skip"/> sequence numbers after the batch's first one starts whole
    /// commands. Throws <see cref="InvalidDataException"/> on a record it cannot read.
    /// </summary>
    public static bool StartsCommands(ReadOnlySpan<byte> rep, ulong skip) => Find(rep, skip) >= 0;

    /// <summary>
    /// The batch from the record <paramref name="skip"/> sequence numbers in, renumbered to start there; null
    /// when that record does not start whole commands (see <see cref="StartsCommands"/>).
    /// </summary>
    public static byte[]? Suffix(ReadOnlySpan<byte> rep, ulong skip)
    {
        var pos = Find(rep, skip);
        if (pos < 0)
        {
            return null;
        }
        var result = new byte[WriteBatchFormat.HeaderSize + rep.Length - pos];
        BinaryPrimitives.WriteUInt64LittleEndian(result, BinaryPrimitives.ReadUInt64LittleEndian(rep) + skip);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), WriteBatchFormat.Count(rep) - (uint)skip);
        rep[pos..].CopyTo(result.AsSpan(WriteBatchFormat.HeaderSize));
        return result;
    }

    /// <summary>The byte position of the record <paramref name="skip"/> in, or -1 when it does not start whole commands.</summary>
    private static int Find(ReadOnlySpan<byte> rep, ulong skip)
    {
        if (rep.Length < WriteBatchFormat.HeaderSize)
        {
            throw new InvalidDataException("write batch shorter than its header");
        }
        var count = WriteBatchFormat.Count(rep);
        if (skip >= count)
        {
            throw new InvalidDataException($"cannot skip {skip} of {count} records");
        }
        var pos = WriteBatchFormat.HeaderSize;
        for (ulong skipped = 0; skipped < skip;)
        {
            skipped += SkipRecord(rep, ref pos, out _) ? 1UL : 0UL;
        }
        // Now just past the last skipped record: a marker among the log data that follows it ends a batch there.
        var afterMarker = skip == 0;
        while (!afterMarker && pos < rep.Length && rep[pos] == WriteBatchFormat.LogDataTag)
        {
            SkipRecord(rep, ref pos, out afterMarker);
        }
        return afterMarker ? pos : -1;
    }

    /// <summary>Moves past one record; true when it takes a sequence number.</summary>
    private static bool SkipRecord(ReadOnlySpan<byte> rep, ref int pos, out bool marker)
    {
        marker = false;
        if (pos >= rep.Length)
        {
            throw new InvalidDataException("write batch ended before the records to skip");
        }
        var record = WriteBatchFormat.ReadRecord(rep, ref pos);
        if (record.Tag != WriteBatchFormat.LogDataTag)
        {
            return true;
        }
        marker = rep.Slice(record.KeyStart, record.KeyLength).SequenceEqual(WriteBatchFormat.BoundaryMarker);
        return false;
    }
}
