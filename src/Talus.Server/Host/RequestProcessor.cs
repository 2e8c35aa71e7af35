using System.Buffers;
using Talus.Protocol;
using Talus.Server.Commands;
using Talus.Server.Dispatch;
using Talus.Storage.Engine;

namespace Talus.Server.Host;

/// <summary>
/// The parse → dispatch loop of one client, apart from its transport: given the bytes received so far, it
/// executes every complete command in order and writes the replies to the output. <see cref="ClientConnection"/>
/// drives it from a socket pipe; the benchmarks drive it from a byte buffer, with no socket in the way.
/// Blind writes of one call (a pipeline of SETs) share one <see cref="WriteGroup"/>, and read-modify-write commands
/// one <see cref="PipelineGroup"/>; each is committed before <see cref="Process"/> returns, or, with
/// <see cref="MayQueueWrites"/>, queued for the committer; either way no reply leaves before the writes it
/// acknowledges are committed.
/// </summary>
public sealed class RequestProcessor : IDisposable
{
    /// <summary>Flush replies mid-batch beyond this many bytes so a long pipeline does not buffer without bound.</summary>
    public const int FlushThreshold = 256 * 1024;

    private readonly ServerContext _server;
    private readonly CommandDispatcher _dispatcher;
    private readonly CommandArgs _args = new();
    private readonly WriteGroup _group = new();
    private readonly PipelineGroup _pipeline;
    private RespLimits? _limits;

    public RequestProcessor(ServerContext server, CommandDispatcher dispatcher, ClientSession session, IBufferWriter<byte> output)
    {
        _server = server;
        _dispatcher = dispatcher;
        Session = session;
        _pipeline = new PipelineGroup(server);
        Context = new CommandContext(server, session, new RespWriter(output)) { WriteGroup = _group, PipelineGroup = _pipeline };
    }

    public ClientSession Session { get; }

    /// <summary>
    /// When set (a socket connection), a write group of several SETs, or a read-modify-write group of several
    /// commands, left at the end of a read is queued for the committer instead of written on this thread:
    /// <see cref="Process"/> returns with <see cref="WritesQueued"/>, and the caller must await
    /// <see cref="WhenWritten"/> and call <see cref="EndQueuedWrites"/> before it sends anything, processes more, or
    /// disposes this processor. A lone command is still written at once (a hand-off to the committer would only add
    /// to its latency).
    /// </summary>
    public bool MayQueueWrites { get; init; }

    /// <summary>True while a queued write group (SETs, or a read-modify-write group) waits for the committer.</summary>
    public bool WritesQueued => _group.IsQueued || _pipeline.IsQueued;

    /// <summary>
    /// Completes when the queued write group is written (or failed); with <paramref name="continueOnCommitter"/> the
    /// caller may resume on the committer's thread, when few other groups wait to be written
    /// (<see cref="CommitQueue.OnCommitterThread"/>).
    /// </summary>
    public ValueTask WhenWritten(bool continueOnCommitter = false) =>
        _pipeline.IsQueued ? _pipeline.WhenWritten(continueOnCommitter) : _group.WhenWritten(continueOnCommitter);

    /// <summary>Sends the queued group's held replies (or the storage errors) once it is written.</summary>
    public void EndQueuedWrites()
    {
        if (_pipeline.IsQueued)
        {
            _pipeline.EndQueued(Context);
        }
        else
        {
            Context.EndQueuedWrites();
        }
    }

    public CommandContext Context { get; }

    /// <summary>Set when EXEC's commit failed; the transport closes without sending what is unflushed.</summary>
    public Exception? StorageFailure => Context.WriteGroupFailure;

    /// <summary>
    /// Executes the complete commands at the start of <paramref name="buffer"/>; <paramref name="consumed"/> is
    /// where the first unexecuted byte starts.
    /// </summary>
    public BatchOutcome Process(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        Context.ClockMark = 0;
        BatchOutcome outcome;
        try
        {
            outcome = ProcessCommands(buffer, out consumed);
        }
        catch
        {
            _pipeline.Abort();
            _pipeline.PassOnAdmission(Context);
            throw;
        }
        // The replies of the read-modify-write group go out only once its batch is written: here, or by the
        // committer when the group is queued (then no SET group is pending: SETs join an open group).
        if (!MayQueueWrites || !_group.IsEmpty || !_pipeline.TryQueue(Context))
        {
            _pipeline.Commit(Context);
        }
        _pipeline.PassOnAdmission(Context);
        if (!_group.IsEmpty)
        {
            var gate = _server.ExecutionGate;
            gate.EnterReadLock();
            try
            {
                if (!MayQueueWrites || _group.Commands < 2 || !Context.QueueWrites())
                {
                    Context.CommitWrites();
                }
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
        return Context.WriteGroupFailure is null ? outcome : BatchOutcome.StorageFailure;
    }

    private BatchOutcome ProcessCommands(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        consumed = buffer.Start;
        var ctx = Context;
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
                ctx.Writer.WriteError(ex.Message);
                Session.CloseRequested = true;
                return BatchOutcome.ProtocolError;
            }
            if (status == ParseStatus.Incomplete)
            {
                _args.Trim();
                return BatchOutcome.NeedMoreData;
            }
            var before = consumed;
            consumed = reader.Position;
            if (_args.Count == 0)
            {
                continue;
            }
            ctx.Args = _args;
            ctx.MoreInBuffer = !reader.End;
            // Pushes queued before this command go out before its reply (a message published before an
            // UNSUBSCRIBE precedes its confirmation, as in Redis, where it would already sit in the buffer).
            if (Session.Outbox is { HasFrames: true } outbox)
            {
                outbox.DrainTo(ctx.Writer);
            }
            _dispatcher.Execute(ctx);
            if (ctx.GaveWayAt >= 0)
            {
                // The command gave way to a busy key and did not run: it is read again after the wait.
                consumed = before;
                return BatchOutcome.StripeBusy;
            }
            if (ctx.WriteGroupFailure is not null)
            {
                return BatchOutcome.StorageFailure;
            }
            if (ctx.Pending is not null || ctx.Deferred is not null)
            {
                return BatchOutcome.Blocked;
            }
            if (Session.CloseRequested)
            {
                return BatchOutcome.Closing;
            }
            if (ctx.Writer.BytesWritten > FlushThreshold)
            {
                return BatchOutcome.FlushFirst;
            }
            if (_group.IsFull || _pipeline.IsFull)
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

    public void Dispose()
    {
        _args.Dispose();
        _group.Dispose();
    }
}
