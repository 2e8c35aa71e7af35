using System.Globalization;
using Talus.TestKit;

namespace Talus.Replication.Tests;

/// <summary>Helpers shared by the replication integration tests: start nodes, write data, compare.</summary>
internal static class ReplicationFixture
{
    public static string P(int port) => port.ToString(CultureInfo.InvariantCulture);

    public static Task<TalusProcess> StartReplicaAsync(ServerProcess master, params string[] extra) =>
        TalusProcess.LaunchAsync([.. extra, "--replicaof", "127.0.0.1", P(master.Port)]);

    /// <summary>Starts a replica whose master is reached through <paramref name="proxy"/>.</summary>
    public static Task<TalusProcess> StartReplicaThroughAsync(FaultProxy proxy, params string[] extra) =>
        TalusProcess.LaunchAsync([.. extra, "--replicaof", "127.0.0.1", P(proxy.Port)]);

    /// <summary>
    /// Starts a replica through <paramref name="proxy"/>, which holds the master's replies once the first
    /// megabyte has passed, and returns when the replica shows that transfer held in DbSync with part of its
    /// bytes received: a transfer under way, however late the test gets to look. The master's snapshot must be
    /// larger than a megabyte. <c>proxy.Resume(ProxyDirection.ToClient)</c> lets it go on.
    /// </summary>
    public static async Task<TalusProcess> StartReplicaHeldMidTransferAsync(FaultProxy proxy, params string[] extra)
    {
        proxy.PauseAfter(ProxyDirection.ToClient, 1 << 20);
        var replica = await StartReplicaThroughAsync(proxy, extra);
        try
        {
            await Wait.UntilAsync(() => proxy.IsPaused(ProxyDirection.ToClient), TimeSpan.FromSeconds(30), "the first megabyte of the transfer to pass");
            await Wait.UntilAsync(() =>
            {
                var info = Repl(replica);
                var done = ReplicationWait.Number(info, "talus_sync_bytes_done");
                return info["talus_repl_state"] == "DbSync" && done > 0 && done < ReplicationWait.Number(info, "talus_sync_bytes_total");
            }, TimeSpan.FromSeconds(30), "the replica to show the transfer under way");
        }
        catch
        {
            await replica.DisposeAsync();
            throw;
        }
        return replica;
    }

    /// <summary>Writes <paramref name="count"/> strings over several databases, some with a TTL, pipelined.</summary>
    public static void WriteStrings(ServerProcess server, int count, string prefix = "k", int databases = 3)
    {
        using var c = server.Client();
        for (var db = 0; db < databases; db++)
        {
            c.Call("SELECT", P(db));
            for (var i = 0; i < count; i++)
            {
                if (i % 10 == 0)
                {
                    c.Send("SET", $"{prefix}:{db}:{i}", $"v{i}", "EX", "3600");
                }
                else
                {
                    c.Send("SET", $"{prefix}:{db}:{i}", $"v{i}");
                }
            }
            for (var i = 0; i < count; i++)
            {
                var r = c.Read();
                Assert.False(r.IsError, r.Text);
            }
        }
    }

    /// <summary>Writes collections of every type (some with a TTL) into database 0.</summary>
    public static void WriteCollections(ServerProcess server, int count, string prefix = "c")
    {
        using var c = server.Client();
        var sent = 0;
        for (var i = 0; i < count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            c.Send("HSET", $"{prefix}:hash:{i % 20}", "f" + n, "v" + n);
            c.Send("RPUSH", $"{prefix}:list:{i % 20}", "e" + n);
            c.Send("SADD", $"{prefix}:set:{i % 20}", "m" + n);
            c.Send("ZADD", $"{prefix}:zset:{i % 20}", (i * 1.5).ToString(CultureInfo.InvariantCulture), "z" + n);
            sent += 4;
        }
        c.Send("EXPIRE", $"{prefix}:hash:0", "3600");
        c.Send("EXPIRE", $"{prefix}:list:1", "3600");
        sent += 2;
        for (var i = 0; i < sent; i++)
        {
            var r = c.Read();
            Assert.False(r.IsError && !r.Text!.StartsWith("ERR unknown command", StringComparison.Ordinal), r.Text);
        }
    }

    /// <summary>Writes continuously (bounded in count and time) until stopped; returns how many writes were acknowledged.</summary>
    public static Task<int> WriteLoadAsync(ServerProcess master, CancellationToken stop) => Task.Run(() =>
    {
        using var c = master.Client();
        var written = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!stop.IsCancellationRequested && written < 2_000_000 && DateTime.UtcNow < deadline)
        {
            for (var i = 0; i < 50; i++)
            {
                c.Send("SET", "load:" + ((written + i) % 5000).ToString(CultureInfo.InvariantCulture), (written + i).ToString(CultureInfo.InvariantCulture));
            }
            for (var i = 0; i < 50; i++)
            {
                Assert.False(c.Read().IsError);
            }
            written += 50;
        }
        return written;
    });

    public static void WriteBulk(ServerProcess server, int keys, int valueSize)
    {
        // Random hex values: incompressible, so the snapshot really is about keys × valueSize bytes.
        var random = new Random(42);
        using var c = server.Client();
        for (var i = 0; i < keys; i++)
        {
            var bytes = new byte[valueSize / 2];
            random.NextBytes(bytes);
            c.Send("SET", "bulk:" + i.ToString(CultureInfo.InvariantCulture), Convert.ToHexString(bytes));
            if (i % 500 == 499)
            {
                for (var j = 0; j < 500; j++)
                {
                    c.Read();
                }
            }
        }
        for (var j = 0; j < keys % 500; j++)
        {
            c.Read();
        }
    }

    /// <summary>Asserts the replica's keyspace equals the master's, key by key.</summary>
    /// <summary>Writes <paramref name="count"/> keys of random hex (RocksDB cannot compress them away), pipelined.</summary>
    public static void WriteIncompressible(ServerProcess server, int count, int valueBytes)
    {
        var random = new Random(42);
        using var c = server.Client();
        for (var i = 0; i < count; i++)
        {
            var bytes = new byte[valueBytes / 2];
            random.NextBytes(bytes);
            c.Send("SET", "big:" + i.ToString(CultureInfo.InvariantCulture), Convert.ToHexString(bytes));
        }
        for (var i = 0; i < count; i++)
        {
            Assert.False(c.Read().IsError);
        }
    }

    public static void AssertSameKeyspace(ServerProcess master, ServerProcess replica)
    {
        var diffs = KeyspaceComparer.Differences(master, replica);
        Assert.True(diffs.Count == 0, "keyspaces differ:\n" + string.Join('\n', diffs));
    }

    public static Dictionary<string, string> Repl(ServerProcess s) => s.Info("replication");
}
