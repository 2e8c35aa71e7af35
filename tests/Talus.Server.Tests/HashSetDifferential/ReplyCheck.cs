namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>How the replies of Talus and redis-server to one command are compared.</summary>
internal enum ReplyCheck
{
    Exact,              // byte for byte
    Unordered,          // same header; elements compared as a multiset (SMEMBERS, HKEYS, SINTER ...)
    UnorderedPairs,     // same header; field/value pairs compared as a multiset (HGETALL, flat or RESP3 map)
    ScanUnordered,      // [cursor, members]: cursor byte for byte, members as a multiset
    ScanUnorderedPairs, // [cursor, field/value pairs]: cursor byte for byte, pairs as a multiset
    Approximate,        // TTL: integers within the time skew the two servers can have (they run each batch at their own pace)
    Random,             // HRANDFIELD, SRANDMEMBER, SPOP: properties checked against the snapshot reply just before it
}
