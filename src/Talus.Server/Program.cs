using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Talus.Server.Config;
using Talus.Server.Dispatch;
using Talus.Server.Host;
using Talus.Server.Logging;
using Talus.Server.PubSub;
using Talus.Storage;
using Talus.Replication;
using Talus.Replication.Master;
using Talus.Replication.Replica;
using Talus.Storage.Engine;
using Talus.Storage.Expiry;

namespace Talus.Server;

/// <summary>The talus executable: arguments → options → dataset → listener; signals; exit codes.</summary>
public static class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "--version" or "-v")
        {
            Console.WriteLine($"Talus server v={Version} rocksdb=11.12.0 dotnet={Environment.Version} bits={IntPtr.Size * 8}");
            return 0;
        }
        if (args.Length > 0 && args[0] == "check")
        {
            return Tools.ConsistencyChecker.Run(args[1..]);
        }
        if (args.Length > 0 && args[0] is "--help" or "-h")
        {
            Console.WriteLine("Usage: talus [/path/to/talus.conf] [--config file] [--<option> <value> ...]");
            Console.WriteLine("       talus --version");
            Console.WriteLine("       talus check [--password PASS] HOST:PORT HOST:PORT ...   compare nodes key by key");
            Console.WriteLine("Every option of conf/talus.conf can be given as --name value, e.g. --port 7000 --dir /data");
            return 0;
        }
        ServerOptions options;
        try
        {
            options = ConfigFile.FromCommandLine(args);
        }
        catch (Exception ex) when (ex is FormatException or FileNotFoundException or IOException)
        {
            Console.Error.WriteLine("*** FATAL CONFIG FILE ERROR ***");
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
        if (options.SocketInlineCompletions && Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            // Read once, when the runtime's socket engine first starts; no socket exists yet.
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
        return Run(options);
    }

    /// <summary>The runtime's switch for running socket continuations on its event threads (socket-inline-completions).</summary>
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private static int Run(ServerOptions options)
    {
        LineLoggerProvider provider;
        try
        {
            provider = new LineLoggerProvider(options.LogFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Can't open the log file: {ex.Message}");
            return 1;
        }
        provider.MinimumLevel = LineLoggerProvider.FromRedisLevel(options.LogLevel);
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var logger = loggerFactory.CreateLogger("Talus");
        logger.LogInformation("Talus {Version} starting, pid={Pid}, port={Port}, dir={Dir}", Version, Environment.ProcessId, options.Port, Path.GetFullPath(options.Dir));

        Dataset dataset;
        try
        {
            Directory.CreateDirectory(options.Dir);
            // Finish (or discard) a full-sync swap a crash interrupted, before the dataset opens.
            new DatasetDirectories(options.Dir).Recover();
            dataset = Dataset.Open(options.ToStorageOptions(), loggerFactory.CreateLogger("Talus.Storage"));
        }
        catch (Exception ex)
        {
            var reason = File.Exists(options.Dir) ? "a file is in the way, not a directory" : ex.Message;
            return Fatal(logger, options, $"Can't open the data directory {Path.GetFullPath(options.Dir)}: {reason}");
        }

        var context = new ServerContext(options, dataset, loggerFactory);
        var dispatcher = new CommandDispatcher(context);
        using var sweeper = new ExpiredKeySweeper(dataset, loggerFactory.CreateLogger("Talus.Expiry"), TimeSpan.FromMilliseconds(100))
        {
            Enabled = options.ReplicaOf is null,
        };
        context.ExpiredKeys = () => sweeper.Expired;
        var replication = CreateReplication(options, context, sweeper, loggerFactory);
        context.ReplicationManager = replication;
        replication.RoleChanged += role => provider.RoleMark = role == ReplicationRole.Replica ? 'S' : 'M';
        context.Replication = new ManagedReplicationView(replication);
        options.Changed += name =>
        {
            switch (name)
            {
                case "appendfsync":
                    dataset.Engine.Options.Fsync = options.AppendFsync;
                    break;
                case "loglevel":
                    provider.MinimumLevel = LineLoggerProvider.FromRedisLevel(options.LogLevel);
                    break;
            }
        };

        RunMarker marker;
        try
        {
            marker = RunMarker.Begin(options.Dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            sweeper.Dispose();
            replication.DisposeAsync().AsTask().Wait();
            dataset.Dispose();
            return Fatal(logger, options, $"Can't write {Path.Combine(Path.GetFullPath(options.Dir), RunMarker.FileName)}: {ex.Message}");
        }
        if (options.ReplicaOf is null)
        {
            // Before the first client can write: a history that must move on does so before any new offset.
            replication.StartAsMaster(marker.MachineRestart);
        }

        var server = new TalusServer(context, dispatcher);
        try
        {
            server.Start();
        }
        catch (SocketException ex)
        {
            // Nothing may read the dataset while it closes: stop the sweeper (it waits for a running step) first.
            sweeper.Dispose();
            replication.DisposeAsync().AsTask().Wait();
            dataset.Dispose();
            marker.End();
            return Fatal(logger, options, $"Could not create server TCP listening socket {string.Join(' ', options.Bind)}:{options.Port}: {ex.Message}");
        }
        if (options.PidFile is { } pidFile)
        {
            File.WriteAllText(pidFile, Environment.ProcessId + "\n");
        }

        if (options.ReplicaOf is { } replicaOf)
        {
            var parts = replicaOf.Split(' ');
            replication.ReplicaOfAsync(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)).Wait();
        }

        var shutdown = new TaskCompletionSource();
        var shutdownNow = false;
        context.RequestShutdown = now =>
        {
            shutdownNow = now;
            shutdown.TrySetResult();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            logger.LogWarning("Received SIGTERM scheduling shutdown...");
            shutdown.TrySetResult();
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            logger.LogWarning("Received SIGINT scheduling shutdown...");
            shutdown.TrySetResult();
        });

        shutdown.Task.Wait();
        logger.LogWarning("User requested shutdown...");
        if (!shutdownNow)
        {
            WaitForReplicas(context, replication, logger);
        }
        context.Pause.Dispose(); // end the connections CLIENT PAUSE holds, their commands unrun, so every connection can finish
        sweeper.Dispose();
        replication.DisposeAsync().AsTask().Wait();
        server.DisposeAsync().AsTask().Wait();
        // No command may be running when the dataset closes: the binding crashes on use after dispose.
        context.EnterExclusive();
        dataset.Dispose();
        try
        {
            marker.End();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not remove {Marker}: {Reason}; the next start treats this run as not closed", RunMarker.FileName, ex.Message);
        }
        if (options.PidFile is { } pid)
        {
            File.Delete(pid);
        }
        logger.LogWarning("Talus is now ready to exit, bye bye...");
        return 0;
    }

    /// <summary>
    /// Redis 7's shutdown-timeout: a master with replicas pauses writes and waits for every replica to acknowledge
    /// its offset, so that a replica promoted after this stop holds every write the master acknowledged.
    /// </summary>
    private static void WaitForReplicas(ServerContext context, ReplicationManager replication, ILogger logger)
    {
        var timeout = TimeSpan.FromSeconds(context.Options.ShutdownTimeout);
        if (replication.Role != ReplicationRole.Master || timeout <= TimeSpan.Zero || replication.Master.Links.Count == 0)
        {
            return;
        }
        // Held writes stay held: the shutdown closes their connections without running them (ClientPause).
        context.Pause.Pause((long)timeout.TotalMilliseconds + 60_000, PauseMode.Write);
        var offset = context.Dataset.Engine.LatestSequence;
        logger.LogWarning("Waiting for replicas before shutting down.");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout && replication.Master.Links.Any(l => l.AckOffset < offset))
        {
            Thread.Sleep(10);
        }
        foreach (var link in replication.Master.Links.Where(l => l.AckOffset < offset))
        {
            logger.LogWarning("Lagging replica {Ip}:{Port} reported offset {Ack} behind master offset {Offset}, state={State}.",
                link.Ip, link.ListeningPort, link.AckOffset, offset, link.State);
        }
    }

    private static ReplicationManager CreateReplication(ServerOptions options, ServerContext context, ExpiredKeySweeper sweeper, ILoggerFactory loggerFactory)
    {
        var dataset = context.Dataset;
        return new ReplicationManager(new ReplicationHost
        {
            Dataset = dataset,
            DataDir = options.Dir,
            RunId = context.RunId,
            ListeningPort = options.Port,
            MasterAuth = () => options.MasterAuth,
            MasterUser = () => options.MasterUser,
            ReplicaPriority = () => options.ReplicaPriority,
            AnnounceIp = () => options.ReplicaAnnounceIp,
            AnnouncePort = () => options.ReplicaAnnouncePort,
            Announced = () => options.ReplicaAnnounced,
            ReplTimeout = () => TimeSpan.FromSeconds(options.ReplTimeout),
            MaxFullSyncParallel = () => options.MaxFullSyncParallel,
            FullSyncBytesPerSecond = () => options.FullSyncThrottleBytesPerSecond,
            FullSyncChunkSize = () => (int)Math.Min(options.FullSyncChunkSize, 64L * 1024 * 1024),
            SnapshotReuseWindow = () => TimeSpan.FromSeconds(options.SnapshotReuseSeconds),
            SwapDelay = () => TimeSpan.FromMilliseconds(options.ReplSwapDelayMs),
            SnapshotDelay = () => TimeSpan.FromMilliseconds(options.ReplSnapshotDelayMs),
            RunExclusiveAsync = action => Task.Run(() =>
            {
                context.EnterExclusive();
                try
                {
                    action();
                }
                finally
                {
                    context.ExecutionGate.ExitWriteLock();
                }
            }),
            SetActiveExpiry = on =>
            {
                sweeper.Enabled = on;
                dataset.Engine.ExpireInCompaction = on;
            },
            OpenEngine = () => StorageEngine.Open(options.ToStorageOptions(), loggerFactory.CreateLogger("Talus.Storage")),
            BatchApplied = batch => context.Watches.TouchBatch(dataset.Engine, batch),
            RunShared = context.RunShared,
            DatasetReplaced = () =>
            {
                context.Watches.TouchDatabase(null);
                context.KeyspaceStats.Invalidate();
            },
        }, loggerFactory);
    }

    /// <summary>Logs why the server cannot start (to standard error as well when the log goes to a file) and returns the exit code.</summary>
    private static int Fatal(ILogger logger, ServerOptions options, string message)
    {
        logger.LogCritical("{Message}", message);
        if (!string.IsNullOrEmpty(options.LogFile))
        {
            Console.Error.WriteLine(message);
        }
        return 1;
    }
}
