using System.Globalization;
using System.Text;

namespace Talus.Server.Tools;

/// <summary>
/// <c>talus check HOST:PORT HOST:PORT ...</c>: compares nodes key by key. The first node is the reference;
/// every key of every database on any node is looked up on all of them and compared by type, value (strings,
/// hashes and sets as unordered collections, lists and sorted sets in order, scores included) and whether it
/// has a TTL. Prints every difference and a progress line on stderr; exit code 0 when equal, 1 otherwise.
/// </summary>
public sealed class ConsistencyChecker
{
    private readonly List<ToolClient> _nodes;
    private readonly TextWriter _out;
    private readonly TextWriter _progress;

    public ConsistencyChecker(List<ToolClient> nodes, TextWriter output, TextWriter progress)
    {
        _nodes = nodes;
        _out = output;
        _progress = progress;
    }

    public long KeysChecked { get; private set; }

    public List<string> Differences { get; } = [];

    public static int Run(IReadOnlyList<string> args)
    {
        string? password = null;
        var endpoints = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "--password" or "-a" && i + 1 < args.Count)
            {
                password = args[++i];
            }
            else
            {
                endpoints.Add(args[i]);
            }
        }
        if (endpoints.Count < 2)
        {
            Console.Error.WriteLine("Usage: talus check [--password PASS] HOST:PORT HOST:PORT [HOST:PORT ...]");
            return 2;
        }
        var nodes = new List<ToolClient>();
        try
        {
            foreach (var e in endpoints)
            {
                var (host, port) = ToolClient.ParseEndpoint(e);
                nodes.Add(new ToolClient(host, port, password));
            }
            var checker = new ConsistencyChecker(nodes, Console.Out, Console.Error);
            checker.Check();
            Console.Out.WriteLine($"{checker.KeysChecked} keys checked on {nodes.Count} nodes, {checker.Differences.Count} differences");
            return checker.Differences.Count == 0 ? 0 : 1;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or FormatException or InvalidOperationException or InvalidDataException)
        {
            Console.Error.WriteLine("talus check: " + ex.Message);
            return 2;
        }
        finally
        {
            foreach (var n in nodes)
            {
                n.Dispose();
            }
        }
    }

    public void Check(int databases = 16)
    {
        var lastProgress = Environment.TickCount64;
        for (var db = 0; db < databases; db++)
        {
            foreach (var node in _nodes)
            {
                node.Call("SELECT", db);
            }
            var keys = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var node in _nodes)
            {
                foreach (var key in Scan(node))
                {
                    keys.Add(Convert.ToHexString(key));
                }
            }
            foreach (var hex in keys)
            {
                var key = Convert.FromHexString(hex);
                var reference = Describe(_nodes[0], key);
                for (var i = 1; i < _nodes.Count; i++)
                {
                    var other = Describe(_nodes[i], key);
                    if (other != reference)
                    {
                        Report($"db{db} key {Printable(key)}: {_nodes[0].Endpoint} has {Short(reference)}, {_nodes[i].Endpoint} has {Short(other)}");
                    }
                }
                KeysChecked++;
                if (Environment.TickCount64 - lastProgress > 1000)
                {
                    lastProgress = Environment.TickCount64;
                    _progress.Write($"\rchecked {KeysChecked} keys, {Differences.Count} differences (db{db})   ");
                }
            }
        }
        _progress.Write($"\rchecked {KeysChecked} keys, {Differences.Count} differences            \n");
    }

    private void Report(string line)
    {
        Differences.Add(line);
        _out.WriteLine(line);
    }

    private static IEnumerable<byte[]> Scan(ToolClient node)
    {
        var cursor = "0";
        do
        {
            var reply = node.Call("SCAN", cursor, "COUNT", 1000);
            if (reply.IsError)
            {
                throw new InvalidOperationException($"{node.Endpoint}: SCAN failed: {reply.Text}");
            }
            cursor = reply.Items![0].Text!;
            foreach (var item in reply.Items[1].Items!)
            {
                yield return item.Bytes!;
            }
        }
        while (cursor != "0");
    }

    /// <summary>A canonical text of a key's type, TTL presence and value on one node ("none" when missing).</summary>
    public static string Describe(ToolClient node, byte[] key)
    {
        var type = node.Call("TYPE", key).Text ?? "none";
        if (type == "none")
        {
            return "none";
        }
        var ttl = node.Call("PTTL", key).Integer;
        var value = type switch
        {
            "string" => Flat(node.Call("GET", key)),
            "hash" => Unordered(Pairs(node.Call("HGETALL", key))),
            "list" => Flat(node.Call("LRANGE", key, 0, -1)),
            "set" => Unordered(node.Call("SMEMBERS", key).Items!.Select(Flat)),
            "zset" => Flat(node.Call("ZRANGE", key, 0, -1, "WITHSCORES")),
            _ => "?",
        };
        return $"{type} ttl={(ttl >= 0 ? "yes" : "no")} {value}";
    }

    private static string Flat(ToolReply r) => r.Items is { } items
        ? "[" + string.Join(",", items.Select(Flat)) + "]"
        : r.Bytes is { } b ? Convert.ToHexString(b) : r.Text ?? "nil";

    private static IEnumerable<string> Pairs(ToolReply r)
    {
        var items = r.Items ?? [];
        for (var i = 0; i + 1 < items.Count; i += 2)
        {
            yield return Flat(items[i]) + "=" + Flat(items[i + 1]);
        }
    }

    private static string Unordered(IEnumerable<string> items) => "{" + string.Join(",", items.OrderBy(x => x, StringComparer.Ordinal)) + "}";

    private static string Short(string s) => s.Length > 120 ? s[..120] + "..." : s;

    private static string Printable(byte[] key)
    {
        var sb = new StringBuilder("\"");
        foreach (var b in key)
        {
            sb.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : "\\x" + b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.Append('"').ToString();
    }
}
