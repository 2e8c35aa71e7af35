namespace Talus.Storage.Encoding;

/// <summary>
/// The type of a key. These numbers are written to disk as the first byte of every metadata value:
/// never renumber one; pinned by StorageFormatTests.
/// </summary>
public enum RedisType : byte
{
    None = 0,   // no key (never persisted; used for "absent" in replies)
    String = 1, // payload inline after the metadata header
    Hash = 2,   // fields as sub-keys
    List = 3,   // elements as sub-keys indexed by a 64-bit position between head and tail
    Set = 4,    // members as sub-keys with empty values
    ZSet = 5,   // member→score sub-keys plus score→member keys in the zscore column family
}
