using Microsoft.Extensions.Logging.Abstractions;
using RocksDbSharp;
using Talus.Replication.Binlog;
using Talus.Replication.Master;
using Talus.Storage;
using Talus.Storage.Engine;
using Talus.TestKit;

namespace Talus.Replication.Tests;

/// <summary>
/// A real master-side dataset on a temp directory, the source of everything <see cref="FakeMaster"/> serves:
/// its snapshots are made by the master's own <see cref="SnapshotManager"/> (checkpoint, lineage read back
/// from the checkpoint, manifest with XxHash128 checksums) and its binlog chunks are read with
/// <see cref="BinlogTail"/>, exactly as the real master reads them.
/// </summary>
internal sealed class MasterDataset : IDisposable
{
    public const int Databases = 4;

    private readonly TempDirectory _dir = new("talus-fake-master");

    private MasterDataset()
    {
        Dataset = Dataset.Open(Options(Path.Combine(_dir.Path, "db")), NullLogger.Instance);
        Pins = new BinlogPins(NullLogger.Instance);
        Snapshots = new SnapshotManager(() => Dataset.Engine, Path.Combine(_dir.Path, "sync-snapshots"), Pins, NullLogger.Instance);
    }

    public Dataset Dataset { get; }

    public StorageEngine Engine => Dataset.Engine;

    public BinlogPins Pins { get; }

    public SnapshotManager Snapshots { get; }

    public Lineage Lineage => LineageStore.Read(Engine);

    /// <summary>The storage options both fake nodes use: small caches, no fsync (the lineage writes sync anyway).</summary>
    public static StorageOptions Options(string path) => new()
    {
        Path = path,
        Databases = Databases,
        Fsync = FsyncPolicy.No,
        BlockCacheBytes = 4 << 20,
        WriteBufferBytes = 4 << 20,
        MaxBackgroundJobs = 2,
    };

    /// <summary>A master with a new history and <paramref name="keysPerDb"/> strings in each of the first three databases.</summary>
    public static MasterDataset Create(int keysPerDb = 300)
    {
        var master = new MasterDataset();
        LineageStore.StartNewHistory(master.Engine);
        master.WriteKeys("k", keysPerDb);
        return master;
    }

    /// <summary>Writes <paramref name="count"/> strings per database (one batch each), every tenth with an expiry an hour away.</summary>
    public void WriteKeys(string prefix, int count, int databases = 3)
    {
        var expireAt = Database.NowMs + 3_600_000;
        for (var db = 0; db < databases; db++)
        {
            for (var i = 0; i < count; i++)
            {
                var value = $"{prefix}-value-{db}-{i}-" + new string((char)('a' + (i % 26)), 40 + (i % 50));
                Set(db, $"{prefix}:{db}:{i}", value, i % 10 == 0 ? expireAt : 0);
            }
        }
    }

    public void Set(int db, string key, string value, long expireAtMs = 0) =>
        Dataset[db].Strings.Set(System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(value), expireAtMs);

    public void Delete(int db, string key) => Dataset[db].Keys.Delete(System.Text.Encoding.UTF8.GetBytes(key));

    /// <summary>Every binlog chunk available from <paramref name="from"/> on, in order (what the master would stream).</summary>
    public List<BinlogChunk> ChunksFrom(ulong from)
    {
        var chunks = new List<BinlogChunk>();
        using var tail = new BinlogTail(Engine, from);
        while (tail.TryRead() is { } chunk)
        {
            chunks.Add(chunk);
        }
        Assert.True(chunks.Count == 0 || chunks[^1].Next == Engine.LatestSequence + 1,
            $"the binlog from {from} should reach the latest offset {Engine.LatestSequence}");
        return chunks;
    }

    /// <summary>Runs one write and returns the single chunk that carries it (for tests that reorder or repeat chunks).</summary>
    public BinlogChunk WriteOneChunk(Action<MasterDataset> write)
    {
        var from = Engine.LatestSequence + 1;
        write(this);
        var chunks = ChunksFrom(from);
        Assert.Single(chunks);
        return chunks[0];
    }

    /// <summary>All entries of the data column families (meta, sub, zscore), raw, in key order.</summary>
    public static List<string> Contents(StorageEngine engine)
    {
        var entries = new List<string>();
        foreach (var (name, family) in new[] { ("meta", engine.Meta), ("sub", engine.Sub), ("zscore", engine.ZScore) })
        {
            using Iterator it = engine.NewIterator(family, null, null);
            for (it.SeekToFirst(); it.Valid(); it.Next())
            {
                entries.Add($"{name} {Convert.ToHexString(it.Key())} = {Convert.ToHexString(it.Value())}");
            }
        }
        return entries;
    }

    public void Dispose()
    {
        Snapshots.Dispose();
        Dataset.Dispose();
        _dir.Dispose();
    }
}
