using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Talus.TestKit;
using Xunit.Abstractions;

namespace Talus.Replication.Tests;

/// <summary>
/// ioredis in Sentinel mode (tests/clients/ioredis/sentinel.js) writing to a Talus master while three real
/// redis-sentinel processes fail it over to its replica: the client finds the new master by itself, and every
/// write a replica had confirmed before the switch is on the new master.
/// </summary>
public class IoredisSentinelTests(ITestOutputHelper output)
{
    private const string Name = "talus";

    [Fact]
    public async Task Ioredis_follows_a_sentinel_failover_and_the_new_master_has_every_replicated_write()
    {
        var scripts = Path.Combine(ExampleConfig.RepositoryRoot, "tests", "clients", "ioredis");
        Assert.True(File.Exists(Path.Combine(scripts, "node_modules", "ioredis", "package.json")),
            "ioredis is not installed under tests/clients/ioredis (./test runs npm ci there)");
        using var confs = new TempDirectory("talus-confs");
        await using var master = await SentinelTests.StartNodeAsync(confs, "master");
        await using var replica = await SentinelTests.StartNodeAsync(confs, "r1", master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        await using var sentinels = await SentinelGroup.StartAsync(master);
        await sentinels.WaitUntilAllAsync(s => s.Replicas(Name).Count == 1 && s.Master(Name).GetValueOrDefault("num-other-sentinels") == "2",
            TimeSpan.FromSeconds(40), "every sentinel to know the replica and the other two sentinels");

        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = scripts,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "sentinel.js", "--name", Name, "--count", "600", "--sentinels",
                     string.Join(',', sentinels.All.Select(s => $"127.0.0.1:{s.Port.ToString(CultureInfo.InvariantCulture)}")) })
        {
            psi.ArgumentList.Add(arg);
        }
        using var client = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var lines = new List<string>();
        var stderr = client.StandardError.ReadToEndAsync();
        var reader = Task.Run(async () =>
        {
            while (await client.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
            }
        });
        try
        {
            await Wait.UntilAsync(() => { lock (lines) { return lines.Contains("progress 100") || client.HasExited; } },
                TimeSpan.FromSeconds(30), "ioredis to have 100 writes acknowledged through Sentinel");
            if (client.HasExited)
            {
                Assert.Fail($"the client stopped early: {string.Join('\n', lines)}\n{await stderr}");
            }

            var clock = Stopwatch.StartNew();
            using (var sentinel = new RespClient(sentinels.First.Port))
            {
                Assert.Equal("OK", sentinel.Call("SENTINEL", "FAILOVER", Name).Text);
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
            await client.WaitForExitAsync(timeout.Token);
            await reader;
            var outcome = $"exit {client.ExitCode}, stdout:\n{string.Join('\n', lines.TakeLast(5))}\nstderr:\n{await stderr}\n"
                + $"{sentinels.State()}\n{sentinels.Logs()}\nmaster log:\n{Tail(master.ReadLog())}\nreplica log:\n{Tail(replica.ReadLog())}";
            Assert.True(client.ExitCode == 0, outcome);
            using var result = JsonDocument.Parse(lines[^1]);
            var root = result.RootElement;
            var written = root.GetProperty("written").GetInt32();
            var ports = root.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()).ToArray();
            var unreplicated = root.GetProperty("unreplicated").EnumerateArray().Select(p => p.GetInt32()).ToHashSet();
            Assert.True(written >= 600, outcome);
            Assert.True(ports[0] == master.Port && ports[1] == replica.Port, $"ioredis wrote first to {ports[0]} and last to {ports[1]}; master {master.Port}, replica {replica.Port}\n{outcome}");
            Assert.Equal($"127.0.0.1:{replica.Port.ToString(CultureInfo.InvariantCulture)}", sentinels.First.MasterAddress(Name));

            // Every write that a replica had confirmed, or that the new master took itself, is on the new master.
            using var promoted = new RespClient(replica.Port);
            var missing = new List<int>();
            var lostUnreplicated = 0;
            for (var start = 0; start < written; start += 200)
            {
                var keys = Enumerable.Range(start, Math.Min(200, written - start)).ToArray();
                var values = promoted.Call(["MGET", .. keys.Select(i => string.Create(CultureInfo.InvariantCulture, $"io:{i}"))]).Items!;
                missing.AddRange(keys.Where((i, at) => !unreplicated.Contains(i) && values[at].Text != string.Create(CultureInfo.InvariantCulture, $"v{i}")));
                lostUnreplicated += keys.Where((i, at) => unreplicated.Contains(i) && values[at].IsNull).Count();
            }
            Assert.True(missing.Count == 0, $"{missing.Count} confirmed writes missing on the new master, first {string.Join(", ", missing.Take(10))}\n{outcome}");
            output.WriteLine($"ioredis followed the failover in {clock.Elapsed.TotalSeconds:0.0}s to the end of the run: {written} writes, "
                + $"{unreplicated.Count} unconfirmed on the old master ({lostUnreplicated} of them not on the new one), {root.GetProperty("changes").GetInt32()} master change(s); "
                + $"errors seen: {string.Join(" | ", root.GetProperty("errors").EnumerateArray().Select(e => e.GetString()))}");
        }
        finally
        {
            if (!client.HasExited)
            {
                client.Kill();
            }
        }
    }

    private static string Tail(string log) => string.Join('\n', log.Split('\n').TakeLast(25));
}
