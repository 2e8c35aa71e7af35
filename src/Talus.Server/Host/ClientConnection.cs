using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Talus.Protocol;
using Talus.Server.Commands;
using Talus.Server.Dispatch;
using Talus.Storage.Engine;

namespace Talus.Server.Host;

/// <summary>
/// One client socket: a System.IO.Pipelines read loop that hands every read to its <see cref="RequestProcessor"/>
/// (which parses and executes each complete command in order) and flushes the replies once per read
/// (pipelining). Commands run synchronously on the loop's thread; only a blocking command (BLPOP ...), or a
/// read-modify-write command whose key another thread holds (it gives way, see <see cref="StripeWakeups"/>),
/// makes the loop await before the next one. A loop resumed by the thread that released such a key sends its
/// replies from the thread pool, so that thread serves the key's next connection meanwhile. The replies of writes
/// queued for the committer are sent from the committer's thread once they are written, unless other writes wait
/// for it.
/// </summary>
public sealed class ClientConnection
{
    /// <summary>Pushes moved into the pipe per flush; what is drained but unflushed stays within this.</summary>
    private const int PushChunk = 64 * 1024;

    private readonly Socket _socket;
    private readonly ServerContext _server;
    private readonly ILogger _logger;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly RequestProcessor _processor;
    private readonly CommandContext _ctx;
    private readonly CancellationTokenSource _closed = new();
    private readonly ClientOutbox _outbox;

    public ClientConnection(Socket socket, ServerContext server, CommandDispatcher dispatcher, ILogger logger)
    {
        _socket = socket;
        _server = server;
        _logger = logger;
        var stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
        Session = new ClientSession(server.Clients.NextId(), socket.RemoteEndPoint, socket.LocalEndPoint, server.Options.RequirePass is null);
        Session.OnKill(Close);
        Session.Closed = _closed.Token;
        Session.OnPeerCheck(PeerGone);
        _processor = new RequestProcessor(server, dispatcher, Session, _writer) { MayQueueWrites = true };
        _ctx = _processor.Context;
        _ctx.MayWaitForStripe = true;
        _outbox = new ClientOutbox(Session, server.OutputGuard);
        // A push wakes the loop out of its pending read; the loop alone writes to the pipe.
        _outbox.OnWake(WakeLoop);
        Session.Outbox = _outbox;
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
            if (CommitQueue.OnCommitterThread)
            {
                // The teardown waits for queued writes and the pipes: not on the committer's thread.
                await Task.Yield();
            }
            _closed.Cancel();
            // A place in a key stripe's queue, or a turn that came while the connection was closing, goes to the
            // next in the queue.
            if (_ctx.StripeTurn is { } turn && _ctx.GaveWayAt >= 0)
            {
                _server.Dataset.Locks.Leave(_ctx.GaveWayAt, turn);
            }
            _ctx.PipelineGroup?.PassOnAdmission(_ctx);
            _outbox.Drop();
            if (_processor.WritesQueued)
            {
                // The committer still holds the group's batch: it is disposed below only once written.
                await _processor.WhenWritten().ConfigureAwait(false);
            }
            Session.OnDisconnected();
            await _reader.CompleteAsync().ConfigureAwait(false);
            // Completing with an error discards the unflushed replies: after a failed group commit they
            // would acknowledge writes that never happened.
            await _writer.CompleteAsync(_processor.StorageFailure).ConfigureAwait(false);
            _socket.Dispose();
            _processor.Dispose();
        }
    }

    private async Task ReadLoopAsync()
    {
        var token = _closed.Token;
        // A socket read started while the committer writes this connection's SETs, taken up at the top of the loop.
        var nextRead = default(ValueTask<ReadResult>);
        var readStarted = false;
        try
        {
            while (!Session.CloseRequested)
            {
                // A read cancelled by a push (CancelPendingRead) is handled like any other: its buffer may hold
                // commands, and the pushes are drained below with the replies.
                ReadResult result;
                if (readStarted)
                {
                    readStarted = false;
                    result = await nextRead.ConfigureAwait(false);
                }
                else
                {
                    result = await _reader.ReadAsync(token).ConfigureAwait(false);
                }
                if (CommitQueue.OnCommitterThread)
                {
                    // The replies went out from the committer's thread and the next commands were already there:
                    // they run elsewhere (a command may wait for the committer).
                    await Task.Yield();
                }
                _outbox.ConsumeWake();
                var buffer = result.Buffer;
                Interlocked.Add(ref _server.Stats.NetInputBytes, buffer.Length);
                BatchOutcome outcome;
                SequencePosition consumed;
                // Connections that gave way to a key stripe this read released are resumed here, after it.
                using (StripeWakeups.Collect())
                {
                    outcome = _processor.Process(buffer, out consumed);
                }
                if (outcome == BatchOutcome.StorageFailure)
                {
                    _logger.LogError(_processor.StorageFailure, "Closing client {Id} ({Address}): a transaction's commit failed in storage", Session.Id, Session.Address);
                    break;
                }
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
                if (_processor.WritesQueued)
                {
                    // The writes of this read (a SET group or a read-modify-write group) are queued for the committer:
                    // their replies go out once they are written, and no command of this client runs before (a later
                    // one must see them). The socket read for the next commands starts now, on this thread, and is
                    // taken up at the top of the loop. When few other groups wait to be written, the loop resumes on the
                    // committer's thread, which sends the replies; anything past that leaves it first
                    // (CommitQueue.OnCommitterThread).
                    if (outcome is BatchOutcome.NeedMoreData or BatchOutcome.FlushFirst && !result.IsCompleted)
                    {
                        nextRead = _reader.ReadAsync(token);
                        readStarted = true;
                    }
                    await _processor.WhenWritten(continueOnCommitter: true).ConfigureAwait(false);
                    _processor.EndQueuedWrites();
                }
                if (StripeWakeups.ResumingInline)
                {
                    // Resumed by the thread that released a hot key's stripe: that thread goes on to the next
                    // connection in the key's queue while this one's replies are sent from the thread pool.
                    await Task.Yield();
                }
                DrainPushes();
                var written = _ctx.Writer.BytesWritten;
                _ctx.Writer.ResetCounter();
                Interlocked.Add(ref _server.Stats.NetOutputBytes, written);
                var flush = _writer.FlushAsync(token);
                if (!flush.IsCompleted && _ctx.StripeTurn is { } early)
                {
                    // The client is slow to read: a turn at the key must not come while this loop waits on its
                    // socket, holding up everyone queued behind. Leave the queue (or hand on a turn already given)
                    // and queue again once flushed.
                    _ctx.StripeTurn = null;
                    _server.Dataset.Locks.Leave(_ctx.GaveWayAt, early);
                }
                await flush.ConfigureAwait(false);
                _outbox.Flushed();
                if (CommitQueue.OnCommitterThread && outcome is not (BatchOutcome.NeedMoreData or BatchOutcome.FlushFirst))
                {
                    // What follows waits for a key or a blocking command, or ends the connection: not on the committer's
                    // thread. (A command that gives way or blocks commits the open groups first, so today only a
                    // connection ending mid-read gets here with its writes queued.)
                    await Task.Yield();
                }
                if (outcome == BatchOutcome.StripeBusy && _ctx.GaveWayAt is var stripe and >= 0)
                {
                    // The rest of the buffer (from the command that gave way) is read again when the turn comes; it
                    // was not marked examined, so the next read returns at once.
                    var turn = _ctx.StripeTurn;
                    _ctx.StripeTurn = null;
                    _ctx.GaveWayAt = -1;
                    if (turn is null)
                    {
                        // The stripe may have been released already: then a turn given here is taken up on this thread.
                        using (StripeWakeups.Collect())
                        {
                            turn = _server.Dataset.Locks.WhenAdmitted(stripe);
                        }
                    }
                    await turn.ConfigureAwait(false);
                    // This connection's turn: its next read may take the stripe ahead of the queue (or hands the turn on).
                    _ctx.AdmittedStripe = stripe;
                }
                else if (outcome == BatchOutcome.Blocked && _ctx.Deferred is { } deferred)
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
        finally
        {
            if (readStarted)
            {
                // The loop ended with that read pending: it must end before the reader is completed.
                _reader.CancelPendingRead();
                try
                {
                    await nextRead.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // the peer went away meanwhile
                }
            }
        }
    }

    /// <summary>
    /// Moves queued pushes behind the replies of this read, at most <see cref="PushChunk"/> bytes per round so
    /// a busy subscriber still gets its own commands read; what is left wakes the loop again at once.
    /// </summary>
    private void DrainPushes()
    {
        if (!_outbox.HasFrames || Session.CloseRequested)
        {
            return;
        }
        _outbox.DrainTo(_ctx.Writer, PushChunk);
        if (_outbox.HasFrames)
        {
            _outbox.RequestWake();
        }
    }

    /// <summary>
    /// Wakes this connection's loop from another client's command (a PUBLISH, a MONITOR line). Cancelling the
    /// pending read can run this loop's continuation synchronously on the caller's thread, inside the caller's
    /// command, where it would share that thread's open storage transaction (EXEC's, or a pipeline group's);
    /// so the cancellation is handed to the thread pool.
    /// </summary>
    private void WakeLoop() => ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.CancelRead(), this, preferLocal: false);

    private void CancelRead()
    {
        try
        {
            _reader.CancelPendingRead();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            // The connection is closing; nothing left to wake.
        }
    }

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
