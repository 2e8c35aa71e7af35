namespace Talus.Server.Host;

/// <summary>One SLOWLOG entry, as Redis reports it.</summary>
public sealed record SlowLogEntry(long Id, long UnixSeconds, long DurationMicros, string[] Args, string ClientAddress, string ClientName);

/// <summary>Commands slower than slowlog-log-slower-than, newest first, at most slowlog-max-len.</summary>
public sealed class SlowLog
{
    private readonly LinkedList<SlowLogEntry> _entries = new();
    private readonly Lock _lock = new();
    private long _nextId;

    public void Add(string[] args, long micros, string address, string name, int maxLength)
    {
        lock (_lock)
        {
            _entries.AddFirst(new SlowLogEntry(_nextId++, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), micros, args, address, name));
            while (_entries.Count > Math.Max(0, maxLength))
            {
                _entries.RemoveLast();
            }
        }
    }

    public List<SlowLogEntry> Get(int count)
    {
        lock (_lock)
        {
            return _entries.Take(count < 0 ? int.MaxValue : count).ToList();
        }
    }

    public int Length
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _entries.Clear();
        }
    }
}
