using System.Net;
using Talus.Protocol;

namespace Talus.Server.Host;

/// <summary>What kind of peer a connection is (CLIENT LIST flags, output-buffer class).</summary>
public enum ClientKind
{
    Normal,  // an application client
    Replica, // a replica streaming from this master
    Master,  // this replica's link to its master (its writes bypass read-only)
    PubSub,  // a client in subscribe mode
}

/// <summary>Per-connection state that commands read and change: database, auth, protocol, name.</summary>
public sealed class ClientSession
{
    private readonly CancellationTokenSource _closing = new();
    private Action? _kill;
    private Func<bool>? _peerGone;
    private volatile bool _closeRequested;
    private volatile bool _blocked;
    private long _outputBytes;

    public ClientSession(long id, EndPoint? remote, EndPoint? local, bool authenticated)
    {
        Id = id;
        RemoteEndPoint = remote;
        LocalEndPoint = local;
        Authenticated = authenticated;
        CreatedAt = Environment.TickCount64;
        LastInteraction = CreatedAt;
    }

    public long Id { get; }

    public EndPoint? RemoteEndPoint { get; }

    public EndPoint? LocalEndPoint { get; }

    public string Address => RemoteEndPoint?.ToString() ?? "?";

    public string LocalAddress => LocalEndPoint?.ToString() ?? "?";

    public string? Name { get; set; }

    public string? LibName { get; set; }

    public string? LibVersion { get; set; }

    /// <summary>The socket's file descriptor (CLIENT LIST fd), set by the listener; -1 when unknown.</summary>
    public int Fd { get; set; } = -1;

    /// <summary>CLIENT NO-EVICT ON: shown as the 'e' flag (Talus never evicts clients).</summary>
    public bool NoEvict { get; set; }

    /// <summary>CLIENT NO-TOUCH ON: shown as the 'T' flag (Talus keeps no per-key access time to leave untouched).</summary>
    public bool NoTouch { get; set; }

    public int DbIndex { get; set; }

    public bool Authenticated { get; set; }

    public string User { get; set; } = "default";

    public RespVersion Protocol { get; set; } = RespVersion.Resp2;

    public ClientKind Kind { get; set; } = ClientKind.Normal;

    /// <summary>Environment.TickCount64 at connect.</summary>
    public long CreatedAt { get; }

    /// <summary>Environment.TickCount64 of the last command.</summary>
    public long LastInteraction { get; set; }

    public string LastCommand { get; set; } = "NULL";

    /// <summary>
    /// Set while the client waits in a blocking command (idle timeout does not apply). The connection sets it once
    /// it has flushed and parked on the pending task: from then until that task completes, nothing else writes
    /// to the client, so the blocked command may write its reply.
    /// </summary>
    public bool Blocked
    {
        get => _blocked;
        set => _blocked = value;
    }

    /// <summary>Close after the pending replies are written (QUIT, CLIENT KILL of self, protocol error).</summary>
    public bool CloseRequested
    {
        get => _closeRequested;
        set
        {
            _closeRequested = value;
            if (value && !_closing.IsCancellationRequested)
            {
                // Callbacks run on the thread pool: the thread closing this client (CLIENT KILL) must not end up
                // running the blocked command's continuation.
                _ = _closing.CancelAsync();
            }
        }
    }

    /// <summary>Cancelled once the connection is asked to close: a blocked command stops waiting.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>
    /// Set by EXEC (and scripts) while they run commands: a blocking command then answers at once as if its
    /// timeout had passed, as Redis does for clients that cannot block.
    /// </summary>
    public bool DenyBlocking { get; set; }

    /// <summary>MULTI state and watched keys; null until the client first sends MULTI or WATCH.</summary>
    public Transactions.ClientTransaction? Transaction { get; set; }

    /// <summary>True when the peer has closed its end (checked by blocked commands, which read nothing meanwhile).</summary>
    public bool PeerGone => _peerGone?.Invoke() ?? false;

    /// <summary>Bytes queued for this client but not yet sent (CLIENT LIST omem), queued pushes included.</summary>
    public long OutputBytes
    {
        get => _outputBytes + (Outbox?.PendingBytes ?? 0);
        set => _outputBytes = value;
    }

    /// <summary>Out-of-band frames (pub/sub messages, MONITOR lines) waiting for this client; null without a connection.</summary>
    public ClientOutbox? Outbox { get; set; }

    /// <summary>Channels this client is subscribed to (CLIENT LIST sub); written by its own thread only.</summary>
    public int SubscribedChannels { get; set; }

    /// <summary>Patterns this client is subscribed to (CLIENT LIST psub).</summary>
    public int SubscribedPatterns { get; set; }

    /// <summary>True once the client ran MONITOR (CLIENT LIST flag O).</summary>
    public bool Monitoring { get; set; }

    /// <summary>Bytes of the query buffer (CLIENT LIST qbuf).</summary>
    public long QueryBufferBytes { get; set; }

    /// <summary>Per-client state of other subsystems (MULTI queue, subscriptions), keyed by type.</summary>
    public Dictionary<Type, object> Extensions { get; } = [];

    public T Extension<T>() where T : class, new()
    {
        if (!Extensions.TryGetValue(typeof(T), out var value))
        {
            value = new T();
            Extensions[typeof(T)] = value;
        }
        return (T)value;
    }

    /// <summary>Cancelled when the connection closes (work started for this client, such as a binlog stream, stops).</summary>
    public CancellationToken Closed { get; internal set; }

    /// <summary>Raised once when the connection has closed.</summary>
    public event Action<ClientSession>? Disconnected;

    internal void OnDisconnected() => Disconnected?.Invoke(this);

    internal void OnKill(Action kill) => _kill = kill;

    internal void OnPeerCheck(Func<bool> peerGone) => _peerGone = peerGone;

    /// <summary>Closes the connection from another client (CLIENT KILL) or the server.</summary>
    public void Kill() => _kill?.Invoke();
}
