using System.Diagnostics;
using Talus.TestKit;
using static Talus.Replication.Tests.ReplicationFixture;

namespace Talus.Replication.Tests;

/// <summary>What operators use to verify replicas: DEBUG DIGEST, talus check, DEBUG BINLOG, and expiry on replicas.</summary>
public class OperatorToolsTests
{
    private static (int Exit, string Output) RunCheck(params string[] endpoints)
    {
        var psi = new ProcessStartInfo(TalusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("check");
        foreach (var e in endpoints)
        {
            psi.ArgumentList.Add(e);
        }
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        return (p.ExitCode, output);
    }

    [Fact]
    public async Task Digest_and_check_agree_on_a_synced_replica_and_report_a_difference()
    {
        await using var master = await TalusProcess.LaunchAsync();
        WriteStrings(master, 300);
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        using (var m = master.Client())
        using (var r = replica.Client())
        {
            var digest = m.Call("DEBUG", "DIGEST").Text;
            Assert.Matches("^[0-9a-f]{32}$", digest);
            Assert.NotEqual(new string('0', 32), digest);
            Assert.Equal(digest, r.Call("DEBUG", "DIGEST").Text);
            Assert.Equal(m.Call("DEBUG", "DIGEST", "1").Text, r.Call("DEBUG", "DIGEST", "1").Text);
        }
        var (exit, output) = RunCheck(master.Endpoint, replica.Endpoint);
        Assert.Equal(0, exit);
        Assert.Contains("0 differences", output, StringComparison.Ordinal);

        // An independent node with one key changed: the checker names exactly that key.
        await using var other = await TalusProcess.LaunchAsync();
        WriteStrings(other, 300);
        using (var o = other.Client())
        {
            o.Call("SET", "k:0:5", "changed");
        }
        (exit, output) = RunCheck(master.Endpoint, other.Endpoint);
        Assert.Equal(1, exit);
        Assert.Contains("key \"k:0:5\"", output, StringComparison.Ordinal);
        Assert.Contains("1 differences", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Debug_binlog_shows_the_entries_of_a_write()
    {
        await using var master = await TalusProcess.LaunchAsync();
        using var c = master.Client();
        var before = ReplicationWait.MasterOffset(master);
        c.Call("SET", "binlog-key", "binlog-value");
        var reply = c.Call("DEBUG", "BINLOG", (before + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "10");
        Assert.False(reply.IsError, reply.Text);
        var line = Assert.Single(reply.Items!).Text!;
        Assert.Contains("put meta", line, StringComparison.Ordinal);
        Assert.Contains("binlog-key", line, StringComparison.Ordinal);
        Assert.StartsWith("ERR offset", c.Call("DEBUG", "BINLOG", "999999999").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicas_hide_expired_keys_and_wait_for_the_masters_deletion()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await StartReplicaAsync(master);
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        using (var c = master.Client())
        {
            c.Call("SET", "short", "lived", "PX", "300");
            c.Call("SET", "stays", "1");
        }
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        await Wait.UntilAsync(() =>
        {
            using var r = replica.Client();
            return r.Call("GET", "short").IsNull;
        }, TimeSpan.FromSeconds(10), "the expired key to be hidden on the replica");
        // The master's sweeper deletes it and the deletion arrives through the binlog.
        await Wait.UntilAsync(() => ReplicationWait.Stat(master, "expired_keys") >= 1, TimeSpan.FromSeconds(10), "the master's active expiry to delete the key");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        AssertSameKeyspace(master, replica);
        using var check = replica.Client();
        Assert.Equal("1", check.Call("GET", "stays").Text);
    }
}
