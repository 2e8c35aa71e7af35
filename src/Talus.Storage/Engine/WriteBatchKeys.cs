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
        var meta = engine.IdOf(engine.Meta);
        var sub = engine.IdOf(engine.Sub);
        var zscore = engine.IdOf(engine.ZScore);
        var pos = WriteBatchFormat.HeaderSize;
        while (pos < rep.Length)
        {
            var record = WriteBatchFormat.ReadRecord(rep, ref pos);
            var family = record.Family;
            var key = rep.Slice(record.KeyStart, record.KeyLength);
            if (record.Tag == WriteBatchFormat.LogDataTag)
            {
                continue;
            }
            if (record.Tag is 14 or 15) // range deletion [begin, end): the key is its beginning
            {
                if ((family == sub || family == zscore) && KeyCodec.TryDecodeSubKey(key, out var rangeDb, out var rangeKey, out _, out _))
                {
                    onKey(rangeDb, rangeKey);
                }
                else if (family == meta || family == sub || family == zscore)
                {
                    onDatabase(key.IsEmpty ? -1 : key[0]);
                }
                continue;
            }
            // A deletion, a value or a merge.
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
}
