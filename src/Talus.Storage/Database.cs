using Talus.Storage.Encoding;
using Talus.Storage.Engine;
using Talus.Storage.Types;

namespace Talus.Storage;

/// <summary>What a read of a key's metadata found.</summary>
public enum KeyLookup
{
    Missing, // no key, or its expiry has passed (expired keys are invisible at once)
    Found,   // a live key of the expected type (or of any type, for type-agnostic lookups)
    WrongType, // a live key of another type
}

/// <summary>
/// One logical database (SELECT n). Holds the per-type views; each view encodes its own type
/// (one file per type under Types/).
/// </summary>
public sealed class Database
{
    [ThreadStatic]
    private static byte[]? _keyBuffer;

    internal Database(Dataset dataset, int index)
    {
        Dataset = dataset;
        Index = index;
        Strings = new RedisString(this);
        Keys = new Keyspace(this);
        Hashes = new RedisHash(this);
        Sets = new RedisSet(this);
        Lists = new RedisList(this);
        ZSets = new RedisZSet(this);
        HyperLogLogs = new RedisHyperLogLog(this);
    }

    public Dataset Dataset { get; }

    public int Index { get; }

    public StorageEngine Engine => Dataset.Engine;

    public KeyLocks Locks => Dataset.Locks;

    public RedisString Strings { get; }

    public Keyspace Keys { get; }

    public RedisHash Hashes { get; }

    public RedisSet Sets { get; }

    public RedisList Lists { get; }

    public RedisZSet ZSets { get; }

    public RedisHyperLogLog HyperLogLogs { get; }

    public static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Builds the meta key of <paramref name="userKey"/> in a per-thread buffer (valid until the next call on this thread).</summary>
    public ReadOnlySpan<byte> MetaKeySpan(ReadOnlySpan<byte> userKey)
    {
        var needed = KeyCodec.MetaKeyLength(userKey);
        var buffer = _keyBuffer is { } b && b.Length >= needed ? b : (_keyBuffer = new byte[Math.Max(needed, 512)]);
        var n = KeyCodec.EncodeMetaKey(Index, userKey, buffer);
        return buffer.AsSpan(0, n);
    }

    public byte[] MetaKey(ReadOnlySpan<byte> userKey) => KeyCodec.MetaKey(Index, userKey);

    /// <summary>
    /// Reads a key's metadata and raw value, hiding expired keys. <paramref name="raw"/> is the whole
    /// encoded value in a per-thread buffer, valid until the next read on this thread.
    /// </summary>
    public KeyLookup Lookup(ReadOnlySpan<byte> userKey, RedisType expected, out Metadata meta, out ReadOnlySpan<byte> raw)
    {
        // The clock is read only for keys that carry an expiry: most lookups never need it.
        if (!Engine.TryGet(Engine.Meta, MetaKeySpan(userKey), out raw) || !Metadata.TryDecode(raw, out meta) || (meta.HasExpiry && meta.IsExpired(NowMs)))
        {
            meta = default;
            raw = default;
            return KeyLookup.Missing;
        }
        return expected == RedisType.None || meta.Type == expected ? KeyLookup.Found : KeyLookup.WrongType;
    }
}
