using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// A dataset directory opened read-only (a snapshot being served, a full sync's staging copy being
/// verified): its sequence number and its sys records, without writing a byte to it.
/// </summary>
public sealed class ReadOnlyDataset : IDisposable
{
    private readonly RocksDb _db;
    private readonly ColumnFamilyHandle _sys;

    private ReadOnlyDataset(RocksDb db)
    {
        _db = db;
        _sys = db.GetColumnFamily(StorageFormat.SysFamily);
    }

    /// <summary>Opens <paramref name="path"/> read-only; throws RocksDbException when it is not a complete Talus dataset.</summary>
    public static ReadOnlyDataset Open(string path)
    {
        var options = new DbOptions().SetCreateIfMissing(false).SetCreateMissingColumnFamilies(false);
        var families = new ColumnFamilies
        {
            { StorageFormat.MetaFamily, new ColumnFamilyOptions() },
            { StorageFormat.SubFamily, new ColumnFamilyOptions() },
            { StorageFormat.ZScoreFamily, new ColumnFamilyOptions() },
            { StorageFormat.SysFamily, new ColumnFamilyOptions() },
        };
        return new ReadOnlyDataset(RocksDb.OpenReadOnly(options, path, families, false));
    }

    public ulong LatestSequence => _db.GetLatestSequenceNumber();

    public byte[]? GetSys(ReadOnlySpan<byte> key) => _db.Get(key, _sys);

    public void Dispose() => _db.Dispose();
}
