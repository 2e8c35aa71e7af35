using System.Buffers.Binary;

namespace Talus.Storage.Encoding;

/// <summary>
/// The metadata value stored for every key in the <c>meta</c> column family. All integers little-endian.
/// <code>
///  offset  size  field
///  0       1     type            RedisType (on disk)
///  1       1     format          0 (reserved for encoding variants)
///  2       8     expire-at       unix milliseconds, 0 = no expiry
///  ----- String: payload follows at offset 10 -----
///  10      8     version         collections only: sub-keys carry it; a new version orphans old sub-keys
///  18      8     size            collections only: element count
///  ----- List only -----
///  26      8     head            index of the first element (starts at 2^63, grows down on LPUSH)
///  34      8     tail            index one past the last element (grows up on RPUSH)
/// </code>
/// </summary>
public struct Metadata
{
    public const int HeaderSize = 10;
    public const int CollectionSize = 26;
    public const int ListSize = 42;

    /// <summary>First element index of an empty list: the middle of the range, so both ends can grow.</summary>
    public const ulong ListInitialIndex = 1UL << 63;

    public RedisType Type;
    public long ExpireAtMs;
    public ulong Version;
    public long Size;
    public ulong Head;
    public ulong Tail;

    public readonly bool HasExpiry => ExpireAtMs > 0;

    public readonly bool IsExpired(long nowMs) => IsExpiredAt(ExpireAtMs, nowMs);

    /// <summary>Whether an expiry of <paramref name="expireAtMs"/> (0 = none) has passed at <paramref name="nowMs"/>.</summary>
    public static bool IsExpiredAt(long expireAtMs, long nowMs) => expireAtMs > 0 && expireAtMs <= nowMs;

    public readonly int EncodedLength => Type switch
    {
        RedisType.String => HeaderSize,
        RedisType.List => ListSize,
        _ => CollectionSize,
    };

    public static Metadata NewCollection(RedisType type, ulong version) => new()
    {
        Type = type,
        Version = version,
        Head = ListInitialIndex,
        Tail = ListInitialIndex,
    };

    /// <summary>Decodes a metadata value; false when it is too short or its type unknown (corruption).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> value, out Metadata meta)
    {
        meta = default;
        if (value.Length < HeaderSize || value[0] is 0 or > (byte)RedisType.ZSet)
        {
            return false;
        }
        meta.Type = (RedisType)value[0];
        meta.ExpireAtMs = BinaryPrimitives.ReadInt64LittleEndian(value[2..]);
        if (meta.Type == RedisType.String)
        {
            return true;
        }
        if (value.Length < CollectionSize)
        {
            return false;
        }
        meta.Version = BinaryPrimitives.ReadUInt64LittleEndian(value[10..]);
        meta.Size = BinaryPrimitives.ReadInt64LittleEndian(value[18..]);
        if (meta.Type == RedisType.List)
        {
            if (value.Length < ListSize)
            {
                return false;
            }
            meta.Head = BinaryPrimitives.ReadUInt64LittleEndian(value[26..]);
            meta.Tail = BinaryPrimitives.ReadUInt64LittleEndian(value[34..]);
        }
        return true;
    }

    /// <summary>Writes the header (and collection fields) into <paramref name="destination"/>; returns the bytes written.</summary>
    public readonly int Encode(Span<byte> destination)
    {
        destination[0] = (byte)Type;
        destination[1] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(destination[2..], ExpireAtMs);
        if (Type == RedisType.String)
        {
            return HeaderSize;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(destination[10..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[18..], Size);
        if (Type != RedisType.List)
        {
            return CollectionSize;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(destination[26..], Head);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[34..], Tail);
        return ListSize;
    }

    public readonly byte[] ToArray()
    {
        var bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Reads only the expiry from an encoded value (compaction filter fast path).</summary>
    public static long ReadExpireAt(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize ? BinaryPrimitives.ReadInt64LittleEndian(value[2..]) : 0;
}
