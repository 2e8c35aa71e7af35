using Talus.Server.Tools;

namespace Talus.TestKit;

/// <summary>
/// Compares the whole keyspace of nodes key by key with the same checker as <c>talus check</c>: the set of keys
/// in every database, and for each key its type, value and whether it has a TTL. Replication tests end with
/// this instead of trusting master_link_status.
/// </summary>
public static class KeyspaceComparer
{
    /// <summary>Every difference, as readable lines (empty when the keyspaces are equal).</summary>
    public static List<string> Differences(ServerProcess expected, ServerProcess actual, int databases = 16, string? password = null)
    {
        using var a = new ToolClient("127.0.0.1", expected.Port, password ?? (expected as TalusProcess)?.RequirePass);
        using var b = new ToolClient("127.0.0.1", actual.Port, (actual as TalusProcess)?.RequirePass);
        var checker = new ConsistencyChecker([a, b], TextWriter.Null, TextWriter.Null);
        checker.Check(databases);
        return checker.Differences;
    }

    /// <summary>Number of live keys across all databases (SCAN-based).</summary>
    public static int CountKeys(ServerProcess server, int databases = 16)
    {
        using var c = server.Client();
        var total = 0;
        for (var db = 0; db < databases; db++)
        {
            c.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var cursor = "0";
            do
            {
                var reply = c.Call("SCAN", cursor, "COUNT", "1000");
                cursor = reply.Items![0].Text!;
                total += reply.Items[1].Items!.Count;
            }
            while (cursor != "0");
        }
        return total;
    }
}
