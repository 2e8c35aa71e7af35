using Talus.Protocol;
using Talus.Server.Commands;
using Talus.Server.Host;

namespace Talus.Server.Transactions;

/// <summary>
/// One client's MULTI state (the queued commands and whether a queue-time error doomed them) and its watched
/// keys. Created on the client's first MULTI or WATCH. The queue is touched only by the client's own
/// connection; <see cref="CasDirty"/> is set from other clients' threads when they modify a watched key.
/// </summary>
public sealed class ClientTransaction : IResettable
{
    private readonly List<QueuedCommand> _queue = [];
    private readonly List<WatchedKey> _watched = [];
    private volatile bool _casDirty;

    public ClientTransaction(ClientSession session, WatchRegistry registry)
    {
        Session = session;
        Registry = registry;
    }

    public ClientSession Session { get; }

    public WatchRegistry Registry { get; }

    /// <summary>Between MULTI and EXEC/DISCARD: commands are queued instead of run.</summary>
    public bool InMulti { get; private set; }

    /// <summary>A command was refused while queuing (unknown, wrong arity, not allowed): EXEC answers EXECABORT.</summary>
    public bool Aborted { get; private set; }

    /// <summary>A watched key was modified since WATCH: EXEC answers a nil array. Set from other threads.</summary>
    public bool CasDirty => _casDirty;

    public int QueuedCount => _queue.Count;

    /// <summary>Bytes of the queued arguments (CLIENT LIST multi-mem).</summary>
    public long QueuedBytes { get; private set; }

    /// <summary>The keys this client watches (read by the registry under its lock).</summary>
    internal List<WatchedKey> Watched => _watched;

    public bool IsWatching => _watched.Count > 0;

    public void Begin() => InMulti = true;

    public void FlagError()
    {
        if (InMulti)
        {
            Aborted = true;
        }
    }

    internal void MarkDirty() => _casDirty = true;

    public void Enqueue(CommandDescriptor command, CommandArgs args)
    {
        var copy = new byte[args.Count][];
        for (var i = 0; i < args.Count; i++)
        {
            copy[i] = args.ToArray(i);
            QueuedBytes += copy[i].Length;
        }
        _queue.Add(new QueuedCommand(command, CommandArgs.From(copy)));
    }

    /// <summary>Ends MULTI and hands the queue to EXEC, which disposes the commands' arguments.</summary>
    public List<QueuedCommand> TakeQueue()
    {
        var queue = new List<QueuedCommand>(_queue);
        _queue.Clear();
        InMulti = false;
        Aborted = false;
        QueuedBytes = 0;
        return queue;
    }

    /// <summary>DISCARD (also RESET and disconnect): drops the queue and unwatches every key.</summary>
    public void Discard()
    {
        foreach (var queued in _queue)
        {
            queued.Args.Dispose();
        }
        _queue.Clear();
        InMulti = false;
        Aborted = false;
        QueuedBytes = 0;
        UnwatchAll();
    }

    /// <summary>Forgets every watched key and the dirty flag (EXEC, DISCARD, UNWATCH, RESET, disconnect).</summary>
    public void UnwatchAll()
    {
        if (_watched.Count > 0)
        {
            Registry.RemoveAll(this);
        }
        _casDirty = false;
    }

    public void Reset(CommandContext ctx) => Discard();
}
