using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>MONITOR's line format against redis-server, and client-output-buffer-limit on a subscriber that never reads.</summary>
public partial class MonitorAndOutputLimitTests
{
    [GeneratedRegex(@"^\+\d{10}\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] ")]
    private static partial Regex LinePrefix();

    private static readonly byte[][][] WorkerCommands =
    [
        Argv("SET", "k", "v"), Argv("GET", "k"), Argv("SELECT", "1"),
        [Encoding.UTF8.GetBytes("SET"), Encoding.UTF8.GetBytes("a b"), [(byte)'x', (byte)'"', (byte)'\\', (byte)'\n', (byte)'\r', (byte)'\t', 7, 8, 1, 0xff, (byte)'~']],
        Argv("CONFIG", "GET", "maxmemory"), Argv("AUTH", "secret"), Argv("AUTH", "default", "secret"),
        Argv("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "w"), Argv("PING"), Argv("INCR", "n"), Argv("CLIENT", "LIST"),
        Argv("CLIENT", "GETNAME"), Argv("PUBLISH", "ch", "m"), Argv("NOSUCH", "x"), Argv("GET"), Argv("HSET", "h", "f", "12345"),
        Argv("SELECT", "0"), Argv("ECHO", "done"),
    ];

    private static byte[][] Argv(params string[] args) => args.Select(Encoding.UTF8.GetBytes).ToArray();

    [Fact]
    public async Task Monitor_lines_match_redis_apart_from_time_and_port()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        var expected = MonitorLines(redis);
        var actual = MonitorLines(talus);
        Assert.True(expected.Count > 10, string.Join('\n', expected));
        Assert.Equal(expected, actual);
    }

    /// <summary>Runs the worker commands with a monitor attached; returns the monitor's lines up to ECHO done, time and port masked.</summary>
    private static List<string> MonitorLines(ServerProcess server)
    {
        using var monitor = server.Client();
        using var worker = server.Client();
        var lines = new List<string> { monitor.Call("MONITOR").ToString() };
        foreach (var argv in WorkerCommands)
        {
            worker.Call(argv);
        }
        while (lines.Count < 100)
        {
            var reply = monitor.Read();
            Assert.Equal('+', reply.Type);
            var line = Encoding.Latin1.GetString(reply.Raw);
            Assert.Matches(LinePrefix(), line);
            lines.Add(LinePrefix().Replace(line, "+T [$1 ADDR] "));
            if (line.Contains("\"ECHO\" \"done\"", StringComparison.Ordinal))
            {
                break;
            }
        }
        return lines;
    }

    [Fact]
    public async Task Monitor_and_subscribers_show_in_client_list_and_info()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var monitor = talus.Client();
        using var subscriber = talus.Client();
        using var admin = talus.Client();
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        // Nothing else runs yet, so the next frame on the monitor is this reply: a rejected command is not shown.
        Assert.Equal("ERR Replica can't interact with the keyspace", monitor.Call("GET", "x").Text);
        subscriber.Send("SUBSCRIBE", "a", "b");
        subscriber.Read();
        subscriber.Read();
        subscriber.Call("PSUBSCRIBE", "p*");
        var list = admin.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(list, l => l.Contains(" flags=O ", StringComparison.Ordinal) && l.Contains(" sub=0 psub=0 ", StringComparison.Ordinal));
        Assert.Contains(list, l => l.Contains(" flags=P ", StringComparison.Ordinal) && l.Contains(" sub=2 psub=1 ", StringComparison.Ordinal));
        Assert.Single(admin.Call("CLIENT", "LIST", "TYPE", "pubsub").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var info = talus.Info("stats");
        Assert.Equal("2", info["pubsub_channels"]);
        Assert.Equal("1", info["pubsub_patterns"]);

        Assert.Equal("RESET", subscriber.Call("RESET").Text);
        monitor.Send("RESET");
        var frames = 0;
        while (monitor.Read().Text != "RESET")
        {
            Assert.True(++frames < 100, "no RESET reply among the monitor's lines");
        }
        info = talus.Info("stats");
        Assert.Equal("0", info["pubsub_channels"]);
        Assert.Equal("0", info["pubsub_patterns"]);
        Assert.DoesNotContain(" flags=O ", admin.Call("CLIENT", "LIST").Text!, StringComparison.Ordinal);
    }

    /// <summary>
    /// A subscriber that never reads while 200 MB are published to its channel: it is dropped at the pubsub
    /// class's hard limit (32 MB by default), the server's RSS stays bounded, and another client is answered
    /// throughout.
    /// </summary>
    [Fact]
    public async Task Subscriber_that_never_reads_is_dropped_and_memory_stays_bounded()
    {
        const int MessageSize = 100 * 1024;
        const int Messages = 2000; // 200 MB in total
        const int Batch = 50;
        const long RssBoundBytes = 200L * 1024 * 1024; // growth over the idle server: hard limit 32 MB plus pipes and GC slack
        await using var talus = await TalusProcess.LaunchAsync();
        using var subscriber = talus.Client();
        subscriber.Call("SUBSCRIBE", "flood");
        using var publisher = talus.Client();
        using var bystander = talus.Client();
        var baseline = RssBytes(talus.Pid);
        var payload = new byte[MessageSize];
        new Random(7).NextBytes(payload);
        var publish = RespClient.Encode([Encoding.ASCII.GetBytes("PUBLISH"), Encoding.ASCII.GetBytes("flood"), payload]);
        long peak = 0, delivered = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        for (var sent = 0; sent < Messages && DateTime.UtcNow < deadline; sent += Batch)
        {
            for (var i = 0; i < Batch; i++)
            {
                publisher.SendRaw(publish);
            }
            for (var i = 0; i < Batch; i++)
            {
                delivered += publisher.Read().Integer;
            }
            Assert.Equal("PONG", bystander.Call("PING").Text);
            peak = Math.Max(peak, RssBytes(talus.Pid));
        }
        Assert.True(DateTime.UtcNow < deadline, "publishing 200 MB took over 120 s");
        Assert.True(peak - baseline < RssBoundBytes, $"RSS grew by {(peak - baseline) >> 20} MB (baseline {baseline >> 20} MB)");
        Assert.True(delivered < Messages, $"all {delivered} messages were accepted for the subscriber");
        Assert.Equal(0, publisher.Call("PUBSUB", "NUMSUB", "flood").Items![1].Integer);
        Assert.Equal("1", talus.Info("stats")["client_output_buffer_limit_disconnections"]);
        await Wait.UntilAsync(() => talus.ReadLog().Contains("scheduled to be closed ASAP for overcoming of output buffer limits.", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the disconnection log line");
    }

    private static long RssBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
