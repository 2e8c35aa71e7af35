using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Talus.Replication.Binlog;
using Talus.Replication.Master;

namespace Talus.Replication.Tests;

/// <summary>
/// A scripted master for unit tests of the replica side. It listens on 127.0.0.1 (a port the OS picks),
/// accepts the replica's data and control connections and answers the internal verbs of
/// docs/replication.md — AUTH, TALUS-METASYNC, TALUS-CONTROL, TALUS-TRYSYNC, TALUS-DBSYNC
/// BEGIN/MANIFEST/FILE/END, TALUS-ACK — through one handler per verb. Every handler has a default that
/// behaves like the real master over a real <see cref="MasterDataset"/> (snapshot made by the master's own
/// SnapshotManager, files served chunk by chunk); a test replaces a handler to script a refusal, a
/// corruption, a stall or a dropped connection. A handler returns the raw RESP reply, an empty array for
/// no reply, or null to close the connection. After a +CONTINUE the test pushes binlog frames and pings
/// on the data connection itself (<see cref="PushAsync(BinlogChunk)"/>, <see cref="PingAsync"/>).
///
/// Links are counted by TALUS-METASYNC. A METASYNC beyond <see cref="ServeLinks"/> is never answered: the
/// replica's retry then waits in MetaSync, so a test can inspect the dataset an aborted link left behind
/// without a second link changing it meanwhile.
/// </summary>
internal sealed class FakeMaster : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Session> _sessions = [];
    private readonly ConcurrentQueue<string[]> _requests = new();
    private readonly ConcurrentQueue<ulong> _acks = new();
    private readonly Task _acceptLoop;
    private volatile Session? _data;
    private int _links;

    private FakeMaster(MasterDataset master)
    {
        Master = master;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Auth = DefaultAuthAsync;
        MetaSync = _ => Reply(Array(RunId, ""));
        Control = _ => Reply(Simple("OK"));
        TrySync = DefaultTrySyncAsync;
        Begin = DefaultBeginAsync;
        Manifest = DefaultManifestAsync;
        File = r => Reply(ReadChunk(r.Args[4], long.Parse(r.Args[5], CultureInfo.InvariantCulture)) is { } data
            ? Bulk(data)
            : Error("ERR no such file in this replica's snapshot"));
        End = _ => Reply(Simple("OK"));
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public static FakeMaster Start(MasterDataset master) => new(master);

    /// <summary>One command received: its arguments, the link (METASYNC count) it belongs to, the connection.</summary>
    public sealed record Request(string[] Args, int Link, Session Session);

    public MasterDataset Master { get; }

    public int Port { get; }

    public string RunId { get; } = "feedfacefeedfacefeedfacefeedfacefeedface";

    /// <summary>The master's requirepass; null answers AUTH like a master without a password.</summary>
    public string? Password { get; set; }

    /// <summary>How many links (METASYNCs) are answered; later ones wait unanswered.</summary>
    public int ServeLinks { get; set; } = int.MaxValue;

    /// <summary>Bytes per FILE reply (the real master's full-sync-chunk-size); small, so files take several chunks.</summary>
    public int ChunkSize { get; set; } = 4096;

    /// <summary>Replies BEGIN gives before READY (for instance "QUEUED 2", "MAKING").</summary>
    public ConcurrentQueue<string> BeginReplies { get; } = new();

    /// <summary>The snapshot handed out by READY (made on the first READY unless a test set it).</summary>
    public Snapshot? Snapshot { get; set; }

    public Func<Request, Task<byte[]?>> Auth { get; set; }

    public Func<Request, Task<byte[]?>> MetaSync { get; set; }

    public Func<Request, Task<byte[]?>> Control { get; set; }

    public Func<Request, Task<byte[]?>> TrySync { get; set; }

    public Func<Request, Task<byte[]?>> Begin { get; set; }

    public Func<Request, Task<byte[]?>> Manifest { get; set; }

    public Func<Request, Task<byte[]?>> File { get; set; }

    public Func<Request, Task<byte[]?>> End { get; set; }

    /// <summary>Every command received, in arrival order (both connections).</summary>
    public IReadOnlyList<string[]> Requests => _requests.ToArray();

    /// <summary>The offsets the replica acknowledged with TALUS-ACK, in order.</summary>
    public IReadOnlyList<ulong> Acks => _acks.ToArray();

    public int Links => Volatile.Read(ref _links);

    /// <summary>Cancelled when the fake master shuts down (a handler that stalls on purpose waits on it).</summary>
    public CancellationToken Stopping => _stop.Token;

    public IReadOnlyList<string[]> RequestsOf(string verb, string? sub = null) =>
        Requests.Where(r => r[0] == verb && (sub is null || (r.Length > 1 && r[1] == sub))).ToList();

    public static Task<byte[]?> Reply(byte[] raw) => Task.FromResult<byte[]?>(raw);

    public static byte[] Simple(string text) => Encoding.UTF8.GetBytes($"+{text}\r\n");

    public static byte[] Error(string text) => Encoding.UTF8.GetBytes($"-{text}\r\n");

    public static byte[] Bulk(byte[] data) => [.. Encoding.ASCII.GetBytes($"${data.Length}\r\n"), .. data, .. "\r\n"u8];

    public static byte[] Bulk(string text) => Bulk(Encoding.UTF8.GetBytes(text));

    public static byte[] Array(params string[] items) => Array(items.Select(Bulk).ToArray());

    public static byte[] Array(params byte[][] encodedItems) =>
        [.. Encoding.ASCII.GetBytes($"*{encodedItems.Length}\r\n"), .. encodedItems.SelectMany(i => i)];

    /// <summary>Up to <see cref="ChunkSize"/> bytes of a file of <see cref="Snapshot"/> (null when it is not one of its files).</summary>
    public byte[]? ReadChunk(string name, long offset)
    {
        if (Snapshot?.PathOf(name) is not { } path)
        {
            return null;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (offset > stream.Length)
        {
            return null;
        }
        stream.Position = offset;
        var buffer = new byte[(int)Math.Min(ChunkSize, stream.Length - offset)];
        stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>Sends one binlog frame on the data connection: *4 TALUS-BINLOG first next payload.</summary>
    public Task PushFrameAsync(ulong first, ulong next, byte[] payload) =>
        DataSession.SendAsync(Array(Bulk("TALUS-BINLOG"), Bulk(N(first)), Bulk(N(next)), Bulk(payload)));

    public Task PushAsync(BinlogChunk chunk) => PushFrameAsync(chunk.First, chunk.Next, chunk.Data);

    /// <summary>Sends an idle ping on the data connection: *2 TALUS-PING master-offset.</summary>
    public Task PingAsync(ulong masterOffset) => DataSession.SendAsync(Array("TALUS-PING", N(masterOffset)));

    /// <summary>Sends raw RESP on the data connection (for frames no real master would send).</summary>
    public Task DataSessionSendAsync(byte[] raw) => DataSession.SendAsync(raw);

    private Session DataSession => _data ?? throw new InvalidOperationException("no data connection yet");

    private static string N(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private Task<byte[]?> DefaultAuthAsync(Request r)
    {
        if (Password is null)
        {
            return Reply(Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
        }
        return Reply(r.Args.Length == 2 && r.Args[1] == Password ? Simple("OK") : Error("WRONGPASS invalid username-password pair or user is disabled."));
    }

    /// <summary>Rule 2 as the real master decides it: continue only inside this history and binlog, else full sync.</summary>
    private Task<byte[]?> DefaultTrySyncAsync(Request r)
    {
        var mine = Master.Lineage;
        var offset = ulong.Parse(r.Args[3], CultureInfo.InvariantCulture);
        if (r.Args[2] == mine.ReplId && offset <= mine.Offset && BinlogTail.Holds(Master.Engine, offset + 1))
        {
            return Reply(Simple($"CONTINUE {mine.ReplId} {N(offset + 1)}"));
        }
        return Reply(Simple($"FULLRESYNC {mine.ReplId} {(r.Args[2] == "?" ? "the replica's dataset has no lineage" : "different history")}"));
    }

    private async Task<byte[]?> DefaultBeginAsync(Request r)
    {
        if (BeginReplies.TryDequeue(out var scripted))
        {
            return Simple(scripted);
        }
        Snapshot ??= await Master.Snapshots.AcquireAsync(_stop.Token);
        return Simple("READY " + Snapshot.Id);
    }

    private Task<byte[]?> DefaultManifestAsync(Request r) =>
        Reply(Snapshot is { } s && r.Args[3] == s.Id ? Bulk(s.Manifest.Serialize()) : Error("ERR no such snapshot for this replica"));

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try
            {
                tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var session = new Session(this, tcp);
            _sessions.Add(session);
            session.Loop = Task.Run(session.RunAsync);
        }
    }

    private async Task<byte[]?> DispatchAsync(Session session, string[] args)
    {
        _requests.Enqueue(args);
        var verb = args[0].ToUpperInvariant();
        if (verb == "TALUS-METASYNC")
        {
            session.Link = Interlocked.Increment(ref _links);
            _data = session;
            if (session.Link > ServeLinks)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
        }
        else if (verb == "TALUS-CONTROL")
        {
            session.Link = Links;
        }
        var request = new Request(args, session.Link, session);
        var sub = args.Length > 1 ? args[1].ToUpperInvariant() : "";
        return (verb, sub) switch
        {
            ("AUTH", _) => await Auth(request),
            ("TALUS-METASYNC", _) => await MetaSync(request),
            ("TALUS-CONTROL", _) => await Control(request),
            ("TALUS-TRYSYNC", _) => await TrySync(request),
            ("TALUS-DBSYNC", "BEGIN") => await Begin(request),
            ("TALUS-DBSYNC", "MANIFEST") => await Manifest(request),
            ("TALUS-DBSYNC", "FILE") => await File(request),
            ("TALUS-DBSYNC", "END") => await End(request),
            ("TALUS-ACK", _) => RecordAck(args),
            _ => Error($"ERR unknown command '{args[0]}'"),
        };
    }

    private byte[] RecordAck(string[] args)
    {
        _acks.Enqueue(ulong.Parse(args[2], CultureInfo.InvariantCulture));
        return [];
    }

    /// <summary>Closes every connection the replica has open (a master that went away mid-link).</summary>
    public void DropConnections()
    {
        foreach (var s in _sessions)
        {
            s.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropConnections();
        await _acceptLoop;
        foreach (var s in _sessions)
        {
            if (s.Loop is { } loop)
            {
                await loop.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        if (Snapshot is { } snapshot)
        {
            Master.Snapshots.Release(snapshot);
        }
        _stop.Dispose();
    }

    /// <summary>One accepted connection: reads RESP commands, answers them through the handlers, in order.</summary>
    public sealed class Session
    {
        private readonly FakeMaster _owner;
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;
        private readonly BufferedStream _input;
        private readonly SemaphoreSlim _writeGate = new(1, 1);

        internal Session(FakeMaster owner, TcpClient tcp)
        {
            _owner = owner;
            _tcp = tcp;
            _stream = tcp.GetStream();
            _input = new BufferedStream(_stream, 64 * 1024);
        }

        public int Link { get; internal set; }

        internal Task? Loop { get; set; }

        internal async Task RunAsync()
        {
            try
            {
                while (await ReadCommandAsync() is { } args)
                {
                    var reply = await _owner.DispatchAsync(this, args);
                    if (reply is null)
                    {
                        Close();
                        return;
                    }
                    if (reply.Length > 0)
                    {
                        await SendAsync(reply);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
            {
                // the replica closed the connection, or the test dropped it
            }
            finally
            {
                Close();
            }
        }

        public async Task SendAsync(byte[] raw)
        {
            await _writeGate.WaitAsync();
            try
            {
                await _stream.WriteAsync(raw);
            }
            finally
            {
                _writeGate.Release();
            }
        }

        public void Close() => _tcp.Dispose();

        /// <summary>One command as the replica sends it (*n then n bulk strings); null at end of stream.</summary>
        private async Task<string[]?> ReadCommandAsync()
        {
            if (await ReadLineAsync() is not { } header)
            {
                return null;
            }
            if (header.Length < 2 || header[0] != '*')
            {
                throw new IOException($"fake master: expected a multibulk command, got '{header}'");
            }
            var args = new string[int.Parse(header[1..], CultureInfo.InvariantCulture)];
            for (var i = 0; i < args.Length; i++)
            {
                var length = await ReadLineAsync() ?? throw new IOException("fake master: truncated command");
                var data = new byte[int.Parse(length[1..], CultureInfo.InvariantCulture) + 2];
                await _input.ReadExactlyAsync(data);
                args[i] = Encoding.UTF8.GetString(data, 0, data.Length - 2);
            }
            return args;
        }

        private async Task<string?> ReadLineAsync()
        {
            var sb = new StringBuilder();
            var one = new byte[1];
            while (true)
            {
                if (await _input.ReadAsync(one) == 0)
                {
                    return null;
                }
                if (one[0] == '\n')
                {
                    return sb.ToString().TrimEnd('\r');
                }
                sb.Append((char)one[0]);
            }
        }
    }
}
