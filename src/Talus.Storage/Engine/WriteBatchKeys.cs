using RocksDbSharp;
using Talus.Storage.Encoding;

namespace Talus.Storage.Engine;

/// <summary>
/// Which user keys a WriteBatch representation changes, read back from its records (<see cref="WriteBatchFormat"/>):
/// a replica receives its writes as batches, not commands, and still has to tell WATCH which keys changed.
/// </summary>
public static class WriteBatchKeys
{
    /// <summary>A changed key of logical database <paramref name="db"/> (the same key may come more than once).</summary>
    public delegate void KeyVisitor(int db, ReadOnlySpan<byte> userKey);

    /// <summary>
    /// Calls <paramref name="onKey"/> for every put or delete in `meta`, `sub` and `zscore`, and
    /// <paramref name="onDatabase"/> for a range deletion that is not inside one key's elements (FLUSHDB,
    /// FLUSHALL; -1 when it names no database). Throws <see cref="InvalidDataException"/> on a record it cannot read.
    /// </summary>
    public static void Visit(StorageEngine engine, ReadOnlySpan<byte> rep, KeyVisitor onKey, Action<int> onDatabase)
    {
        var meta = Id(engine.Meta);
        var sub = Id(engine.Sub);
        var zscore = Id(engine.ZScore);
        var pos = WriteBatchFormat.HeaderSize;
        while (pos < rep.Length)
        {
            var tag = rep[pos++];
            var family = WriteBatchFormat.HasFamilyId(tag) ? WriteBatchFormat.ReadVarint(rep, ref pos) : 0u;
            ReadOnlySpan<byte> key;
            switch (tag)
            {
                case 0 or 4 or 7 or 8: // deletion, single deletion
                    key = WriteBatchFormat.ReadSlice(rep, ref pos);
                    break;
                case 1 or 5 or 2 or 6: // value, merge
                    key = WriteBatchFormat.ReadSlice(rep, ref pos);
                    WriteBatchFormat.ReadSlice(rep, ref pos);
                    break;
                case 14 or 15: // range deletion [begin, end)
                    var begin = WriteBatchFormat.ReadSlice(rep, ref pos);
                    WriteBatchFormat.ReadSlice(rep, ref pos);
                    if ((family == sub || family == zscore) && KeyCodec.TryDecodeSubKey(begin, out var rangeDb, out var rangeKey, out _, out _))
                    {
                        onKey(rangeDb, rangeKey);
                    }
                    else if (family == meta || family == sub || family == zscore)
                    {
                        onDatabase(begin.IsEmpty ? -1 : begin[0]);
                    }
                    continue;
                case WriteBatchFormat.LogDataTag:
                    WriteBatchFormat.ReadSlice(rep, ref pos);
                    continue;
                default:
                    throw new InvalidDataException($"write batch record tag {tag} not understood");
            }
            if (family == meta && !key.IsEmpty)
            {
                onKey(key[0], key[1..]);
            }
            else if ((family == sub || family == zscore) && KeyCodec.TryDecodeSubKey(key, out var db, out var userKey, out _, out _))
            {
                onKey(db, userKey);
            }
        }
    }

    private static uint Id(ColumnFamilyHandle family) => Native.Instance.rocksdb_column_family_handle_get_id(family.Handle);
}
