using Microsoft.Extensions.Logging;
using Talus.Storage;
using Talus.Storage.Engine;
using Talus.Storage.Types;

namespace Talus.Server.Host;

/// <summary>
/// The key counts of INFO keyspace. Counting walks every metadata record, O(keys), and monitoring asks for INFO
/// often (Sentinel every 10 s per node, every second during a failover), so INFO must not walk a large dataset
/// on the caller's thread. A dataset of up to <see cref="OnTheSpot"/> records is counted on the spot (exact, a
/// few milliseconds). A larger one is counted in the background, in slices of <see cref="Slice"/> records that
/// each hold the execution gate shared, as a command does, so a dataset swap waits for one slice at most; a walk
/// that finds the engine replaced is abandoned. INFO then reports the last completed count, and starts a new
/// one when that is older than <see cref="MaxAge"/>. Until the first count of a large dataset completes, INFO
/// lists no database. DBSIZE stays exact and O(keys).
/// </summary>
public sealed class KeyspaceStats(ServerContext server, ILogger logger)
{
    /// <summary>Datasets of at most this many metadata records are counted by INFO itself.</summary>
    public const int OnTheSpot = 100_000;

    /// <summary>Records counted per slice of a background count.</summary>
    public const int Slice = 50_000;

    /// <summary>A background count older than this is started again by the next INFO.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private Counts? _latest;
    private StorageEngine? _large;
    private int _counting;

    /// <summary>One count: live keys and keys with an expiry per database, and when the count ended.</summary>
    public sealed record Counts(StorageEngine Engine, long[] Keys, long[] Expires, DateTime TakenAt);

    /// <summary>
    /// The counts to report, or null while the first background count of a large dataset runs. The caller
    /// holds the execution gate shared (INFO is a command).
    /// </summary>
    public Counts? Read()
    {
        var engine = server.Dataset.Engine;
        var latest = _latest is { } l && ReferenceEquals(l.Engine, engine) ? l : null;
        if (!ReferenceEquals(_large, engine))
        {
            var n = server.Dataset.DatabaseCount;
            long[] keys = new long[n], expires = new long[n];
            if (Keyspace.CountSlice(engine, null, OnTheSpot, keys, expires, Database.NowMs) is null)
            {
                return _latest = new Counts(engine, keys, expires, DateTime.UtcNow);
            }
            _large = engine;
        }
        if (latest is null || DateTime.UtcNow - latest.TakenAt > MaxAge)
        {
            StartCount();
        }
        return latest;
    }

    /// <summary>After FLUSHDB or FLUSHALL: the next INFO counts again (on the spot when the dataset became small).</summary>
    public void Invalidate()
    {
        _latest = null;
        _large = null;
    }

    private void StartCount()
    {
        if (Interlocked.CompareExchange(ref _counting, 1, 0) != 0)
        {
            return;
        }
        _ = Task.Run(() =>
        {
            try
            {
                if (CountInSlices() is { } counts)
                {
                    _latest = counts;
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or RocksDbSharp.RocksDbException)
            {
                logger.LogWarning("Keyspace count abandoned: {Reason}", ex.Message);
            }
            finally
            {
                Volatile.Write(ref _counting, 0);
            }
        });
    }

    private Counts? CountInSlices()
    {
        var n = server.Dataset.DatabaseCount;
        long[] keys = new long[n], expires = new long[n];
        var now = Database.NowMs;
        StorageEngine? engine = null;
        byte[]? after = null;
        var gate = server.ExecutionGate;
        do
        {
            gate.EnterReadLock();
            try
            {
                var current = server.Dataset.Engine;
                engine ??= current;
                if (!ReferenceEquals(engine, current) || current.IsClosing)
                {
                    return null; // replaced by a full sync, or shutting down: the next INFO starts again
                }
                after = Keyspace.CountSlice(current, after, Slice, keys, expires, now);
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
        while (after is not null);
        return new Counts(engine, keys, expires, DateTime.UtcNow);
    }
}
