using System.Globalization;
using Talus.TestKit;

namespace Talus.Soak;

/// <summary>
/// One replica of the soak: a talus process that reaches the master through its own <see cref="FaultProxy"/>,
/// and the sync counters it reported over all its lifetimes (INFO resets them when the process restarts).
/// </summary>
internal sealed class SoakReplica : IAsyncDisposable
{
    private SoakReplica(int index, TalusProcess process, FaultProxy proxy)
    {
        Index = index;
        Process = process;
        Proxy = proxy;
    }

    public int Index { get; }

    public TalusProcess Process { get; }

    public FaultProxy Proxy { get; }

    /// <summary>Full and partial syncs counted by earlier lifetimes of the process.</summary>
    public long EarlierFullSyncs { get; private set; }

    public long EarlierPartialSyncs { get; private set; }

    public static async Task<SoakReplica> StartAsync(int index, int masterPort)
    {
        var proxy = FaultProxy.Start(masterPort);
        var process = await TalusProcess.LaunchAsync("--replicaof", "127.0.0.1", proxy.Port.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        return new SoakReplica(index, process, proxy);
    }

    /// <summary>The counters of the running process (0 when it does not answer).</summary>
    public (long Full, long Partial) CurrentSyncs()
    {
        try
        {
            var info = Process.Info("replication");
            return (ReplicationWait.Number(info, "talus_full_syncs"), ReplicationWait.Number(info, "talus_partial_syncs"));
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            return (0, 0);
        }
    }

    public (long Full, long Partial) TotalSyncs()
    {
        var (full, partial) = CurrentSyncs();
        return (EarlierFullSyncs + full, EarlierPartialSyncs + partial);
    }

    /// <summary>kill -9, then a restart on the same directory and port.</summary>
    public async Task KillAndRestartAsync()
    {
        // A sync that completed but was not yet read is lost from the count, never double counted.
        var (full, partial) = CurrentSyncs();
        EarlierFullSyncs += full;
        EarlierPartialSyncs += partial;
        Process.Kill();
        await Process.StartAsync().ConfigureAwait(false);
    }

    /// <summary>kill -9, then a restart with the dataset directory deleted (a lost disk): it must take a full sync.</summary>
    public async Task KillWipeAndRestartAsync()
    {
        var (full, partial) = CurrentSyncs();
        EarlierFullSyncs += full;
        EarlierPartialSyncs += partial;
        Process.Kill();
        var data = Path.Combine(Process.Directory, "data", "db");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
        await Process.StartAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync().ConfigureAwait(false);
        await Proxy.DisposeAsync().ConfigureAwait(false);
    }
}
