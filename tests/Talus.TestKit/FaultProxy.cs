using System.Net;
using System.Net.Sockets;

namespace Talus.TestKit;

/// <summary>
/// A TCP proxy on a free loopback port in front of a loopback target, for fault tests: a replica pointed at
/// <see cref="Port"/> reaches its master through it. Per direction it can cut every connection now (RST),
/// cut the connection that carries the next N bytes, flip one byte at a chosen point (the Nth byte after a
/// marker, in the same direction or in the reply that follows it), and pause or resume forwarding, now or
/// after the next N bytes; it counts the bytes forwarded each way. Faults are one-shot: once fired they are disarmed. At most
/// <see cref="MaxConnections"/> connections are open at once (more are refused).
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    public const int MaxConnections = 64;

    private readonly Socket _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<Connection> _connections = [];
    private readonly long[] _bytes = new long[2];
    private readonly long[] _cutAfter = [-1, -1];
    private readonly long[] _pauseAfter = [-1, -1];
    private readonly TaskCompletionSource?[] _paused = new TaskCompletionSource?[2];
    private readonly Task _accepting;
    private Corruption? _corruption;
    private int _accepted;
    private int _cuts;
    private int _corrupted;

    private FaultProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Starts a proxy to 127.0.0.1:<paramref name="targetPort"/>.</summary>
    public static FaultProxy Start(int targetPort) => new(targetPort);

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Connections accepted so far (a reconnecting replica opens new ones).</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections cut by a fault so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Bytes flipped so far.</summary>
    public int Corrupted => Volatile.Read(ref _corrupted);

    public int OpenConnections
    {
        get
        {
            lock (_lock)
            {
                return _connections.Count;
            }
        }
    }

    public long BytesForwarded(ProxyDirection direction) => Interlocked.Read(ref _bytes[(int)direction]);

    /// <summary>Resets (RST) every open connection now.</summary>
    public void CutAll()
    {
        List<Connection> all;
        lock (_lock)
        {
            all = [.. _connections];
        }
        foreach (var c in all)
        {
            Cut(c);
        }
    }

    /// <summary>Forwards <paramref name="bytes"/> more bytes in <paramref name="direction"/>, then resets the connection that carried the last of them.</summary>
    public void CutAfter(ProxyDirection direction, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            _cutAfter[(int)direction] = bytes;
        }
    }

    /// <summary>
    /// Flips one byte once: when <paramref name="marker"/> next passes in direction <paramref name="watch"/>, the byte
    /// <paramref name="offset"/> bytes further on in direction <paramref name="target"/> of the same connection is
    /// inverted. With the same direction the count starts right after the marker; with the other direction it starts
    /// at the first byte that direction carries after the marker was seen (the reply to a command, for example).
    /// </summary>
    public void CorruptAfterMarker(ProxyDirection watch, byte[] marker, ProxyDirection target, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfZero(marker.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_lock)
        {
            _corruption = new Corruption(watch, marker, target, offset);
        }
    }

    /// <summary>Holds every byte in <paramref name="direction"/> until <see cref="Resume"/> (TCP back-pressure does the rest).</summary>
    public void Pause(ProxyDirection direction)
    {
        lock (_lock)
        {
            _paused[(int)direction] ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>
    /// Forwards <paramref name="bytes"/> more bytes in <paramref name="direction"/>, then holds that direction as
    /// <see cref="Pause"/> does (the rest of the block that crossed the mark is held too, not dropped).
    /// </summary>
    public void PauseAfter(ProxyDirection direction, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            _pauseAfter[(int)direction] = bytes;
        }
    }

    /// <summary>Whether <paramref name="direction"/> is held now (by <see cref="Pause"/> or a <see cref="PauseAfter"/> that fired).</summary>
    public bool IsPaused(ProxyDirection direction)
    {
        lock (_lock)
        {
            return _paused[(int)direction] is not null;
        }
    }

    /// <summary>Forwards <paramref name="direction"/> again, and disarms a <see cref="PauseAfter"/> that has not fired.</summary>
    public void Resume(ProxyDirection direction)
    {
        TaskCompletionSource? gate;
        lock (_lock)
        {
            _pauseAfter[(int)direction] = -1;
            gate = _paused[(int)direction];
            _paused[(int)direction] = null;
        }
        gate?.TrySetResult();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        Interlocked.Increment(ref _accepted);
        var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await target.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _targetPort), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Abort(client);
            target.Dispose();
            return;
        }
        var connection = new Connection(client, target);
        lock (_lock)
        {
            if (_connections.Count >= MaxConnections)
            {
                Abort(client);
                Abort(target);
                return;
            }
            _connections.Add(connection);
        }
        await Task.WhenAll(
            PumpAsync(connection, client, target, ProxyDirection.ToTarget),
            PumpAsync(connection, target, client, ProxyDirection.ToClient)).ConfigureAwait(false);
        lock (_lock)
        {
            _connections.Remove(connection);
        }
        client.Dispose();
        target.Dispose();
    }

    private async Task PumpAsync(Connection connection, Socket from, Socket to, ProxyDirection direction)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var held = 0;
            while (true)
            {
                // Bytes held back by a PauseAfter are at the start of the buffer; they go on before anything new is read.
                var n = held > 0 ? held : await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                held = 0;
                if (n == 0)
                {
                    break;
                }
                Task? gate;
                lock (_lock)
                {
                    gate = _paused[(int)direction]?.Task;
                }
                if (gate is not null)
                {
                    await gate.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
                var passing = n;
                var hold = TakePauseAfter(direction, ref passing);
                var (count, cut) = ApplyFaults(connection, direction, buffer, passing);
                var sent = 0;
                while (sent < count)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, count - sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }
                Interlocked.Add(ref _bytes[(int)direction], count);
                if (cut)
                {
                    Interlocked.Increment(ref _cuts);
                    Cut(connection);
                    return;
                }
                if (hold)
                {
                    held = n - passing;
                    buffer.AsSpan(passing, held).CopyTo(buffer);
                }
            }
            // One side closed: close both, as a plain close (not a reset).
            connection.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Cut(connection);
        }
    }

    /// <summary>Applies the armed faults to one received block; returns how many bytes to forward and whether to cut after them.</summary>
    private (int Count, bool Cut) ApplyFaults(Connection connection, ProxyDirection direction, byte[] buffer, int n)
    {
        lock (_lock)
        {
            var d = (int)direction;
            var start = 0;
            if (_corruption is { } rule && rule.Watch == direction && connection.FindMarker(d, rule.Marker, buffer, n) is var end and >= 0)
            {
                _corruption = null;
                connection.ArmCorruption((int)rule.Target, rule.Offset);
                // In the same direction the count starts right after the marker; the other direction counts from
                // its next block, which cannot have been sent before this one is forwarded.
                if (rule.Target == direction)
                {
                    start = end;
                }
            }
            if (connection.CorruptAt[d] >= 0)
            {
                var available = n - start;
                if (connection.CorruptAt[d] < available)
                {
                    buffer[start + (int)connection.CorruptAt[d]] ^= 0xFF;
                    connection.CorruptAt[d] = -1;
                    _corrupted++;
                }
                else
                {
                    connection.CorruptAt[d] -= available;
                }
            }
            if (_cutAfter[d] >= 0)
            {
                if (_cutAfter[d] <= n)
                {
                    var count = (int)_cutAfter[d];
                    _cutAfter[d] = -1;
                    return (count, true);
                }
                _cutAfter[d] -= n;
            }
            return (n, false);
        }
    }

    /// <summary>
    /// Applies an armed PauseAfter to a block of <paramref name="count"/> bytes just received: when the mark falls
    /// inside it, shortens it to the mark, pauses the direction and returns true (the caller holds the rest back and
    /// passes it through the faults once resumed).
    /// </summary>
    private bool TakePauseAfter(ProxyDirection direction, ref int count)
    {
        lock (_lock)
        {
            var d = (int)direction;
            if (_pauseAfter[d] < 0)
            {
                return false;
            }
            if (_pauseAfter[d] >= count)
            {
                _pauseAfter[d] -= count;
                if (_pauseAfter[d] > 0)
                {
                    return false;
                }
            }
            else
            {
                count = (int)_pauseAfter[d];
            }
            _pauseAfter[d] = -1;
            _paused[d] ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
        }
    }

    private static void Cut(Connection connection)
    {
        Abort(connection.Client);
        Abort(connection.Target);
    }

    /// <summary>Closes with linger 0, so the peer sees a reset rather than an orderly end.</summary>
    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already closed
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        Resume(ProxyDirection.ToTarget);
        Resume(ProxyDirection.ToClient);
        CutAll();
        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // the accept loop ends with the listener; nothing else to wait for
        }
        _stop.Dispose();
    }

    /// <summary>A one-shot corruption rule waiting for its marker.</summary>
    private sealed record Corruption(ProxyDirection Watch, byte[] Marker, ProxyDirection Target, int Offset);

    /// <summary>One proxied connection: both sockets and its per-direction fault state.</summary>
    private sealed class Connection(Socket client, Socket target)
    {
        private readonly byte[][] _tails = [[], []];

        public Socket Client { get; } = client;

        public Socket Target { get; } = target;

        /// <summary>Per direction: how many more bytes pass before the one to flip (-1 = none armed).</summary>
        public long[] CorruptAt { get; } = [-1, -1];

        public void ArmCorruption(int direction, int offset) => CorruptAt[direction] = offset;

        /// <summary>Looks for <paramref name="marker"/> across block boundaries; returns the index just after it in this block, or -1.</summary>
        public int FindMarker(int direction, byte[] marker, byte[] buffer, int n)
        {
            var tail = _tails[direction];
            var joined = new byte[tail.Length + n];
            tail.CopyTo(joined, 0);
            Array.Copy(buffer, 0, joined, tail.Length, n);
            var at = joined.AsSpan().IndexOf(marker);
            var keep = Math.Min(marker.Length - 1, joined.Length);
            _tails[direction] = joined[^keep..];
            if (at < 0)
            {
                return -1;
            }
            _tails[direction] = [];
            return at + marker.Length - tail.Length;
        }

        public void Close()
        {
            try
            {
                Client.Shutdown(SocketShutdown.Both);
                Target.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // the other pump closed them first
            }
            Client.Dispose();
            Target.Dispose();
        }
    }
}
