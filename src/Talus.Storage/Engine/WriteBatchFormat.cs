using System.Buffers;
using System.Buffers.Binary;

namespace Talus.Storage.Engine;

/// <summary>
/// RocksDB's WriteBatch representation (write_batch.cc), which is also a WAL record and a binlog chunk: a
/// 12-byte header (sequence, count; little-endian), then records of a tag byte, a varint32 column family id
/// for the CF tags, and varint32-length-prefixed slices. Every record but log data takes one sequence number.
/// <para>
/// Every batch the engine writes ends with <see cref="BoundaryMarker"/>, a log-data record (tag 3): it takes
/// no sequence number and RocksDB applies nothing for it, but it stays in the WAL. A replica applies several
/// of its master's batches as one batch of its own, and the markers inside keep the places where whole
/// commands end; a binlog stream may start at any of them (docs/replication.md, "Batch boundaries").
/// </para>
/// </summary>
public static class WriteBatchFormat
{
    /// <summary>Bytes before the first record: the sequence (8) and the record count (4).</summary>
    public const int HeaderSize = 12;

    /// <summary>Record tag of log data.</summary>
    public const byte LogDataTag = 3;

    /// <summary>The log-data blob that ends every batch the engine writes.</summary>
    public static ReadOnlySpan<byte> BoundaryMarker => "|"u8;

    /// <summary>The record count in a representation's header (log data not counted).</summary>
    public static uint Count(ReadOnlySpan<byte> rep) => BinaryPrimitives.ReadUInt32LittleEndian(rep[8..HeaderSize]);

    /// <summary>
    /// Appends the boundary marker as a record (tag, varint32 length, blob), as <c>PutLogData</c> would, to a
    /// representation built by hand (the committer's batch of several groups).
    /// </summary>
    public static void WriteBoundaryMarker(IBufferWriter<byte> output)
    {
        var marker = BoundaryMarker;
        var span = output.GetSpan(2 + marker.Length);
        span[0] = LogDataTag;
        span[1] = (byte)marker.Length; // a varint32 of one byte: the marker is shorter than 128 bytes
        marker.CopyTo(span[2..]);
        output.Advance(2 + marker.Length);
    }

    public static uint ReadVarint(ReadOnlySpan<byte> data, scoped ref int pos)
    {
        uint result = 0;
        for (var shift = 0; shift <= 28; shift += 7)
        {
            var b = data[pos++];
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw new InvalidDataException("bad varint in write batch");
    }

    /// <summary>A length-prefixed slice at <paramref name="pos"/>, which moves past it.</summary>
    public static ReadOnlySpan<byte> ReadSlice(ReadOnlySpan<byte> data, scoped ref int pos)
    {
        var length = (int)ReadVarint(data, ref pos);
        var slice = data.Slice(pos, length);
        pos += length;
        return slice;
    }

    /// <summary>Whether a record's tag is followed by a column family id.</summary>
    public static bool HasFamilyId(byte tag) => tag is 4 or 5 or 6 or 8 or 14;

    /// <summary>
    /// Reads the record at <paramref name="pos"/> (which moves past it): where it lies and what it holds. Throws
    /// <see cref="InvalidDataException"/> on a tag it does not know.
    /// </summary>
    public static WriteBatchRecord ReadRecord(ReadOnlySpan<byte> records, scoped ref int pos)
    {
        var start = pos;
        var tag = records[pos++];
        var family = HasFamilyId(tag) ? ReadVarint(records, ref pos) : 0u;
        // Through ReadSlice, which fails as it always did on a record that runs past the end.
        var keyLength = ReadSlice(records, ref pos).Length;
        var keyStart = pos - keyLength;
        int valueStart = -1, valueLength = 0;
        switch (tag)
        {
            case 0 or 4 or 7 or 8: // deletion, single deletion: the key only
            case LogDataTag: // log data: one slice, read as the key
                break;
            case 1 or 2 or 5 or 6 or 14 or 15: // put, merge: key and value; range deletion: begin and end
                valueLength = ReadSlice(records, ref pos).Length;
                valueStart = pos - valueLength;
                break;
            default:
                throw new InvalidDataException($"write batch record tag {tag} not understood");
        }
        return new WriteBatchRecord(start, pos, tag, family, keyStart, keyLength, valueStart, valueLength);
    }
}

/// <summary>
/// One record of a batch representation, as offsets into it: the whole record [Start, End), its tag, its column
/// family id (0 when the tag names none), its key, and its value (the range end of a range deletion; -1 for a
/// deletion or log data).
/// </summary>
public readonly record struct WriteBatchRecord(int Start, int End, byte Tag, uint Family, int KeyStart, int KeyLength, int ValueStart, int ValueLength);
