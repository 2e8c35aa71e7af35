using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using RocksDbSharp;
using Talus.Server.Commands;
using Talus.Server.Host;
using Talus.Server.PubSub;
using Talus.Server.Transactions;
using Talus.Storage.Engine;

namespace Talus.Server.Dispatch;

/// <summary>Lets a subsystem take over a command before it runs (MULTI queues it, subscribe mode restricts it).</summary>
public interface ICommandInterceptor
{
    /// <summary>Returns true when it handled the command (and wrote its reply).</summary>
    bool TryIntercept(CommandContext ctx, CommandDescriptor command);
}

/// <summary>
/// Runs one parsed command through the gates in order:
/// lookup → arity → auth → client pause → interceptors (MULTI, subscribe mode) → read-only replica → execute.
/// There is no separate "append to binlog" step: every write is one RocksDB WriteBatch, and the WAL that
/// batch goes to is the binlog replication reads.
/// </summary>
public sealed class CommandDispatcher
{
    private readonly ServerContext _server;
    private readonly ILogger _logger;
    private readonly List<ICommandInterceptor> _interceptors = [];

    public CommandDispatcher(ServerContext server)
    {
        _server = server;
        _logger = server.LoggerFactory.CreateLogger("Talus.Dispatch");
        server.Dispatcher = this;
        // Subscribe mode first: as in Redis, a RESP2 subscriber's command is refused before MULTI could queue it.
        _interceptors.Add(new SubscribeModeGate());
        // Then MULTI, so that every later gate sees only the commands that run now (EXEC, DISCARD ...).
        _interceptors.Add(new MultiInterceptor());
    }

    public void AddInterceptor(ICommandInterceptor interceptor) => _interceptors.Add(interceptor);

    public void Execute(CommandContext ctx)
    {
        var args = ctx.Args;
        var session = ctx.Session;
        var writer = ctx.Writer;
        session.LastInteraction = Environment.TickCount64;

        var command = _server.Commands.Find(args[0]);
        if (command is null)
        {
            session.Transaction?.FlagError();
            UnknownCommand(ctx);
            return;
        }
        ctx.Command = command;
        if (!command.ArityMatches(args.Count))
        {
            session.Transaction?.FlagError();
            ctx.WrongArity();
            Interlocked.Increment(ref _server.Stats.ErrorReplies);
            return;
        }
        // Join the pipeline's group of read-modify-write commands, or commit it so this command runs alone.
        if (ctx.PipelineGroup is { } pipeline && !pipeline.BeforeCommand(ctx, command))
        {
            return;
        }
        if (!session.Authenticated && (command.Flags & CommandFlags.NoAuth) == 0)
        {
            writer.WriteError(Errors.NoAuth);
            Interlocked.Increment(ref _server.Stats.ErrorReplies);
            return;
        }
        if (_server.Pause.HoldFor(session, command.IsHeldByWritePause) is { } pause)
        {
            ctx.Pending = AdmitAfterPauseAsync(ctx, command, pause);
            return;
        }
        // A command that joined the group (it is open only then) has its reply held until the group is written.
        if (ctx.PipelineGroup is { IsOpen: true })
        {
            ctx.HeldReplies.BeginReply(writer);
            Admit(ctx, command);
            ctx.HeldReplies.EndReply();
            return;
        }
        Admit(ctx, command);
    }

    /// <summary>
    /// CLIENT PAUSE holds this client's command: the connection awaits the returned task (as for a blocking
    /// command), which lets the command through the remaining gates once the pause ends.
    /// </summary>
    private async Task AdmitAfterPauseAsync(CommandContext ctx, CommandDescriptor command, Task pause)
    {
        await pause.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        if (_server.Pause.ShuttingDown)
        {
            ctx.Session.CloseRequested = true; // never run: the client sees the connection close, unanswered
            return;
        }
        // The command must not write its reply while the connection still flushes earlier ones: the
        // connection marks the session Blocked once it has flushed and is awaiting this task.
        while (!ctx.Session.Blocked)
        {
            if (ctx.Session.CloseRequested || _server.Clients.Find(ctx.Session.Id) is null)
            {
                return; // the connection is gone
            }
            await Task.Delay(1).ConfigureAwait(false);
        }
        if (ctx.Session.CloseRequested)
        {
            return;
        }
        // The connection flushes this reply as soon as the task ends, before any later group commit, so
        // the command must not join the write group.
        var group = ctx.WriteGroup;
        ctx.WriteGroup = null;
        try
        {
            Admit(ctx, command);
        }
        finally
        {
            ctx.WriteGroup = group;
        }
        if (ctx.Pending is { } blocked)
        {
            ctx.Pending = null;
            await blocked.ConfigureAwait(false);
        }
    }

    private void Admit(CommandContext ctx, CommandDescriptor command)
    {
        var session = ctx.Session;
        var writer = ctx.Writer;
        foreach (var interceptor in _interceptors)
        {
            if (interceptor.TryIntercept(ctx, command))
            {
                return;
            }
        }
        // A replica's dataset must stay equal to its master's history (its offsets are the master's), so it
        // refuses every client write, whatever replica-read-only says.
        if (command.IsWrite && _server.Replication.IsReplica && session.Kind != ClientKind.Master)
        {
            writer.WriteError(Errors.ReadOnlyReplica);
            Interlocked.Increment(ref _server.Stats.ErrorReplies);
            return;
        }
        Run(ctx, command);
    }

    /// <summary>Executes a command that passed the gates (also used by EXEC for queued commands).</summary>
    public void Run(CommandContext ctx, CommandDescriptor command)
    {
        ctx.Command = command;
        ctx.Session.LastCommand = command.FullName;
        // One clock read per command: within one pipelined batch a command starts where the previous ended.
        var start = ctx.ClockMark != 0 ? ctx.ClockMark : Stopwatch.GetTimestamp();
        var gate = _server.ExecutionGate;
        // EXEC takes the gate exclusively; the commands it runs come back here and take it shared, which the
        // gate's recursion policy allows for the thread that holds it exclusively.
        var exclusive = command.Exclusive;
        if (exclusive)
        {
            _server.EnterExclusive();
        }
        else
        {
            gate.EnterReadLock();
        }
        ctx.Depth++;
        // WATCH: a write command that changed data marks its keys' watchers dirty. While nobody watches this
        // costs one volatile read before and after; "changed data" is "wrote a batch or joined the write group", or
        // a command's own word that it modified its keys without a write (ModifiedWithoutWrite).
        var watches = _server.Watches;
        var watching = command.IsWrite && watches.Active;
        var writesBefore = watching ? StorageEngine.ThreadWrites : 0;
        var groupedBefore = watching ? ctx.WriteGroup?.Commands ?? 0 : 0;
        ctx.ModifiedWithoutWrite = false;
        try
        {
            if (watching)
            {
                WatchTouch.BeforeWrite(ctx, command);
            }
            // A command that cannot join the connection's write group must see the group's writes (and must
            // not be ordered before them in the WAL), so the group commits first.
            if (command.GroupsWrites || ctx.CommitWrites())
            {
                command.Handler(ctx);
            }
            // Checked again after the write: a WATCH registered meanwhile must not miss it (conservatively touched).
            if (command.IsWrite && (watching || watches.Active)
                && (!watching || StorageEngine.ThreadWrites != writesBefore || (ctx.WriteGroup?.Commands ?? 0) != groupedBefore || ctx.ModifiedWithoutWrite))
            {
                WatchTouch.AfterWrite(ctx, command);
            }
        }
        catch (Exception ex) when (CommandContext.IsStorageFailure(ex))
        {
            // Storage failure (disk full, I/O error): the write did not happen; say so and keep serving.
            _logger.LogError(ex, "Command {Command} failed in storage", command.Name);
            ctx.Writer.WriteError(CommandContext.StorageError(ex));
        }
        finally
        {
            ctx.Depth--;
            if (exclusive)
            {
                gate.ExitWriteLock();
            }
            else
            {
                gate.ExitReadLock();
            }
        }
        if (_server.Monitors.Active)
        {
            _server.Monitors.Feed(ctx);
        }
        Interlocked.Increment(ref _server.Stats.CommandsProcessed);
        var end = Stopwatch.GetTimestamp();
        ctx.ClockMark = end;
        var micros = (long)Stopwatch.GetElapsedTime(start, end).TotalMicroseconds;
        var threshold = _server.Options.SlowlogLogSlowerThan;
        if (threshold >= 0 && micros >= threshold)
        {
            RecordSlow(ctx, micros);
        }
    }

    private void RecordSlow(CommandContext ctx, long micros)
    {
        // Redis keeps at most 32 arguments of at most 128 bytes each in a slowlog entry.
        var args = ctx.Args;
        var count = Math.Min(args.Count, 32);
        var kept = new string[count];
        for (var i = 0; i < count; i++)
        {
            if (i == 31 && args.Count > 32)
            {
                kept[i] = $"... ({args.Count - 31} more arguments)";
                break;
            }
            var arg = args[i];
            kept[i] = arg.Length > 128
                ? Encoding.UTF8.GetString(arg[..128]) + $"... ({arg.Length - 128} more bytes)"
                : Encoding.UTF8.GetString(arg);
        }
        _server.SlowLog.Add(kept, micros, ctx.Session.Address, ctx.Session.Name ?? "", _server.Options.SlowlogMaxLen);
    }

    private void UnknownCommand(CommandContext ctx)
    {
        // Byte for byte what Redis formats with "%.128s" and "'%.*s' ": each argument is cut at its first NUL,
        // the name at 128 bytes, and arguments are quoted until the list reaches 128 bytes.
        var args = ctx.Args;
        var list = new List<byte>();
        for (var i = 1; i < args.Count && list.Count < 128; i++)
        {
            var arg = args.CString(i);
            list.Add((byte)'\'');
            list.AddRange(arg[..Math.Min(arg.Length, 128 - list.Count + 1)]);
            list.AddRange("' "u8);
        }
        var name = args.CString(0);
        var message = new List<byte>();
        message.AddRange("ERR unknown command '"u8);
        message.AddRange(name[..Math.Min(name.Length, 128)]);
        message.AddRange("', with args beginning with: "u8);
        message.AddRange(list);
        ctx.Writer.WriteError(message.ToArray());
        Interlocked.Increment(ref _server.Stats.ErrorReplies);
    }
}
