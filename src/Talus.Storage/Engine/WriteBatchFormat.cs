namespace Talus.Storage.Engine;

/// <summary>
/// Reading RocksDB's WriteBatch representation (write_batch.cc): a 12-byte header (sequence, count), then
/// records of a tag byte, a varint32 column family id for the CF tags, and varint32-length-prefixed slices.
/// </summary>
public static class WriteBatchFormat
{
    /// <summary>Bytes before the first record: the sequence (8) and the record count (4), little-endian.</summary>
    public const int HeaderSize = 12;

    public static uint ReadVarint(ReadOnlySpan<byte> data, ref int pos)
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
    public static ReadOnlySpan<byte> ReadSlice(ReadOnlySpan<byte> data, ref int pos)
    {
        var length = (int)ReadVarint(data, ref pos);
        var slice = data.Slice(pos, length);
        pos += length;
        return slice;
    }
}
