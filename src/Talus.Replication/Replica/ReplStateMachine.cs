using Microsoft.Extensions.Logging;

namespace Talus.Replication.Replica;

/// <summary>
/// Holds the replica's state and enforces the one transition table. Every transition is one log line
/// ("Replication state Connect -> MetaSync: ..."); an illegal one throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class ReplStateMachine
{
    /// <summary>The legal transitions. From any state the replica may also stop (None) or fail (Error).</summary>
    public static readonly IReadOnlyDictionary<ReplState, ReplState[]> Table = new Dictionary<ReplState, ReplState[]>
    {
        [ReplState.None] = [ReplState.Connect],
        [ReplState.Connect] = [ReplState.MetaSync],
        [ReplState.MetaSync] = [ReplState.TrySync],
        [ReplState.TrySync] = [ReplState.BinlogSync, ReplState.WaitDbSync],
        [ReplState.WaitDbSync] = [ReplState.DbSync],
        [ReplState.DbSync] = [ReplState.DbSwap],
        [ReplState.DbSwap] = [ReplState.TrySync],
        [ReplState.BinlogSync] = [],
        [ReplState.Error] = [ReplState.Connect],
    };

    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private ReplState _state = ReplState.None;

    public ReplStateMachine(ILogger logger) => _logger = logger;

    public ReplState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>Environment.TickCount64 when the current state was entered.</summary>
    public long Since { get; private set; } = Environment.TickCount64;

    /// <summary>Why the last Error happened (INFO talus_repl_last_error).</summary>
    public string LastError { get; private set; } = "";

    /// <summary>Raised after every transition (from, to, reason).</summary>
    public event Action<ReplState, ReplState, string>? Changed;

    public static bool IsLegal(ReplState from, ReplState to) =>
        to is ReplState.None || (to is ReplState.Error && from is not ReplState.None and not ReplState.Error) || Table[from].Contains(to);

    public void MoveTo(ReplState to, string reason)
    {
        ReplState from;
        lock (_lock)
        {
            from = _state;
            if (!IsLegal(from, to))
            {
                throw new InvalidOperationException($"illegal replication transition {from} -> {to} ({reason})");
            }
            _state = to;
            Since = Environment.TickCount64;
            if (to == ReplState.Error)
            {
                LastError = reason;
            }
        }
        if (to == ReplState.Error)
        {
            _logger.LogWarning("Replication state {From} -> {To}: {Reason}", from, to, reason);
        }
        else
        {
            _logger.LogInformation("Replication state {From} -> {To}: {Reason}", from, to, reason);
        }
        Changed?.Invoke(from, to, reason);
    }
}
