using System.Diagnostics;

namespace Talus.Replication.Master;

/// <summary>
/// Full syncs as a managed resource (rule 6): at most <c>max-full-sync-parallel</c> transfers hold a slot;
/// the others wait in one FIFO queue and get a slot in arrival order. All transfers share one byte-rate
/// budget (<c>full-sync-throttle-bytes-per-second</c>, 0 = unlimited). Both limits are read live, so
/// CONFIG SET applies to transfers already running.
/// </summary>
public sealed class FullSyncScheduler
{
    private readonly Func<int> _maxParallel;
    private readonly Func<long> _bytesPerSecond;
    private readonly Lock _lock = new();
    private readonly LinkedList<string> _queue = new();
    private readonly HashSet<string> _active = [];
    private readonly SemaphoreSlim _throttleGate = new(1, 1);
    private double _tokens;
    private long _lastRefill = Stopwatch.GetTimestamp();

    public FullSyncScheduler(Func<int> maxParallel, Func<long> bytesPerSecond)
    {
        _maxParallel = maxParallel;
        _bytesPerSecond = bytesPerSecond;
    }

    /// <summary>
    /// Registers (or re-polls) a replica wanting a transfer. Returns 0 when it holds a slot, otherwise its
    /// 1-based position in the queue.
    /// </summary>
    public int Request(string replica)
    {
        lock (_lock)
        {
            if (_active.Contains(replica))
            {
                return 0;
            }
            if (!_queue.Contains(replica))
            {
                _queue.AddLast(replica);
            }
            while (_queue.First is { } head && _active.Count < Math.Max(1, _maxParallel()))
            {
                _queue.RemoveFirst();
                _active.Add(head.Value);
            }
            if (_active.Contains(replica))
            {
                return 0;
            }
            var position = 1;
            for (var node = _queue.First; node is not null && node.Value != replica; node = node.Next)
            {
                position++;
            }
            return position;
        }
    }

    /// <summary>Frees the replica's slot or queue place (finished, aborted or gone).</summary>
    public void Finish(string replica)
    {
        lock (_lock)
        {
            _active.Remove(replica);
            _queue.Remove(replica);
        }
    }

    public int ActiveCount
    {
        get
        {
            lock (_lock)
            {
                return _active.Count;
            }
        }
    }

    public IReadOnlyList<string> Queued
    {
        get
        {
            lock (_lock)
            {
                return _queue.ToList();
            }
        }
    }

    public IReadOnlyList<string> Active
    {
        get
        {
            lock (_lock)
            {
                return _active.ToList();
            }
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> may be sent under the shared rate limit.</summary>
    public async ValueTask ThrottleAsync(int bytes, CancellationToken token)
    {
        var rate = _bytesPerSecond();
        if (rate <= 0)
        {
            return;
        }
        await _throttleGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                var elapsed = Stopwatch.GetElapsedTime(_lastRefill, now).TotalSeconds;
                _lastRefill = now;
                rate = Math.Max(1, _bytesPerSecond());
                // At most one second of burst, so a paused budget cannot flood the link later.
                _tokens = Math.Min(rate, _tokens + elapsed * rate);
                if (_tokens >= bytes || _tokens >= rate)
                {
                    _tokens -= bytes;
                    return;
                }
                var wait = TimeSpan.FromSeconds(Math.Min(1.0, (bytes - _tokens) / rate));
                await Task.Delay(wait, token).ConfigureAwait(false);
            }
        }
        finally
        {
            _throttleGate.Release();
        }
    }
}
