namespace Talus.Server.Host;

/// <summary>
/// CLIENT PAUSE / UNPAUSE. While a pause lasts, the dispatcher parks each held command on
/// <see cref="HoldFor"/>'s task and runs it when the pause ends, in arrival order per client, the way
/// Redis postpones paused clients; replicas are never held. A pause during a pause keeps the later end
/// and the wider mode. The end comes from a timer or from UNPAUSE, whichever is first.
/// </summary>
public sealed class ClientPause : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile PauseMode _mode;
    private long _endTicks;

    public ClientPause() => _timer = new Timer(_ => EndIfDue());

    public PauseMode Mode => _mode;

    /// <summary>
    /// Set when the server shuts down: the held commands are released without running (their connections
    /// close unanswered), as Redis exits with its paused clients unserved. Run now, a held write would be
    /// acknowledged while the replicas are being let go, and could be missing after a failover.
    /// </summary>
    public bool ShuttingDown { get; private set; }

    /// <summary>Pauses for <paramref name="milliseconds"/> from now, or extends and widens the running pause.</summary>
    public void Pause(long milliseconds, PauseMode mode)
    {
        lock (_lock)
        {
            var now = Environment.TickCount64;
            var end = milliseconds > long.MaxValue - now ? long.MaxValue : now + milliseconds;
            if (_mode == PauseMode.None)
            {
                _ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _endTicks = end;
                _mode = mode;
            }
            else
            {
                _endTicks = Math.Max(_endTicks, end);
                _mode = (PauseMode)Math.Max((int)_mode, (int)mode);
            }
            Arm(now);
        }
    }

    /// <summary>Ends the pause now and releases every held command.</summary>
    public void Unpause()
    {
        TaskCompletionSource ended;
        lock (_lock)
        {
            if (_mode == PauseMode.None)
            {
                return;
            }
            _mode = PauseMode.None;
            ended = _ended;
        }
        ended.TrySetResult();
    }

    /// <summary>The task a command must wait for before it runs, or null when it may run now.</summary>
    public Task? HoldFor(ClientSession session, bool isWrite)
    {
        if (_mode == PauseMode.None || session.Kind == ClientKind.Replica)
        {
            return null;
        }
        lock (_lock)
        {
            return _mode == PauseMode.All || (_mode == PauseMode.Write && isWrite) ? _ended.Task : null;
        }
    }

    private void EndIfDue()
    {
        lock (_lock)
        {
            if (_mode == PauseMode.None)
            {
                return;
            }
            var now = Environment.TickCount64;
            if (now < _endTicks)
            {
                Arm(now); // extended meanwhile, or the timer fired a little early
                return;
            }
        }
        Unpause();
    }

    private void Arm(long now)
    {
        // Timer periods are capped well below int.MaxValue ms; a longer pause re-arms on each firing.
        var due = Math.Clamp(_endTicks - now, 0, int.MaxValue - 1);
        _timer.Change(due, Timeout.Infinite);
    }

    public void Dispose()
    {
        ShuttingDown = true;
        _timer.Dispose();
        Unpause();
    }
}
