using Microsoft.Extensions.Logging;
using Talus.Server.Blocking;
using Talus.Server.Commands;
using Talus.Server.Config;
using Talus.Server.PubSub;
using Talus.Storage;

namespace Talus.Server.Host;

/// <summary>
/// The services a command may use: the dataset, settings, clients, counters and the hooks into the host
/// (shutdown) and into replication. One per server process.
/// </summary>
public sealed class ServerContext
{
    public ServerContext(ServerOptions options, Dataset dataset, ILoggerFactory loggerFactory)
    {
        Options = options;
        Dataset = dataset;
        LoggerFactory = loggerFactory;
        RunId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        OutputGuard = new OutputBufferGuard(options, Stats, loggerFactory.CreateLogger("Talus.Clients"));
        KeyspaceStats = new KeyspaceStats(this, loggerFactory.CreateLogger("Talus.Storage"));
    }

    /// <summary>The key counts INFO keyspace reports (counted in the background for large datasets).</summary>
    public KeyspaceStats KeyspaceStats { get; }

    public ServerOptions Options { get; }

    public Dataset Dataset { get; }

    public ILoggerFactory LoggerFactory { get; }

    public CommandTable Commands { get; } = new();

    public ClientRegistry Clients { get; } = new();

    public ServerStats Stats { get; } = new();

    public SlowLog SlowLog { get; } = new();

    /// <summary>Clients blocked on keys (BLPOP ...), woken by the writes that feed those keys.</summary>
    public BlockingKeys Blocking { get; } = new();

    /// <summary>Channel and pattern subscriptions (PUBLISH, SUBSCRIBE, PSUBSCRIBE).</summary>
    public PubSubHub PubSub { get; } = new();

    /// <summary>Shard channel subscriptions (SPUBLISH, SSUBSCRIBE): their own namespace, "smessage" frames.</summary>
    public PubSubHub ShardPubSub { get; } = new("smessage");

    /// <summary>Clients in MONITOR mode and the feed of executed commands to them.</summary>
    public MonitorFeed Monitors { get; } = new();

    /// <summary>client-output-buffer-limit enforcement on queued pushes.</summary>
    public OutputBufferGuard OutputGuard { get; }

    /// <summary>Keys watched by clients (WATCH), invalidated by the writes that modify them.</summary>
    public Transactions.WatchRegistry Watches { get; } = new();

    /// <summary>The dispatcher, through which EXEC runs its queued commands (set by the dispatcher itself).</summary>
    public Dispatch.CommandDispatcher? Dispatcher { get; internal set; }

    /// <summary>CLIENT PAUSE state, read by the dispatcher before each command.</summary>
    public ClientPause Pause { get; } = new();

    /// <summary>40 hex characters identifying this process run (INFO run_id).</summary>
    public string RunId { get; }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Unix seconds of the last successful BGSAVE (LASTSAVE); the start time until then.</summary>
    public long LastSaveUnix { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string LastBgsaveStatus { get; set; } = "ok";

    /// <summary>Keys deleted by active expiry so far (INFO expired_keys).</summary>
    public Func<long> ExpiredKeys { get; set; } = () => 0;

    /// <summary>
    /// Serialises whole-dataset operations (EXEC, dataset swap) against ordinary commands: commands hold it
    /// shared, those hold it exclusively.
    /// </summary>
    public ReaderWriterLockSlim ExecutionGate { get; } = new(LockRecursionPolicy.SupportsRecursion);

    /// <summary>
    /// Takes the execution gate exclusively and waits for the write groups queued for the committer: whoever holds
    /// it sees, and is ordered after, every write a command made before. Left with <c>ExecutionGate.ExitWriteLock</c>.
    /// </summary>
    public void EnterExclusive()
    {
        ExecutionGate.EnterWriteLock();
        Dataset.Commits.Drain();
    }

    /// <summary>Runs <paramref name="work"/> holding the execution gate shared, as a command does, on the calling thread.</summary>
    public T RunShared<T>(Func<T> work)
    {
        ExecutionGate.EnterReadLock();
        try
        {
            return work();
        }
        finally
        {
            ExecutionGate.ExitReadLock();
        }
    }

    /// <summary>Runs <paramref name="work"/> holding the execution gate shared, as a command does, on the calling thread.</summary>
    public void RunShared(Action work) => RunShared(() =>
    {
        work();
        return true;
    });

    /// <summary>Asks the host to stop (SHUTDOWN). The argument says whether to stop now, without waiting for replicas (NOW, FORCE).</summary>
    public Action<bool>? RequestShutdown { get; set; }

    /// <summary>Role and state of replication, read by the dispatcher's read-only gate, INFO and ROLE.</summary>
    public IReplicationView Replication { get; set; } = StandaloneReplicationView.Instance;

    /// <summary>The replication subsystem (null only in tests that run commands without it).</summary>
    public Talus.Replication.ReplicationManager? ReplicationManager { get; set; }
}

/// <summary>The replication view backed by the real replication manager.</summary>
public sealed class ManagedReplicationView(Talus.Replication.ReplicationManager manager) : IReplicationView
{
    public bool IsReplica => manager.Role == Talus.Replication.ReplicationRole.Replica;

    public IEnumerable<(string Field, string Value)> InfoFields() => manager.InfoFields();
}

/// <summary>What the command layer needs to know about replication without depending on its internals.</summary>
public interface IReplicationView
{
    /// <summary>True when this node follows a master (writes from clients are then refused when replica-read-only).</summary>
    bool IsReplica { get; }

    /// <summary>Lines of INFO replication (field:value), in Redis' order.</summary>
    IEnumerable<(string Field, string Value)> InfoFields();
}

/// <summary>The view of a node that has never been configured for replication.</summary>
public sealed class StandaloneReplicationView : IReplicationView
{
    public static readonly StandaloneReplicationView Instance = new();

    public bool IsReplica => false;

    public IEnumerable<(string Field, string Value)> InfoFields() =>
    [
        ("role", "master"),
        ("connected_slaves", "0"),
        ("master_failover_state", "no-failover"),
        ("master_replid", new string('0', 40)),
        ("master_replid2", new string('0', 40)),
        ("master_repl_offset", "0"),
        ("second_repl_offset", "-1"),
        ("repl_backlog_active", "0"),
    ];
}
