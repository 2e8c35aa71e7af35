using System.Globalization;

namespace Talus.TestKit;

/// <summary>Waits on replication state that INFO exposes.</summary>
public static class ReplicationWait
{
    public static ulong MasterOffset(ServerProcess master) =>
        ulong.Parse(master.Info("replication")["master_repl_offset"], CultureInfo.InvariantCulture);

    /// <summary>The replica's applied master offset (0 without lineage).</summary>
    public static ulong ReplicaOffset(ServerProcess replica) =>
        ulong.Parse(replica.Info("replication").GetValueOrDefault("slave_repl_offset", "0"), CultureInfo.InvariantCulture);

    /// <summary>Waits until every replica streams with lineage and has applied the master's current offset.</summary>
    public static async Task WaitForSyncAsync(ServerProcess master, IEnumerable<ServerProcess> replicas, TimeSpan? timeout = null)
    {
        var target = MasterOffset(master);
        foreach (var replica in replicas)
        {
            await Wait.UntilAsync(() =>
            {
                var info = replica.Info("replication");
                return info.GetValueOrDefault("master_link_status") == "up"
                    && ulong.Parse(info.GetValueOrDefault("slave_repl_offset", "0"), CultureInfo.InvariantCulture) >= target;
            }, timeout ?? TimeSpan.FromSeconds(60), $"replica {replica.Endpoint} to reach offset {target}: {string.Join(' ', replica.Info("replication").Where(kv => kv.Key.StartsWith("talus_repl", StringComparison.Ordinal) || kv.Key.StartsWith("master_link", StringComparison.Ordinal)))}")
                .ConfigureAwait(false);
        }
    }

    public static long Stat(ServerProcess server, string field, string section = "all") => Number(server.Info(section), field);

    /// <summary>A field of one INFO reply as a number, 0 when absent (several fields read from one reply agree).</summary>
    public static long Number(IReadOnlyDictionary<string, string> info, string field) =>
        long.Parse(info.GetValueOrDefault(field, "0"), CultureInfo.InvariantCulture);
}
