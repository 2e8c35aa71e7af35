namespace Talus.TestKit;

/// <summary>
/// A real redis-sentinel (Debian's package) with its own writable config file in its own directory, on a
/// loopback port. Sentinel rewrites the file as it learns the topology, so each one needs its own copy.
/// </summary>
public sealed class SentinelProcess : ServerProcess
{
    private SentinelProcess(string directory, int port) : base(directory, port)
    {
    }

    public const string Binary = "/usr/bin/redis-sentinel";

    public static bool IsAvailable => File.Exists(Binary);

    public string ConfigPath => Path.Combine(Directory, "sentinel.conf");

    protected override string FileName => Binary;

    public override string LogPath => Path.Combine(Directory, "sentinel.log");

    protected override IEnumerable<string> Arguments() => [ConfigPath];

    /// <summary>Starts a sentinel whose config file (already written in <paramref name="directory"/>) sets <paramref name="port"/>.</summary>
    public static async Task<SentinelProcess> LaunchAsync(string directory, int port)
    {
        var sentinel = new SentinelProcess(directory, port);
        await sentinel.StartAsync().ConfigureAwait(false);
        return sentinel;
    }

    /// <summary>SENTINEL get-master-addr-by-name: "host:port", or null while it has no answer.</summary>
    public string? MasterAddress(string name)
    {
        using var c = Client();
        var reply = c.Call("SENTINEL", "get-master-addr-by-name", name);
        return reply.Items is [{ Text: { } host }, { Text: { } port }] ? $"{host}:{port}" : null;
    }

    /// <summary>SENTINEL REPLICAS name: one field → value map per replica.</summary>
    public List<Dictionary<string, string>> Replicas(string name)
    {
        using var c = Client();
        var reply = c.Call("SENTINEL", "REPLICAS", name);
        return (reply.Items ?? []).Select(r => Pairs(r.Items!)).ToList();
    }

    /// <summary>SENTINEL MASTER name as a field → value map.</summary>
    public Dictionary<string, string> Master(string name)
    {
        using var c = Client();
        return Pairs(c.Call("SENTINEL", "MASTER", name).Items ?? []);
    }

    private static Dictionary<string, string> Pairs(List<RespReply> items)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < items.Count; i += 2)
        {
            map[items[i].Text!] = items[i + 1].Text ?? "";
        }
        return map;
    }
}
