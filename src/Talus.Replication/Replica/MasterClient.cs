using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Talus.Replication.Replica;

/// <summary>An error reply from the master.</summary>
public sealed record RespError(string Message);

/// <summary>
/// The replica's connection to its master: sends commands as RESP multibulk and reads replies (simple
/// string, error, integer, bulk, array) with a per-read deadline of repl-timeout. Replies are returned as
/// string, <see cref="RespError"/>, long, byte[] (bulk; null for nil) or object?[] (array).
/// </summary>
public sealed class MasterClient : IAsyncDisposable
{
    /// <summary>Largest bulk reply that fits a byte array with its CRLF (a binlog batch can be far larger than one value).</summary>
    private static readonly int MaxBulkLength = Array.MaxLength - 2;

    /// <summary>Replies of the replication verbs have a handful of elements; a huge count is a broken stream.</summary>
    private const int MaxArrayLength = 1024;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _input;
    private readonly byte[] _one = new byte[1];

    private MasterClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _input = new BufferedStream(_stream, 256 * 1024);
    }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Total bytes read (INFO master_sync_read_bytes while transferring).</summary>
    public long BytesRead { get; private set; }

    public static async Task<MasterClient> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken token)
    {
        var tcp = new TcpClient { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        cts.CancelAfter(timeout);
        try
        {
            await tcp.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
        return new MasterClient(tcp) { Timeout = timeout };
    }

    public async Task SendAsync(CancellationToken token, params object[] args)
    {
        using var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"*{args.Length}\r\n"));
        foreach (var a in args)
        {
            var bytes = a switch
            {
                byte[] b => b,
                string s => Encoding.UTF8.GetBytes(s),
                IFormattable f => Encoding.ASCII.GetBytes(f.ToString(null, CultureInfo.InvariantCulture)),
                _ => Encoding.UTF8.GetBytes(a.ToString() ?? ""),
            };
            ms.Write(Encoding.ASCII.GetBytes($"${bytes.Length}\r\n"));
            ms.Write(bytes);
            ms.Write("\r\n"u8);
        }
        await _stream.WriteAsync(ms.ToArray(), token).ConfigureAwait(false);
    }

    /// <summary>masterauth with masteruser: AUTH user password, or AUTH password without a user. Returns the reply.</summary>
    public Task<object?> AuthAsync(string? user, string password, CancellationToken token) =>
        user is { Length: > 0 } ? CallAsync(token, "AUTH", user, password) : CallAsync(token, "AUTH", password);

    public async Task<object?> CallAsync(CancellationToken token, params object[] args)
    {
        await SendAsync(token, args).ConfigureAwait(false);
        return await ReadAsync(token).ConfigureAwait(false);
    }

    /// <summary>Sends a command and expects a non-error reply; throws <see cref="ReplicationException"/> with the master's error otherwise.</summary>
    public async Task<object?> CallOkAsync(CancellationToken token, params object[] args)
    {
        var reply = await CallAsync(token, args).ConfigureAwait(false);
        if (reply is RespError e)
        {
            throw new ReplicationException($"master answered {args[0]} with: {e.Message}");
        }
        return reply;
    }

    public async Task<object?> ReadAsync(CancellationToken token)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        cts.CancelAfter(Timeout);
        try
        {
            return await ReadValueAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new ReplicationException($"no data from the master for {Timeout.TotalSeconds:0}s (repl-timeout)");
        }
    }

    private async Task<object?> ReadValueAsync(CancellationToken token)
    {
        var type = await ReadByteAsync(token).ConfigureAwait(false);
        var line = await ReadLineAsync(token).ConfigureAwait(false);
        switch ((char)type)
        {
            case '+':
                return line;
            case '-':
                return new RespError(line);
            case ':':
                return ParseInteger(line);
            case '$':
            {
                var n = ParseLength(line, MaxBulkLength);
                if (n < 0)
                {
                    return null;
                }
                var data = new byte[n + 2];
                await ReadExactlyAsync(data, token).ConfigureAwait(false);
                return data.AsSpan(0, n).ToArray();
            }
            case '*':
            {
                var n = ParseLength(line, MaxArrayLength);
                if (n < 0)
                {
                    return null;
                }
                var items = new object?[n];
                for (var i = 0; i < n; i++)
                {
                    items[i] = await ReadValueAsync(token).ConfigureAwait(false);
                }
                return items;
            }
            default:
                throw new ReplicationException($"protocol error from the master: unexpected type byte {type}");
        }
    }

    // A number from the master that does not parse, or a length out of range, is a protocol error like any
    // other (the link goes to Error and retries), never a FormatException that would end the replica's loop
    // without a word.
    private static long ParseInteger(string line) =>
        long.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : throw InvalidNumber(line);

    /// <summary>A bulk or array length: -1 (nil) up to <paramref name="max"/>.</summary>
    private static int ParseLength(string line, int max) =>
        int.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= -1 && value <= max ? value : throw InvalidNumber(line);

    private static ReplicationException InvalidNumber(string line) =>
        new($"protocol error from the master: invalid number '{(line.Length > 32 ? line[..32] + "..." : line)}'");

    private async ValueTask<byte> ReadByteAsync(CancellationToken token)
    {
        if (await _input.ReadAsync(_one, token).ConfigureAwait(false) == 0)
        {
            throw new ReplicationException("the master closed the connection");
        }
        BytesRead++;
        return _one[0];
    }

    private async ValueTask<string> ReadLineAsync(CancellationToken token)
    {
        var sb = new StringBuilder();
        while (true)
        {
            var b = await ReadByteAsync(token).ConfigureAwait(false);
            if (b == '\r')
            {
                await ReadByteAsync(token).ConfigureAwait(false);
                return sb.ToString();
            }
            sb.Append((char)b);
            if (sb.Length > 64 * 1024)
            {
                throw new ReplicationException("protocol error from the master: line too long");
            }
        }
    }

    /// <summary>
    /// Completes when the master closes or resets this connection, or sends anything on it (it never does on
    /// the control connection after its +OK). No repl-timeout here: an idle control connection is normal.
    /// Safe next to <see cref="SendAsync"/>, which writes to the socket and not through the read buffer.
    /// </summary>
    public async Task WaitForCloseAsync(CancellationToken token)
    {
        try
        {
            await _input.ReadAsync(_one, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // closed or reset: that is what this waits for
        }
    }

    private async ValueTask ReadExactlyAsync(byte[] buffer, CancellationToken token)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _input.ReadAsync(buffer.AsMemory(read), token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new ReplicationException("the master closed the connection");
            }
            read += n;
        }
        BytesRead += buffer.Length;
    }

    public async ValueTask DisposeAsync()
    {
        await _input.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}

/// <summary>A replication step failed for a reason the log line states; the replica goes to Error and retries.</summary>
public sealed class ReplicationException : Exception
{
    public ReplicationException(string message) : base(message) { }

    public ReplicationException() { }

    public ReplicationException(string message, Exception inner) : base(message, inner) { }
}
