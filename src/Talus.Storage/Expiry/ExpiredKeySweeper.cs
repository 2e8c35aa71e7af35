using Microsoft.Extensions.Logging;
using RocksDbSharp;
using Talus.Storage.Encoding;

namespace Talus.Storage.Expiry;

/// <summary>
/// Active expiry on a master: walks the metadata in small steps and deletes keys whose expiry has passed,
/// each with an ordinary DEL batch, so the deletions reach replicas through the binlog (replicas never
/// expire keys themselves; they only hide them). Expired keys are already invisible to reads; this reclaims
/// them and keeps DBSIZE honest. Compaction reclaims whatever it has not reached yet.
/// </summary>
public sealed class ExpiredKeySweeper : IDisposable
{
    private const int KeysPerStep = 200;
    private readonly Dataset _dataset;
    private readonly ILogger _logger;
    private readonly Timer _timer;
    private byte[]? _resumeFrom;
    private int _running;

    public ExpiredKeySweeper(Dataset dataset, ILogger logger, TimeSpan period)
    {
        _dataset = dataset;
        _logger = logger;
        _timer = new Timer(_ => Step(), null, period, period);
    }

    /// <summary>Off on a replica: expiry there is the master's decision.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Total keys this sweeper deleted (INFO stats expired_keys).</summary>
    public long Expired => Interlocked.Read(ref _expired);

    private long _expired;

    /// <summary>Runs one step; returns the number of keys deleted.</summary>
    public int Step()
    {
        if (!Enabled || Interlocked.Exchange(ref _running, 1) == 1)
        {
            return 0;
        }
        try
        {
            return StepCore();
        }
        catch (Exception ex) when (ex is RocksDbException or ObjectDisposedException)
        {
            _logger.LogWarning(ex, "Expiry sweep step failed");
            return 0;
        }
        finally
        {
            Interlocked.Exchange(ref _running, 0);
        }
    }

    private int StepCore()
    {
        var engine = _dataset.Engine;
        var now = Database.NowMs;
        var candidates = new List<byte[]>();
        using (var it = engine.NewIterator(engine.Meta, null, null))
        {
            if (_resumeFrom is null)
            {
                it.SeekToFirst();
            }
            else
            {
                it.Seek(_resumeFrom);
            }
            var seen = 0;
            for (; it.Valid() && seen < KeysPerStep; it.Next(), seen++)
            {
                var expireAt = Metadata.ReadExpireAt(it.GetValueSpan());
                if (expireAt > 0 && expireAt <= now)
                {
                    candidates.Add(it.Key());
                }
            }
            _resumeFrom = it.Valid() ? it.Key() : null;
        }
        var deleted = 0;
        foreach (var metaKey in candidates)
        {
            var db = _dataset[metaKey[0] % _dataset.DatabaseCount];
            var userKey = metaKey.AsSpan(1);
            using (db.Locks.Lock(db.Index, userKey))
            {
                // Re-read under the lock: the key may have been rewritten since the scan.
                var raw = engine.Get(engine.Meta, metaKey);
                if (raw is null || !Metadata.TryDecode(raw, out var meta) || !meta.IsExpired(Database.NowMs))
                {
                    continue;
                }
                using var batch = new WriteBatch();
                batch.Delete(metaKey, engine.Meta);
                engine.Write(batch);
                deleted++;
            }
        }
        Interlocked.Add(ref _expired, deleted);
        return deleted;
    }

    /// <summary>Stops the timer and waits (bounded) for a step in progress, so the dataset can close after it.</summary>
    public void Dispose()
    {
        Enabled = false;
        _timer.Dispose();
        var deadline = Environment.TickCount64 + 10_000;
        while (Volatile.Read(ref _running) == 1 && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(5);
        }
    }
}
