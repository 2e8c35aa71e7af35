using System.Text;

namespace Talus.TestKit;

/// <summary>
/// Compares the whole keyspace of two nodes key by key: the set of keys in every database, and for each key
/// its type, its value (strings, hashes, lists, sets, sorted sets with scores) and whether it has a TTL.
/// Replication tests end with this instead of trusting master_link_status.
/// </summary>
public static class KeyspaceComparer
{
    /// <summary>Every difference, as readable lines (empty when the keyspaces are equal).</summary>
    public static List<string> Differences(ServerProcess expected, ServerProcess actual, int databases = 16, string? password = null)
    {
        var diffs = new List<string>();
        using var a = expected.Client();
        using var b = actual.Client();
        if (password is not null)
        {
            a.Call("AUTH", password);
            b.Call("AUTH", password);
        }
        for (var db = 0; db < databases; db++)
        {
            a.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var keysA = AllKeys(a);
            var keysB = AllKeys(b);
            foreach (var missing in keysA.Except(keysB).Take(20))
            {
                diffs.Add($"db{db}: key {missing} missing on {actual.Endpoint}");
            }
            foreach (var extra in keysB.Except(keysA).Take(20))
            {
                diffs.Add($"db{db}: key {extra} only on {actual.Endpoint}");
            }
            foreach (var key in keysA.Intersect(keysB))
            {
                var da = Describe(a, key);
                var dbb = Describe(b, key);
                if (da != dbb)
                {
                    diffs.Add($"db{db}: key {key} differs: {Trim(da)} vs {Trim(dbb)}");
                }
                if (diffs.Count > 50)
                {
                    return diffs;
                }
            }
        }
        return diffs;
    }

    /// <summary>Number of live keys across all databases (SCAN-based).</summary>
    public static int CountKeys(ServerProcess server, int databases = 16)
    {
        using var c = server.Client();
        var total = 0;
        for (var db = 0; db < databases; db++)
        {
            c.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            total += AllKeys(c).Count;
        }
        return total;
    }

    private static string Trim(string s) => s.Length > 200 ? s[..200] + "..." : s;

    private static HashSet<string> AllKeys(RespClient c)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var cursor = "0";
        var rounds = 0;
        do
        {
            var reply = c.Call("SCAN", cursor, "COUNT", "1000");
            if (reply.IsError)
            {
                throw new InvalidOperationException("SCAN failed: " + reply.Text);
            }
            cursor = reply.Items![0].Text!;
            foreach (var item in reply.Items[1].Items!)
            {
                keys.Add(Hex(item.Bytes!));
            }
            if (++rounds > 1_000_000)
            {
                throw new InvalidOperationException("SCAN did not finish");
            }
        }
        while (cursor != "0");
        return keys;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    private static string Describe(RespClient c, string hexKey)
    {
        var key = Convert.FromHexString(hexKey);
        var type = c.Call([Encoding.ASCII.GetBytes("TYPE"), key]).Text;
        var ttl = c.Call([Encoding.ASCII.GetBytes("PTTL"), key]).Integer;
        string value = type switch
        {
            "string" => Flat(c.Call([Encoding.ASCII.GetBytes("GET"), key])),
            "hash" => Sorted(Pairs(c.Call([Encoding.ASCII.GetBytes("HGETALL"), key]))),
            "list" => Flat(c.Call([Encoding.ASCII.GetBytes("LRANGE"), key, "0"u8.ToArray(), "-1"u8.ToArray()])),
            "set" => Sorted(c.Call([Encoding.ASCII.GetBytes("SMEMBERS"), key]).Items!.Select(Flat)),
            "zset" => Flat(c.Call([Encoding.ASCII.GetBytes("ZRANGE"), key, "0"u8.ToArray(), "-1"u8.ToArray(), "WITHSCORES"u8.ToArray()])),
            _ => "",
        };
        return $"{type} ttl={(ttl > 0 ? "yes" : ttl.ToString(System.Globalization.CultureInfo.InvariantCulture))} {value}";
    }

    private static string Flat(RespReply r) => r.Items is { } items
        ? "[" + string.Join(",", items.Select(Flat)) + "]"
        : r.Bytes is { } b ? Convert.ToHexString(b) : r.ToString();

    private static IEnumerable<string> Pairs(RespReply r)
    {
        var items = r.Items!;
        for (var i = 0; i + 1 < items.Count; i += 2)
        {
            yield return Flat(items[i]) + "=" + Flat(items[i + 1]);
        }
    }

    private static string Sorted(IEnumerable<string> items) => "{" + string.Join(",", items.OrderBy(x => x, StringComparer.Ordinal)) + "}";
}
