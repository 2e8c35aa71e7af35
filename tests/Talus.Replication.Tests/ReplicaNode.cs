using Microsoft.Extensions.Logging.Abstractions;
using Talus.Replication.Binlog;
using Talus.Replication.Replica;
using Talus.Storage;
using Talus.Storage.Engine;
using Talus.TestKit;
using Xunit.Abstractions;

namespace Talus.Replication.Tests;

/// <summary>
/// A replica under test: a dataset in its own temp directory and a <see cref="ReplicaWorker"/> built with
/// <see cref="ReplicaSettings"/> the way ReplicationManager builds it, including the dataset swap (close the
/// live engine, run the directory swap, open the new one, with no reader inside — the test's reads take the
/// same gate, as commands do on the server). Every state transition is recorded, in order, with its reason.
/// </summary>
internal sealed class ReplicaNode : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("talus-replica-unit");
    private readonly SemaphoreSlim _exclusive = new(1, 1);
    private readonly Lock _lock = new();
    private readonly List<(ReplState From, ReplState To, string Reason, long Ticks)> _transitions = [];
    private int _swaps;

    /// <param name="masterPort">Where the master listens.</param>
    /// <param name="masterAuth">The replica's masterauth.</param>
    /// <param name="prepare">Runs on the live dataset directory before it is opened (for instance: put a master checkpoint there).</param>
    /// <param name="replTimeout">repl-timeout: how long a read from the master may wait.</param>
    public ReplicaNode(int masterPort, ITestOutputHelper? output, string? masterAuth = null, Action<string>? prepare = null, TimeSpan? replTimeout = null)
    {
        Directories = new DatasetDirectories(_dir.Path);
        prepare?.Invoke(Directories.Live);
        Dataset = Dataset.Open(MasterDataset.Options(Directories.Live), NullLogger.Instance);
        Dataset.Engine.ExpireInCompaction = false;
        Log = new RecordingLogger(output);
        Worker = new ReplicaWorker(new ReplicaSettings
        {
            MasterHost = "127.0.0.1",
            MasterPort = masterPort,
            MasterAuth = () => masterAuth,
            RunId = "0123456789abcdef0123456789abcdef01234567",
            ListeningPort = 6399,
            Databases = MasterDataset.Databases,
            ReplTimeout = () => replTimeout ?? TimeSpan.FromSeconds(20),
            Engine = () => Dataset.Engine,
            Directories = Directories,
            SwapDatasetAsync = SwapAsync,
        }, Log);
        Worker.Machine.Changed += (from, to, reason) =>
        {
            lock (_lock)
            {
                _transitions.Add((from, to, reason, Environment.TickCount64));
            }
        };
    }

    public Dataset Dataset { get; }

    public DatasetDirectories Directories { get; }

    public ReplicaWorker Worker { get; }

    public RecordingLogger Log { get; }

    public int Swaps => Volatile.Read(ref _swaps);

    /// <summary>Every transition so far: from, to, reason, and Environment.TickCount64 when it happened.</summary>
    public IReadOnlyList<(ReplState From, ReplState To, string Reason, long Ticks)> Transitions
    {
        get
        {
            lock (_lock)
            {
                return _transitions.ToList();
            }
        }
    }

    public IReadOnlyList<ReplState> States => Transitions.Select(t => t.To).ToList();

    public void Start() => Worker.Start();

    /// <summary>Waits until the recorded states begin with <paramref name="expected"/> (failing early when they diverge) and asserts it.</summary>
    public async Task ExpectStatesAsync(params ReplState[] expected)
    {
        bool Settled()
        {
            var states = States;
            var common = Math.Min(states.Count, expected.Length);
            return states.Count >= expected.Length || !states.Take(common).SequenceEqual(expected.Take(common));
        }
        try
        {
            await Wait.UntilAsync(Settled, TimeSpan.FromSeconds(20), "the replica's states " + string.Join(" → ", expected));
        }
        catch (TimeoutException ex)
        {
            Assert.Fail(ex.Message + "; went through: " + Describe());
        }
        Assert.True(States.Take(expected.Length).SequenceEqual(expected),
            $"expected states {string.Join(" → ", expected)}, went through: {Describe()}");
    }

    /// <summary>The reason given with the first transition into <paramref name="state"/>.</summary>
    public string ReasonOf(ReplState state) => Transitions.First(t => t.To == state).Reason;

    public string Describe() => string.Join(" → ", Transitions.Select(t => $"{t.To} ({t.Reason})"));

    /// <summary>Reads the live dataset with no swap running (as a command would).</summary>
    public async Task<T> ReadAsync<T>(Func<Dataset, T> read)
    {
        await _exclusive.WaitAsync();
        try
        {
            return read(Dataset);
        }
        finally
        {
            _exclusive.Release();
        }
    }

    public Task<Lineage> LineageAsync() => ReadAsync(d => LineageStore.Read(d.Engine));

    public Task<List<string>> ContentsAsync() => ReadAsync(d => MasterDataset.Contents(d.Engine));

    /// <summary>Gives the dataset a history of its own (not the master's): a few keys and a new repl-id.</summary>
    public Lineage SeedOwnHistory()
    {
        for (var i = 0; i < 20; i++)
        {
            Dataset[0].Strings.Set(System.Text.Encoding.UTF8.GetBytes($"old:{i}"), "stale"u8);
        }
        return LineageStore.StartNewHistory(Dataset.Engine);
    }

    /// <summary>Mirrors ReplicationManager.SwapAsync: close, swap the directories, reopen, with nothing reading.</summary>
    private async Task SwapAsync(Action swapDirectories)
    {
        await _exclusive.WaitAsync();
        try
        {
            Dataset.Engine.Dispose();
            swapDirectories();
            var fresh = StorageEngine.Open(MasterDataset.Options(Directories.Live), NullLogger.Instance);
            fresh.ExpireInCompaction = false;
            Dataset.ReplaceEngine(fresh);
            Interlocked.Increment(ref _swaps);
        }
        finally
        {
            _exclusive.Release();
        }
    }

    /// <summary>Stops the link (as REPLICAOF NO ONE would); the dataset stays open for inspection.</summary>
    public ValueTask StopAsync() => Worker.DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        await Worker.DisposeAsync();
        Dataset.Dispose();
        _exclusive.Dispose();
        _dir.Dispose();
    }
}
