using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Talus.Server.Dispatch;

namespace Talus.Server.Host;

/// <summary>
/// The listener: binds every configured address, accepts clients up to maxclients, closes idle ones after
/// <c>timeout</c> seconds, and on shutdown stops accepting, closes every client and waits for their loops
/// to end, so nothing touches the dataset once it is closed.
/// </summary>
public sealed class TalusServer : IAsyncDisposable
{
    private readonly ServerContext _server;
    private readonly CommandDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly List<Socket> _listeners = [];
    private readonly ConcurrentDictionary<long, (ClientConnection Connection, Task Loop)> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _acceptLoops = [];
    private Timer? _idleTimer;

    public TalusServer(ServerContext server, CommandDispatcher dispatcher)
    {
        _server = server;
        _dispatcher = dispatcher;
        _logger = server.LoggerFactory.CreateLogger("Talus.Server");
    }

    /// <summary>Binds and starts accepting. Throws SocketException (AddressAlreadyInUse ...) when a port cannot be bound.</summary>
    public void Start()
    {
        foreach (var address in _server.Options.Bind)
        {
            var ip = address switch
            {
                "*" or "0.0.0.0" => IPAddress.Any,
                "::" or "::*" => IPAddress.IPv6Any,
                "localhost" => IPAddress.Loopback,
                _ => IPAddress.Parse(address.TrimStart('-')),
            };
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            // Set address reuse before Bind, so a restart survives connections still in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }
            socket.Bind(new IPEndPoint(ip, _server.Options.Port));
            socket.Listen(511);
            _listeners.Add(socket);
            _acceptLoops.Add(AcceptLoopAsync(socket));
            _logger.LogInformation("Ready to accept connections tcp on {Address}:{Port}", address, _server.Options.Port);
        }
        _idleTimer = new Timer(_ => CloseIdleClients(), null, 1000, 1000);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            Interlocked.Increment(ref _server.Stats.ConnectionsReceived);
            if (_server.Clients.Count >= _server.Options.MaxClients)
            {
                Interlocked.Increment(ref _server.Stats.RejectedConnections);
                RejectFull(socket);
                continue;
            }
            socket.NoDelay = true;
            if (_server.Options.TcpKeepAlive > 0)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, _server.Options.TcpKeepAlive);
            }
            var connection = new ClientConnection(socket, _server, _dispatcher, _logger);
            connection.Session.Fd = (int)socket.Handle;
            _server.Clients.Add(connection.Session);
            var loop = Task.Run(async () =>
            {
                try
                {
                    await connection.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    _server.Clients.Remove(connection.Session);
                    _connections.TryRemove(connection.Session.Id, out _);
                }
            });
            _connections[connection.Session.Id] = (connection, loop);
        }
    }

    private static void RejectFull(Socket socket)
    {
        try
        {
            socket.Send("-ERR max number of clients reached\r\n"u8);
        }
        catch (SocketException)
        {
            // the client is gone already
        }
        socket.Dispose();
    }

    private void CloseIdleClients()
    {
        var timeout = _server.Options.Timeout;
        if (timeout <= 0)
        {
            return;
        }
        var now = Environment.TickCount64;
        foreach (var (connection, _) in _connections.Values)
        {
            var s = connection.Session;
            // Subscribers (Kind PubSub) and MONITOR clients only listen, so they are never idle, as in Redis.
            if (!s.Blocked && s.Kind is ClientKind.Normal && !s.Monitoring && now - s.LastInteraction > timeout * 1000L)
            {
                _logger.LogDebug("Closing idle client {Id} ({Address})", s.Id, s.Address);
                connection.Close();
            }
        }
    }

    /// <summary>Stops accepting, closes all clients and waits (bounded) for their loops to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _idleTimer?.Dispose();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        foreach (var (connection, _) in _connections.Values)
        {
            connection.Close();
        }
        var loops = _connections.Values.Select(c => c.Loop).ToArray();
        await Task.WhenAny(Task.WhenAll(loops), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
    }
}
