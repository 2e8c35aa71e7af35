using Microsoft.Extensions.Logging;
using Talus.Storage.Engine;

namespace Talus.Replication.Binlog;

/// <summary>
/// Rule 5: the binlog a snapshot's replicas will need is pinned from before the snapshot is taken until
/// they have moved past it (or gone). RocksDB offers one lever over WAL deletion, DisableFileDeletions,
/// so while any pin is held file deletions are off; when the last pin goes they are on again. A pin is
/// released exactly once (the handle is idempotent). While pinned, obsolete SST files also wait: disk use
/// grows for the duration of a full sync, never data loss.
/// </summary>
public sealed class BinlogPins
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, (ulong Offset, string Reason)> _pins = [];
    private readonly ILogger _logger;
    private long _nextId;
    private StorageEngine? _pinnedEngine;

    public BinlogPins(ILogger logger) => _logger = logger;

    /// <summary>The lowest pinned offset, or null when nothing is pinned.</summary>
    public ulong? LowestPinned
    {
        get
        {
            lock (_lock)
            {
                return _pins.Count == 0 ? null : _pins.Values.Min(p => p.Offset);
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pins.Count;
            }
        }
    }

    public Pin Acquire(StorageEngine engine, ulong offset, string reason)
    {
        lock (_lock)
        {
            if (_pins.Count == 0)
            {
                engine.Db.DisableFileDeletions();
                _pinnedEngine = engine;
            }
            var id = ++_nextId;
            _pins[id] = (offset, reason);
            _logger.LogInformation("Binlog pinned from offset {Offset} ({Reason}); {Count} pin(s) held", offset, reason, _pins.Count);
            return new Pin(this, id);
        }
    }

    private void Release(long id)
    {
        lock (_lock)
        {
            if (!_pins.Remove(id, out var pin))
            {
                return;
            }
            _logger.LogInformation("Binlog pin from offset {Offset} released ({Reason}); {Count} pin(s) held", pin.Offset, pin.Reason, _pins.Count);
            if (_pins.Count == 0 && _pinnedEngine is { } engine)
            {
                _pinnedEngine = null;
                try
                {
                    engine.Db.EnableFileDeletions();
                }
                catch (ObjectDisposedException)
                {
                    // the dataset closed first; a reopened one starts with deletions enabled
                }
            }
        }
    }

    /// <summary>A held pin; disposing releases it (once).</summary>
    public sealed class Pin : IDisposable
    {
        private readonly BinlogPins _owner;
        private readonly long _id;
        private int _released;

        internal Pin(BinlogPins owner, long id)
        {
            _owner = owner;
            _id = id;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _owner.Release(_id);
            }
        }
    }
}
