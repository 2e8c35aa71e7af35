using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// A full manual compaction of one engine (the COMPACT command), run in the background one at a time. It
/// compacts the column families one after the other, so the compaction filter drops expired keys and
/// orphaned sub-keys everywhere; progress is the family being compacted, for INFO and the log. Closing the
/// engine pauses manual compaction in RocksDB and waits for this task to return before the database is freed.
/// </summary>
public sealed class BackgroundCompaction
{
    private readonly StorageEngine _engine;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private Task? _running;
    private volatile string _step = "";
    private long _startedAt;

    internal BackgroundCompaction(StorageEngine engine, ILogger logger)
    {
        _engine = engine;
        _logger = logger;
    }

    /// <summary>Whether a compaction is running now.</summary>
    public bool Running => _running is { IsCompleted: false };

    /// <summary>The family being compacted and its place, e.g. "sub 2/3"; empty when idle.</summary>
    public string Step => Running ? _step : "";

    /// <summary>Seconds since the running compaction started; 0 when idle.</summary>
    public long RunningSeconds => Running ? (long)Stopwatch.GetElapsedTime(Interlocked.Read(ref _startedAt)).TotalSeconds : 0;

    /// <summary>Compactions that ran to the end.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    private long _completed;

    /// <summary>"ok", "err" or "aborted" for the last compaction; "none" before the first.</summary>
    public string LastStatus { get; private set; } = "none";

    /// <summary>Duration of the last finished compaction, in seconds.</summary>
    public double LastSeconds { get; private set; }

    /// <summary>Starts a compaction unless one is running; false when one already is.</summary>
    public bool TryStart()
    {
        lock (_lock)
        {
            if (Running)
            {
                return false;
            }
            Interlocked.Exchange(ref _startedAt, Stopwatch.GetTimestamp());
            _running = Task.Run(Run);
            return true;
        }
    }

    private void Run()
    {
        var families = new (string Name, ColumnFamilyHandle Handle)[]
        {
            (StorageFormat.MetaFamily, _engine.Meta),
            (StorageFormat.SubFamily, _engine.Sub),
            (StorageFormat.ZScoreFamily, _engine.ZScore),
        };
        var before = SstBytes();
        _logger.LogInformation("Compaction started: {Families} column families, {Bytes} bytes in SST files", families.Length, before);
        var watch = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < families.Length; i++)
            {
                _step = $"{families[i].Name} {i + 1}/{families.Length}";
                _engine.CompactFamily(families[i].Handle);
                _logger.LogInformation("Compaction of {Family} done ({Index}/{Count}) after {Seconds:F1} s", families[i].Name, i + 1, families.Length, watch.Elapsed.TotalSeconds);
            }
            LastStatus = "ok";
            Interlocked.Increment(ref _completed);
            _logger.LogInformation("Compaction finished in {Seconds:F1} s: SST files {Before} -> {After} bytes", watch.Elapsed.TotalSeconds, before, SstBytes());
        }
        catch (ObjectDisposedException)
        {
            LastStatus = "aborted";
            _logger.LogInformation("Compaction aborted after {Seconds:F1} s: the dataset was closed", watch.Elapsed.TotalSeconds);
        }
        catch (RocksDbException ex)
        {
            // Closing the engine pauses manual compaction, which RocksDB reports as an error of this call.
            LastStatus = _engine.IsClosing ? "aborted" : "err";
            if (_engine.IsClosing)
            {
                _logger.LogInformation("Compaction aborted after {Seconds:F1} s: the dataset was closed", watch.Elapsed.TotalSeconds);
            }
            else
            {
                _logger.LogError(ex, "Compaction failed after {Seconds:F1} s", watch.Elapsed.TotalSeconds);
            }
        }
        finally
        {
            LastSeconds = Math.Round(watch.Elapsed.TotalSeconds, 3);
            _step = "";
        }
    }

    private long SstBytes()
    {
        try
        {
            return _engine.PropertySum("rocksdb.total-sst-files-size");
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }

    /// <summary>Called by the engine while it closes, after manual compaction was paused: waits for the task to return.</summary>
    internal void WaitForExit()
    {
        Task? running;
        lock (_lock)
        {
            running = _running;
        }
        try
        {
            running?.Wait();
        }
        catch (AggregateException)
        {
            // Run logs its own failures; closing goes on.
        }
    }
}
