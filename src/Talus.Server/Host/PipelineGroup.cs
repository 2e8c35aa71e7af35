using Talus.Server.Commands;
using Talus.Storage.Engine;

namespace Talus.Server.Host;

/// <summary>
/// The connection's group of read-modify-write commands (<see cref="CommandDescriptor.GroupsReadModifyWrite"/>:
/// LPUSH, SADD, HSET, ZADD, INCR ... on one key) within one <see cref="RequestProcessor.Process"/> call: their
/// writes are committed as one batch (<see cref="PipelineTransaction"/>). While the group is open it holds the
/// execution gate shared (taken before any stripe, the order every other holder of both follows) and the stripe
/// of each joined key; plain SETs of the pipeline join it too, so later commands read their writes. Any other
/// command commits the group first, and so does the end of the call, before a reply leaves.
/// <para>
/// A group of two or more commands left open at the end of a socket read may be handed to the committer instead
/// (<see cref="TryQueue"/>): its stripes and the gate are released at once, so the next connection's group on the
/// same key runs (reading through this one) while the batch is written; this connection sends the replies once it
/// is written (<see cref="WhenWritten"/>, <see cref="EndQueued"/>).
/// </para>
/// </summary>
public sealed class PipelineGroup
{
    /// <summary>Commit once the group holds this many records, so a long pipeline does not collect without bound.</summary>
    public const uint MaxRecords = 4096;

    private readonly ServerContext server;
    private readonly PipelineTransaction _transaction = new();
    private readonly List<(int Db, byte[] Key)> _signals = [];
    private readonly Action<Exception?> _written;
    private long _watchStamp;
    private int _commands;
    private DeferredCommit? _queued;

    public PipelineGroup(ServerContext server)
    {
        this.server = server;
        _written = Written;
    }

    public bool IsOpen => _transaction.IsOpen;

    /// <summary>True when the group should be committed before more is added.</summary>
    public bool IsFull => _transaction.IsOpen && _transaction.Records >= MaxRecords;

    /// <summary>
    /// Called for each top-level command of the call before it runs: joins it to the group (opening the group
    /// and taking its key's stripe) or commits the group so the command runs alone. False when the command must
    /// not run: after an earlier failure that closes the connection (EXEC's commit), or when it gave way to a
    /// busy stripe (<see cref="CommandContext.GaveWayAt"/> is set, and the command runs again later).
    /// </summary>
    public bool BeforeCommand(CommandContext ctx, CommandDescriptor command)
    {
        if (!CanJoin(ctx, command))
        {
            Commit(ctx);
            return true;
        }
        var db = ctx.Db.Index;
        var key = ctx.Args[1];
        var admitted = ctx.AdmittedStripe;
        if (IsOpen && _transaction.TryHold(db, key, admitted))
        {
            Joined(ctx, db, key);
            return true;
        }
        Commit(ctx);
        // Opening: the blind writes collected so far are committed first (a later read must see them, and the WAL
        // must keep the commands' order).
        var gate = server.ExecutionGate;
        gate.EnterReadLock();
        try
        {
            if (!ctx.CommitWrites())
            {
                gate.ExitReadLock();
                return false;
            }
            _transaction.Open(server.Dataset);
            _watchStamp = server.Watches.Stamp;
            _commands = 0;
            if (_transaction.TryHold(db, key, admitted))
            {
                Joined(ctx, db, key);
                return true;
            }
            if (ctx.MayWaitForStripe)
            {
                // Another thread holds the key, or connections are queued for it: give way instead of blocking
                // this thread, whose other connections go on meanwhile. The connection runs this command again
                // when its turn comes (KeyLocks.WhenAdmitted), usually resumed by the thread that released the
                // stripe (StripeWakeups). Admitted but overtaken by a command that does not queue: back to the head.
                _transaction.Abort();
                gate.ExitReadLock();
                var stripe = KeyLocks.StripeOf(db, key);
                var front = stripe == admitted;
                if (front)
                {
                    ctx.AdmittedStripe = -1;
                }
                ctx.GaveWayAt = stripe;
                ctx.StripeTurn = server.Dataset.Locks.WhenAdmitted(stripe, front);
                Interlocked.Increment(ref server.Stats.KeyWaits);
                return false;
            }
            // Holding nothing but the gate: waiting for the stripe cannot close a cycle.
            _transaction.Hold(db, key);
            _commands++;
            return true;
        }
        catch
        {
            if (IsOpen)
            {
                _transaction.Abort();
            }
            gate.ExitReadLock();
            throw;
        }
    }

    /// <summary>The command joined the group: its reads may read ahead at once if more commands follow it in the read.</summary>
    private void Joined(CommandContext ctx, int db, ReadOnlySpan<byte> key)
    {
        _commands++;
        _transaction.ReadAheadAtOnce = ctx.MoreInBuffer;
        UseAdmission(ctx, db, key);
    }

    /// <summary>A command took the stripe whose turn came to this connection: the admission is used up.</summary>
    private static void UseAdmission(CommandContext ctx, int db, ReadOnlySpan<byte> key)
    {
        if (ctx.AdmittedStripe >= 0 && ctx.AdmittedStripe == KeyLocks.StripeOf(db, key))
        {
            ctx.AdmittedStripe = -1;
        }
    }

    /// <summary>
    /// Hands on a turn this connection was given but did not use (its command no longer joins a group, or the
    /// connection is closing), so the connections queued behind it are not left waiting.
    /// </summary>
    public void PassOnAdmission(CommandContext ctx)
    {
        if (ctx.AdmittedStripe is var stripe and >= 0)
        {
            ctx.AdmittedStripe = -1;
            server.Dataset.Locks.PassOn(stripe);
        }
    }

    /// <summary>Wakes the clients blocked on (db, key) once the group is written (see <see cref="CommandContext.SignalKey"/>).</summary>
    public void SignalAfterCommit(int db, ReadOnlySpan<byte> key)
    {
        // Recorded even when nobody is blocked now: a client that blocks before the commit retries once after
        // registering, but cannot see this write until it is committed, so it needs the signal.
        if (_signals.Count > 0 && _signals[^1].Db == db && _signals[^1].Key.AsSpan().SequenceEqual(key))
        {
            return;
        }
        _signals.Add((db, key.ToArray()));
    }

    /// <summary>
    /// Writes the group as one batch, releases its stripes and the gate, then sends the replies it held
    /// (<see cref="HeldReplies"/>). When the write failed nothing of the group was written, and each of its
    /// commands answers the storage error instead; the connection goes on.
    /// </summary>
    public void Commit(CommandContext ctx)
    {
        if (!IsOpen)
        {
            return;
        }
        Exception? failure = null;
        try
        {
            _transaction.Commit();
            // Someone started watching after a write of the group ran but before it became visible: its keys
            // are not tracked here, so every such watcher is treated as touched.
            if (server.Watches.Stamp != _watchStamp)
            {
                server.Watches.TouchSince(_watchStamp);
            }
            foreach (var (db, key) in _signals)
            {
                server.Blocking.Signal(db, key);
            }
        }
        catch (Exception ex) when (CommandContext.IsStorageFailure(ex))
        {
            failure = ex;
        }
        finally
        {
            _signals.Clear();
            server.ExecutionGate.ExitReadLock();
        }
        if (failure is null)
        {
            ctx.HeldReplies.Release(ctx.Writer);
        }
        else
        {
            ctx.FailHeldReplies(failure, $"Group commit of {ctx.HeldReplies.Count} commands");
        }
    }

    /// <summary>True while the group's batch waits for the committer (<see cref="TryQueue"/>) and its replies with it.</summary>
    public bool IsQueued => _queued is not null;

    /// <summary>
    /// At the end of a socket read: hands a group of two or more commands to the committer instead of writing it
    /// here, and releases its stripes and the gate. True when queued: the caller awaits <see cref="WhenWritten"/>
    /// and calls <see cref="EndQueued"/> before it sends or runs anything more. False when the group is not queued:
    /// it is still open (the caller commits it), or its write failed already and its replies are the errors.
    /// </summary>
    public bool TryQueue(CommandContext ctx)
    {
        // Worth the hand-off when the commands wrote more than their keys' metadata, even one element among sixteen
        // SADDs of members already there (pops and counters rewrite only the metadata record, and gain nothing:
        // docs/benchmarks.md), and always when the group read through another's deferred commit, whose write it
        // would otherwise wait for on this thread.
        if (!IsOpen || _commands < 2 || (!_transaction.WroteElements && !_transaction.ReadsThroughDeferred))
        {
            return false;
        }
        DeferredCommit? queued;
        try
        {
            queued = _transaction.Queue(_written);
        }
        catch (Exception ex)
        {
            // The group is closed and its stripes released either way; so is the gate, as after a commit.
            _signals.Clear();
            server.ExecutionGate.ExitReadLock();
            if (!CommandContext.IsStorageFailure(ex))
            {
                throw;
            }
            // A deferred commit it read through failed: nothing of the group happened.
            ctx.FailHeldReplies(ex, $"Group commit of {ctx.HeldReplies.Count} commands");
            return false;
        }
        if (queued is null)
        {
            return false;
        }
        _queued = queued;
        server.ExecutionGate.ExitReadLock();
        return true;
    }

    /// <summary>Completes when the queued group is written (or failed).</summary>
    public ValueTask WhenWritten(bool continueOnCommitter = false) => _queued!.WhenWritten(continueOnCommitter);

    /// <summary>
    /// After the queued group's write: wakes the clients blocked on its keys and sends its held replies, or answers
    /// the storage error in place of each when the write failed (the connection goes on, as after <see cref="Commit"/>).
    /// </summary>
    public void EndQueued(CommandContext ctx)
    {
        var queued = _queued!;
        _queued = null;
        try
        {
            if (queued.Failure is { } failure)
            {
                ctx.FailHeldReplies(failure, $"Group commit of {ctx.HeldReplies.Count} commands");
                return;
            }
            foreach (var (db, key) in _signals)
            {
                server.Blocking.Signal(db, key);
            }
            ctx.HeldReplies.Release(ctx.Writer);
        }
        finally
        {
            _signals.Clear();
        }
    }

    /// <summary>
    /// On the committer's thread, once a queued group is written and before a drain (EXEC) goes on: the WATCH
    /// check of <see cref="Commit"/>.
    /// </summary>
    private void Written(Exception? failure)
    {
        if (failure is null && server.Watches.Stamp != _watchStamp)
        {
            server.Watches.TouchSince(_watchStamp);
        }
    }

    /// <summary>Drops the group without writing it (a command failed half-way with an unexpected exception).</summary>
    public void Abort()
    {
        if (!IsOpen)
        {
            return;
        }
        try
        {
            _transaction.Abort();
        }
        finally
        {
            _signals.Clear();
            server.ExecutionGate.ExitReadLock();
        }
    }

    private bool CanJoin(CommandContext ctx, CommandDescriptor command)
    {
        // A blind write joins an open group only when it writes one key (SET): the group holds one key per command.
        if (!(command.GroupsReadModifyWrite || (command.GroupsWrites && IsOpen && command.LastKey == 1)) || ctx.Args.Count < 2 || ctx.Depth != 0)
        {
            return false;
        }
        var session = ctx.Session;
        // WATCH, MULTI queueing, AUTH, a replica's refusal, CLIENT PAUSE: the command runs alone, as before.
        return ctx.WriteGroupFailure is null && !server.Watches.Active && session.Transaction is null && session.Authenticated
            && !server.Replication.IsReplica && server.Pause.Mode == PauseMode.None;
    }
}
