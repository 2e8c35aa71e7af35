using System.Buffers.Binary;

namespace Talus.Storage.Encoding;

/// <summary>
/// Key layouts of the column families. Integers in keys are big-endian so that RocksDB's bytewise order
/// is the logical order, and every key starts with the logical database number so a database is one
/// contiguous range.
/// <code>
/// meta   : | db (1) | user key (n) |                                            → Metadata (+ string payload)
/// sub    : | db (1) | key length (4, BE) | user key | version (8, BE) | field | → field value
/// zscore : | db (1) | key length (4, BE) | user key | version (8, BE) | score (8, sortable) | member | → empty
/// sys    : | ASCII name |                                                       → server records (format version, lineage)
/// </code>
/// The key length prefix keeps user key "a" with field "bc" apart from user key "ab" with field "c".
/// Sortable score: IEEE-754 bits, sign bit flipped for positives and all bits flipped for negatives.
/// </summary>
public static class KeyCodec
{
    /// <summary>Size of the sub-key prefix before the user key: db and key length.</summary>
    public const int SubKeyPrefixOverhead = 1 + 4;

    public static int MetaKeyLength(ReadOnlySpan<byte> userKey) => 1 + userKey.Length;

    public static int EncodeMetaKey(int db, ReadOnlySpan<byte> userKey, Span<byte> destination)
    {
        destination[0] = (byte)db;
        userKey.CopyTo(destination[1..]);
        return 1 + userKey.Length;
    }

    public static byte[] MetaKey(int db, ReadOnlySpan<byte> userKey)
    {
        var bytes = new byte[MetaKeyLength(userKey)];
        EncodeMetaKey(db, userKey, bytes);
        return bytes;
    }

    /// <summary>Prefix shared by all sub-keys of one key version: db, length, key, version.</summary>
    public static byte[] SubKeyPrefix(int db, ReadOnlySpan<byte> userKey, ulong version)
    {
        var bytes = new byte[SubKeyPrefixOverhead + userKey.Length + 8];
        WriteSubKeyPrefix(db, userKey, version, bytes);
        return bytes;
    }

    /// <summary>Writes <see cref="SubKeyPrefix"/> into <paramref name="destination"/> (at least as long); returns its length.</summary>
    public static int WriteSubKeyPrefix(int db, ReadOnlySpan<byte> userKey, ulong version, Span<byte> destination)
    {
        destination[0] = (byte)db;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)userKey.Length);
        userKey.CopyTo(destination[5..]);
        BinaryPrimitives.WriteUInt64BigEndian(destination[(5 + userKey.Length)..], version);
        return SubKeyPrefixOverhead + userKey.Length + 8;
    }

    public static byte[] SubKey(int db, ReadOnlySpan<byte> userKey, ulong version, ReadOnlySpan<byte> field)
    {
        var bytes = new byte[SubKeyPrefixOverhead + userKey.Length + 8 + field.Length];
        var prefixLength = WriteSubKeyPrefix(db, userKey, version, bytes);
        field.CopyTo(bytes.AsSpan(prefixLength));
        return bytes;
    }

    /// <summary>Splits a sub-key into its parts; false if malformed.</summary>
    public static bool TryDecodeSubKey(ReadOnlySpan<byte> subKey, out int db, out ReadOnlySpan<byte> userKey, out ulong version, out ReadOnlySpan<byte> field)
    {
        db = 0;
        userKey = default;
        version = 0;
        field = default;
        if (subKey.Length < SubKeyPrefixOverhead + 8)
        {
            return false;
        }
        db = subKey[0];
        var keyLength = BinaryPrimitives.ReadUInt32BigEndian(subKey[1..]);
        if (keyLength > subKey.Length - SubKeyPrefixOverhead - 8)
        {
            return false;
        }
        userKey = subKey.Slice(5, (int)keyLength);
        version = BinaryPrimitives.ReadUInt64BigEndian(subKey[(5 + (int)keyLength)..]);
        field = subKey[(5 + (int)keyLength + 8)..];
        return true;
    }

    /// <summary>The index a list element's sub-key ends with (big-endian, so that elements sort by index).</summary>
    public static ulong ListElementIndex(ReadOnlySpan<byte> elementKey) => BinaryPrimitives.ReadUInt64BigEndian(elementKey[^8..]);

    /// <summary>
    /// Iterator bounds of a list's live elements, the indices [head, tail) of one version: outside them lie only
    /// popped elements that compaction has yet to drop (docs/storage-format.md, "Lists").
    /// </summary>
    public static (byte[] Lower, byte[] Upper) ListElementBounds(int db, ReadOnlySpan<byte> userKey, ulong version, ulong head, ulong tail)
    {
        Span<byte> index = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(index, head);
        var lower = SubKey(db, userKey, version, index);
        BinaryPrimitives.WriteUInt64BigEndian(index, tail);
        return (lower, SubKey(db, userKey, version, index));
    }

    /// <summary>Maps a double onto 8 bytes whose unsigned big-endian order is the numeric order.</summary>
    public static void EncodeScore(double score, Span<byte> destination)
    {
        if (score == 0)
        {
            score = 0; // -0.0 and 0.0 sort as one value, as in Redis
        }
        var bits = (ulong)BitConverter.DoubleToInt64Bits(score);
        bits = (bits & (1UL << 63)) != 0 ? ~bits : bits | (1UL << 63);
        BinaryPrimitives.WriteUInt64BigEndian(destination, bits);
    }

    public static double DecodeScore(ReadOnlySpan<byte> source)
    {
        var bits = BinaryPrimitives.ReadUInt64BigEndian(source);
        bits = (bits & (1UL << 63)) != 0 ? bits & ~(1UL << 63) : ~bits;
        return BitConverter.Int64BitsToDouble((long)bits);
    }

    /// <summary>The smallest key greater than every key starting with <paramref name="prefix"/> (exclusive upper bound).</summary>
    public static byte[]? PrefixUpperBound(ReadOnlySpan<byte> prefix)
    {
        var bytes = prefix.ToArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] != 0xFF)
            {
                bytes[i]++;
                return bytes.AsSpan(0, i + 1).ToArray();
            }
        }
        return null; // all 0xFF: no upper bound
    }
}
