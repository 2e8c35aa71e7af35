using System.Globalization;
using Talus.TestKit;

namespace Talus.Replication.Tests;

/// <summary>
/// Three real redis-sentinel processes (quorum 2) watching one master under the name "talus", each with its
/// own config file filled in from conf/examples/sentinel.conf, in one temp directory.
/// </summary>
internal sealed class SentinelGroup : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly List<SentinelProcess> _sentinels = [];

    private SentinelGroup(TempDirectory dir)
    {
        _dir = dir;
    }

    public SentinelProcess First => _sentinels[0];

    public IReadOnlyList<SentinelProcess> All => _sentinels;

    public static async Task<SentinelGroup> StartAsync(ServerProcess master, int count = 3)
    {
        Assert.True(SentinelProcess.IsAvailable, "redis-sentinel is not installed (./test installs it)");
        var group = new SentinelGroup(new TempDirectory("sentinels"));
        try
        {
            for (var i = 0; i < count; i++)
            {
                var dir = Path.Combine(group._dir.Path, "s" + i.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(dir);
                var port = FreePort.Next();
                ExampleConfig.WriteFilled("sentinel.conf", new Dictionary<string, string>
                {
                    ["SENTINEL_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                    ["SENTINEL_BIND"] = "127.0.0.1",
                    ["SENTINEL_DIR"] = dir,
                    ["MASTER_HOST"] = "127.0.0.1",
                    ["MASTER_PORT"] = master.Port.ToString(CultureInfo.InvariantCulture),
                }, Path.Combine(dir, "sentinel.conf"));
                group._sentinels.Add(await SentinelProcess.LaunchAsync(dir, port));
            }
            return group;
        }
        catch
        {
            await group.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds for every sentinel; on timeout the message carries their logs' tails.</summary>
    public async Task WaitUntilAllAsync(Func<SentinelProcess, bool> condition, TimeSpan timeout, string what)
    {
        try
        {
            await Wait.UntilAsync(() => _sentinels.All(condition), timeout, what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + "\n" + State() + "\n" + Logs(), ex);
        }
    }

    /// <summary>What every sentinel says about the master and its replicas.</summary>
    public string State() => string.Join("\n", _sentinels.Select(s =>
    {
        try
        {
            var master = s.Master("talus");
            var replicas = s.Replicas("talus").Select(r => $"{r.GetValueOrDefault("name")} flags={r.GetValueOrDefault("flags")} priority={r.GetValueOrDefault("slave-priority")} offset={r.GetValueOrDefault("slave-repl-offset")} link={r.GetValueOrDefault("master-link-status")}");
            return $"sentinel {s.Port}: master {master.GetValueOrDefault("ip")}:{master.GetValueOrDefault("port")} flags={master.GetValueOrDefault("flags")} sentinels={master.GetValueOrDefault("num-other-sentinels")}; replicas: {string.Join("; ", replicas)}";
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return $"sentinel {s.Port}: {e.Message}";
        }
    }));

    /// <summary>The last lines of every sentinel's log.</summary>
    public string Logs() => string.Join("\n", _sentinels.Select(s =>
        $"--- sentinel {s.Port}\n" + string.Join('\n', s.ReadLog().Split('\n').TakeLast(40))));

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _sentinels)
        {
            await s.DisposeAsync();
        }
        _dir.Dispose();
    }
}
