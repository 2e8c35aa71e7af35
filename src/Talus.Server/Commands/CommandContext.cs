using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using RocksDbSharp;
using Talus.Protocol;
using Talus.Server.Host;
using Talus.Storage;
using Talus.Storage.Engine;

namespace Talus.Server.Commands;

/// <summary>
/// Everything one command invocation may touch: its arguments, the reply writer, the client's session and
/// the server's services. One instance per connection, reused for every command.
/// </summary>
public sealed class CommandContext
{
    public CommandContext(ServerContext server, ClientSession session, RespWriter writer)
    {
        Server = server;
        Session = session;
        Writer = writer;
    }

    public ServerContext Server { get; }

    public ClientSession Session { get; }

    public RespWriter Writer { get; }

    public CommandArgs Args { get; set; } = null!;

    public CommandDescriptor Command { get; set; } = null!;

    /// <summary>The database the client has selected.</summary>
    public Database Db => Server.Dataset[Session.DbIndex];

    /// <summary>
    /// Set by a blocking command that could not answer yet: the connection awaits it, then continues with the
    /// next command, so replies stay in order.
    /// </summary>
    public Task? Pending { get; set; }

    /// <summary>
    /// Work that takes over the connection's output after the replies so far are flushed (a binlog stream, a
    /// chunk read from disk). The connection starts it only after its flush, so the two never write at once.
    /// </summary>
    public Func<Task>? Deferred { get; set; }

    /// <summary>
    /// Whether a read-modify-write command that finds its key's stripe busy may give way instead of blocking the
    /// thread (set by a connection's read loop, which can resume later): the command is then not run, it queues
    /// for the stripe (<see cref="GaveWayAt"/>, <see cref="StripeTurn"/>), and the loop runs it again when its
    /// turn comes.
    /// </summary>
    public bool MayWaitForStripe { get; set; }

    /// <summary>The stripe the current command gave way to (see <see cref="MayWaitForStripe"/>), or -1.</summary>
    public int GaveWayAt { get; set; } = -1;

    /// <summary>Completes when the connection's turn at <see cref="GaveWayAt"/> comes (<see cref="Storage.Engine.KeyLocks.WhenAdmitted"/>).</summary>
    public Task? StripeTurn { get; set; }

    /// <summary>
    /// A stripe whose turn came to this connection (its wait ended): the next command may take it ahead of the
    /// queue. Used by that command, or handed on at the end of the read (see <see cref="Storage.Engine.KeyLocks.WhenAdmitted"/>).
    /// </summary>
    public int AdmittedStripe { get; set; } = -1;

    /// <summary>Whether more of the client's input follows this command in the read being run (a pipeline).</summary>
    public bool MoreInBuffer { get; set; }

    /// <summary>
    /// Set by a write command that modified its keys in Redis' sense without writing anything to storage (HSET of
    /// the value a field already holds): its keys' watchers become dirty as after a write.
    /// </summary>
    public bool ModifiedWithoutWrite { get; set; }

    public int Argc => Args.Count;

    /// <summary><see cref="Transactions.WatchRegistry.Stamp"/> when the first write joined the current group.</summary>
    private long _groupWatchStamp;

    /// <summary>
    /// The connection's group commit (see <see cref="Storage.Engine.WriteGroup"/>); null where every write commits
    /// alone. Set by the request loop; a handler reaches it through <see cref="TryGetWriteGroup"/>.
    /// </summary>
    public WriteGroup? WriteGroup { get; set; }

    /// <summary>The group of read-modify-write commands of the current pipeline (set by the request loop only).</summary>
    public Host.PipelineGroup? PipelineGroup { get; set; }

    /// <summary>Why committing EXEC's batch failed; the connection closes without sending its unflushed replies.</summary>
    public Exception? WriteGroupFailure { get; private set; }

    /// <summary>
    /// Stopwatch timestamp at which the previous command of the current batch ended (0: none yet), so the
    /// dispatcher reads the clock once per command for SLOWLOG timings instead of twice.
    /// </summary>
    public long ClockMark { get; set; }

    /// <summary>Nesting of the dispatcher's Run: 1 for a command from the client, 2 for one EXEC runs.</summary>
    internal int Depth { get; set; }

    /// <summary>
    /// The write group a blind write of a top-level command may join. Commands EXEC runs never join: their
    /// effects must be applied while EXEC holds the execution gate.
    /// </summary>
    public bool TryGetWriteGroup([NotNullWhen(true)] out WriteGroup? group)
    {
        // While a client watches keys, writes commit one by one, so WATCH sees each at its command.
        // While the read-modify-write group is open, a SET writes into it (its key is held), not beside it.
        group = Depth == 1 && WriteGroupFailure is null && !Server.Watches.Active && PipelineGroup is not { IsOpen: true } ? WriteGroup : null;
        if (group is { IsEmpty: true })
        {
            _groupWatchStamp = Server.Watches.Stamp;
        }
        return group is not null;
    }

    /// <summary>
    /// Tells clients blocked on (db, key) that it may serve them now, or, while the pipeline's read-modify-write
    /// group is open, once the group is written: a woken client reads the key outside the group and must see the
    /// write that woke it.
    /// </summary>
    public void SignalKey(int db, ReadOnlySpan<byte> key)
    {
        if (PipelineGroup is { IsOpen: true } group)
        {
            group.SignalAfterCommit(db, key);
            return;
        }
        Server.Blocking.Signal(db, key);
    }

    /// <summary>
    /// Records a storage failure after replies that promised its writes were written (EXEC's batch): the
    /// connection closes without sending its unflushed replies.
    /// </summary>
    public void FailStorage(Exception failure)
    {
        WriteGroupFailure ??= failure;
        Session.CloseRequested = true;
    }

    /// <summary>
    /// Commits the pending write group, so what follows sees its writes, and sends its held replies (+OK, or
    /// the storage error when the commit failed: the connection goes on). Returns false only after an earlier
    /// failure that closes the connection (a read-modify-write group's or EXEC's, see <see cref="FailStorage"/>):
    /// the caller must then do nothing more, not even reply.
    /// </summary>
    public bool CommitWrites()
    {
        if (WriteGroupFailure is not null)
        {
            return false;
        }
        var group = WriteGroup;
        if (group is null || group.IsEmpty)
        {
            return true;
        }
        var commands = group.Commands;
        try
        {
            group.Commit(Server.Dataset);
            // Someone started watching after these writes joined the group but before they became visible:
            // their keys are unknown here, so every such watcher is treated as touched.
            if (Server.Watches.Stamp != _groupWatchStamp)
            {
                Server.Watches.TouchSince(_groupWatchStamp);
            }
            HeldReplies.Release(Writer);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            FailHeldReplies(ex, $"Group commit of {commands} SET commands");
        }
        return true;
    }

    /// <summary>
    /// Hands the pending write group to the committer (<see cref="Storage.Engine.CommitQueue"/>) instead of writing
    /// it here; the caller awaits its write and then calls <see cref="EndQueuedWrites"/>, which sends the held
    /// replies. False when there is nothing to queue (or an earlier failure closes the connection).
    /// </summary>
    public bool QueueWrites()
    {
        var group = WriteGroup;
        if (WriteGroupFailure is not null || group is null || group.IsEmpty)
        {
            return false;
        }
        group.Written ??= GroupWritten;
        group.Queue(Server.Dataset);
        return true;
    }

    /// <summary>
    /// After the queued group's write: its held replies go out (+OK), or each becomes the storage error when the
    /// write failed, and the connection goes on (as <see cref="CommitWrites"/>).
    /// </summary>
    public void EndQueuedWrites()
    {
        var group = WriteGroup!;
        var commands = group.Commands;
        if (group.EndQueued() is { } failure)
        {
            FailHeldReplies(failure, $"Group commit of {commands} SET commands");
            return;
        }
        HeldReplies.Release(Writer);
    }

    /// <summary>On the committer's thread, once a queued group is written: the WATCH check of <see cref="CommitWrites"/>.</summary>
    private void GroupWritten(Exception? failure)
    {
        if (failure is null && Server.Watches.Stamp != _groupWatchStamp)
        {
            Server.Watches.TouchSince(_groupWatchStamp);
        }
    }

    /// <summary>
    /// The replies of commands whose writes wait in a group (the write group's SETs, the read-modify-write
    /// group's commands, EXEC's array), sent once the group is written.
    /// </summary>
    public HeldReplies HeldReplies { get; } = new();

    /// <summary>
    /// The held replies' group was not written (<paramref name="failure"/>): nothing of it happened and no reply
    /// promised it, so each held reply becomes the storage error and the connection goes on. One log line.
    /// </summary>
    public void FailHeldReplies(Exception failure, string what)
    {
        Server.LoggerFactory.CreateLogger("Talus.Storage").LogError(failure, "{What} failed in storage", what);
        Interlocked.Add(ref Server.Stats.ErrorReplies, HeldReplies.Count);
        HeldReplies.Release(Writer, StorageError(failure));
    }

    /// <summary>A failure of the storage itself (disk full, I/O error, a closing dataset), as opposed to a bug.</summary>
    public static bool IsStorageFailure(Exception ex) => ex is RocksDbException or IOException or ObjectDisposedException;

    /// <summary>The error reply for a write the storage refused.</summary>
    public static string StorageError(Exception failure) => "ERR storage error: " + failure.Message;

    /// <summary>Redis' "wrong number of arguments" error for the current command (or a subcommand like "config|get").</summary>
    public void WrongArity(string? fullName = null) =>
        Writer.WriteError($"ERR wrong number of arguments for '{fullName ?? Command.FullName}' command");

    public void SyntaxError() => Writer.WriteError(Errors.Syntax);

    public void WrongType() => Writer.WriteError(Errors.WrongType);

    /// <summary>Parses argument <paramref name="index"/> as an integer, or writes Redis' error and returns false.</summary>
    public bool TryGetLong(int index, out long value)
    {
        if (Args.TryGetLong(index, out value))
        {
            return true;
        }
        Writer.WriteError(Errors.NotInteger);
        return false;
    }

    /// <summary>
    /// A logical database number (SELECT, MOVE, COPY ... DB): an int as Redis parses it, then within the configured
    /// `databases`; writes Redis' error and returns false otherwise.
    /// </summary>
    public bool TryGetDbIndex(int index, out int db)
    {
        if (!TryGetInt(index, out db))
        {
            return false;
        }
        if (db < 0 || db >= Server.Dataset.DatabaseCount)
        {
            Writer.WriteError(Errors.InvalidDbIndex);
            return false;
        }
        return true;
    }

    /// <summary>
    /// Parses argument <paramref name="index"/> as a 32-bit integer (Redis' getIntFromObjectOrReply), or writes
    /// Redis' error ("not an integer", or "out of range" with the int bounds) and returns false.
    /// </summary>
    public bool TryGetInt(int index, out int value)
    {
        value = 0;
        if (!TryGetLong(index, out var wide))
        {
            return false;
        }
        if (wide is < int.MinValue or > int.MaxValue)
        {
            Writer.WriteError("ERR value is out of range, value must between -2147483648 and 2147483647");
            return false;
        }
        value = (int)wide;
        return true;
    }

    /// <summary>Writes an error that quotes a client argument as Redis' %s does: up to its first NUL byte.</summary>
    public void WriteErrorQuoting(string prefix, int argIndex, string suffix = "")
    {
        var quoted = Args.CString(argIndex);
        var message = new byte[prefix.Length + quoted.Length + suffix.Length];
        System.Text.Encoding.ASCII.GetBytes(prefix, message);
        quoted.CopyTo(message.AsSpan(prefix.Length));
        System.Text.Encoding.ASCII.GetBytes(suffix, message.AsSpan(prefix.Length + quoted.Length));
        Writer.WriteError(message);
    }

    /// <summary>Writes the standard reply for a failed storage status.</summary>
    public void WriteStatusError(OpStatus status) => Writer.WriteError(status switch
    {
        OpStatus.WrongType => Errors.WrongType,
        OpStatus.NotInteger => Errors.NotInteger,
        OpStatus.NotFloat => Errors.NotFloat,
        OpStatus.Overflow => Errors.Overflow,
        OpStatus.NaNOrInfinity => Errors.NaNOrInfinity,
        OpStatus.TooLarge => Errors.StringTooLong,
        OpStatus.NotFound => Errors.NoSuchKey,
        _ => "ERR " + status,
    });
}
