using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Talus.Protocol;
using Talus.Server.Commands;
using Talus.Server.Dispatch;

namespace Talus.Server.Host;

/// <summary>
/// One client socket: a System.IO.Pipelines read loop that parses every complete command in the buffer,
/// executes each in order, and flushes the replies once per read (pipelining). Commands run synchronously
/// on the loop's thread; only a blocking command (BLPOP ...) makes the loop await before the next one.
/// </summary>
public sealed class ClientConnection
{
    /// <summary>Flush replies mid-batch beyond this many bytes so a long pipeline does not buffer without bound.</summary>
    private const int FlushThreshold = 256 * 1024;

    private readonly Socket _socket;
    private readonly ServerContext _server;
    private readonly CommandDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly CommandArgs _args = new();
    private readonly CommandContext _ctx;
    private readonly CancellationTokenSource _closed = new();

    public ClientConnection(Socket socket, ServerContext server, CommandDispatcher dispatcher, ILogger logger)
    {
        _socket = socket;
        _server = server;
        _dispatcher = dispatcher;
        _logger = logger;
        var stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
        Session = new ClientSession(server.Clients.NextId(), socket.RemoteEndPoint, socket.LocalEndPoint, server.Options.RequirePass is null);
        Session.OnKill(Close);
        Session.Closed = _closed.Token;
        Session.OnPeerCheck(PeerGone);
        var writer = new RespWriter(_writer);
        _ctx = new CommandContext(server, Session, writer);
    }

    public ClientSession Session { get; }

    /// <summary>Writes raw bytes to the client outside the request/reply flow (pushes); the caller synchronises.</summary>
    public PipeWriter Output => _writer;

    public async Task RunAsync()
    {
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or was killed: nothing to report.
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Client {Id} ({Address}) failed", Session.Id, Session.Address);
        }
        finally
        {
            _closed.Cancel();
            Session.OnDisconnected();
            await _reader.CompleteAsync().ConfigureAwait(false);
            await _writer.CompleteAsync().ConfigureAwait(false);
            _socket.Dispose();
            _args.Dispose();
        }
    }

    private async Task ReadLoopAsync()
    {
        var token = _closed.Token;
        while (!Session.CloseRequested)
        {
            var result = await _reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            Interlocked.Add(ref _server.Stats.NetInputBytes, buffer.Length);
            var outcome = ProcessBuffer(buffer, out var consumed);
            Session.QueryBufferBytes = buffer.Slice(consumed).Length;
            if (outcome == BatchOutcome.NeedMoreData)
            {
                if (Session.QueryBufferBytes > _server.Options.ClientQueryBufferLimit)
                {
                    _logger.LogWarning("Closing client {Id} ({Address}): query buffer over client-query-buffer-limit", Session.Id, Session.Address);
                    break;
                }
                _reader.AdvanceTo(consumed, buffer.End);
            }
            else
            {
                _reader.AdvanceTo(consumed);
            }
            var written = _ctx.Writer.BytesWritten;
            _ctx.Writer.ResetCounter();
            Interlocked.Add(ref _server.Stats.NetOutputBytes, written);
            await _writer.FlushAsync(token).ConfigureAwait(false);
            if (outcome == BatchOutcome.Blocked && _ctx.Deferred is { } deferred)
            {
                _ctx.Deferred = null;
                await deferred().ConfigureAwait(false);
                await _writer.FlushAsync(token).ConfigureAwait(false);
            }
            else if (outcome == BatchOutcome.Blocked && _ctx.Pending is { } pending)
            {
                _ctx.Pending = null;
                Session.Blocked = true;
                try
                {
                    await pending.ConfigureAwait(false);
                }
                finally
                {
                    Session.Blocked = false;
                }
                await _writer.FlushAsync(token).ConfigureAwait(false);
            }
            if (outcome == BatchOutcome.ProtocolError || (result.IsCompleted && outcome == BatchOutcome.NeedMoreData))
            {
                break;
            }
        }
    }

    private enum BatchOutcome
    {
        NeedMoreData,  // everything complete was executed; the rest is a partial command
        FlushFirst,    // replies piled up; flush, then continue with the same buffer
        Blocked,       // a blocking command is pending; await it, then continue
        ProtocolError, // framing broken: error written, close
        Closing,       // QUIT or kill: stop reading
    }

    private BatchOutcome ProcessBuffer(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        consumed = buffer.Start;
        var limits = Session.Authenticated ? LimitsFor() : RespLimits.Unauthenticated;
        while (true)
        {
            ParseStatus status;
            try
            {
                status = RespParser.TryParse(ref reader, _args, limits);
            }
            catch (RespProtocolException ex)
            {
                _ctx.Writer.WriteError(ex.Message);
                Session.CloseRequested = true;
                return BatchOutcome.ProtocolError;
            }
            if (status == ParseStatus.Incomplete)
            {
                _args.Trim();
                return BatchOutcome.NeedMoreData;
            }
            consumed = reader.Position;
            if (_args.Count == 0)
            {
                continue;
            }
            _ctx.Args = _args;
            _dispatcher.Execute(_ctx);
            if (_ctx.Pending is not null || _ctx.Deferred is not null)
            {
                return BatchOutcome.Blocked;
            }
            if (Session.CloseRequested)
            {
                return BatchOutcome.Closing;
            }
            if (_writer.UnflushedBytes > FlushThreshold)
            {
                return BatchOutcome.FlushFirst;
            }
            if (!Session.Authenticated && limits != RespLimits.Unauthenticated)
            {
                limits = RespLimits.Unauthenticated;
            }
            else if (Session.Authenticated && limits == RespLimits.Unauthenticated)
            {
                limits = LimitsFor();
            }
        }
    }

    private RespLimits LimitsFor()
    {
        var current = _limits;
        if (current is null || current.MaxBulkLength != _server.Options.ProtoMaxBulkLen)
        {
            current = _limits = new RespLimits { MaxBulkLength = _server.Options.ProtoMaxBulkLen };
        }
        return current;
    }

    private RespLimits? _limits;

    /// <summary>
    /// Whether the peer closed the socket. Only meaningful while nothing reads it (a blocked command): then a
    /// readable socket with no bytes available is at end of stream.
    /// </summary>
    private bool PeerGone()
    {
        try
        {
            return _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>Closes the connection now (CLIENT KILL, idle timeout, shutdown).</summary>
    public void Close()
    {
        Session.CloseRequested = true;
        try
        {
            _closed.Cancel();
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already closed
        }
    }
}
