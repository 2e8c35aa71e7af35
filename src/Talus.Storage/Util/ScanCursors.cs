namespace Talus.Storage.Util;

/// <summary>
/// Maps the numeric cursors SCAN-family commands hand to clients onto the key to resume from, since a
/// RocksDB position is a key, not a number. Bounded: the oldest cursors are forgotten first, and a
/// forgotten cursor restarts its scan from the beginning (keys may repeat, as SCAN allows; none is lost).
/// </summary>
public sealed class ScanCursors
{
    private const int Capacity = 65536;
    private readonly Dictionary<long, byte[]> _positions = [];
    private readonly Queue<long> _order = new();
    private readonly Lock _lock = new();
    private long _next = Random.Shared.NextInt64(1, 1L << 40);

    /// <summary>Stores a resume position and returns its cursor (never 0, which means "start" and "done").</summary>
    public long Save(byte[] resumeFrom)
    {
        lock (_lock)
        {
            var id = ++_next;
            _positions[id] = resumeFrom;
            _order.Enqueue(id);
            while (_order.Count > Capacity)
            {
                _positions.Remove(_order.Dequeue());
            }
            return id;
        }
    }

    /// <summary>The position saved for <paramref name="cursor"/>, or null to start from the beginning.</summary>
    public byte[]? Resume(long cursor)
    {
        if (cursor == 0)
        {
            return null;
        }
        lock (_lock)
        {
            return _positions.TryGetValue(cursor, out var key) ? key : null;
        }
    }
}
