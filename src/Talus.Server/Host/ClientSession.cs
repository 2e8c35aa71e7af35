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
    private Action? _kill;

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

    /// <summary>Set while the client waits in a blocking command (idle timeout does not apply).</summary>
    public bool Blocked { get; set; }

    /// <summary>Close after the pending replies are written (QUIT, CLIENT KILL of self, protocol error).</summary>
    public bool CloseRequested { get; set; }

    /// <summary>Bytes queued for this client but not yet sent (CLIENT LIST omem).</summary>
    public long OutputBytes { get; set; }

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

    internal void OnKill(Action kill) => _kill = kill;

    /// <summary>Closes the connection from another client (CLIENT KILL) or the server.</summary>
    public void Kill() => _kill?.Invoke();
}
