using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// A full disk, for real: the server's data directory is a small tmpfs. Writes then fail loudly with
/// Redis-style error replies (single commands, grouped pipelines and EXEC alike), reads and the connection keep
/// working, nothing half-written appears, and once there is room again writes succeed without a restart.
/// </summary>
public class DiskFullTests
{
    private const int ValueBytes = 60_000; // below the write group's 64 KB limit: these SETs are group-committed

    [SkippableFact]
    public async Task A_full_disk_fails_writes_with_errors_keeps_serving_and_recovers_when_space_returns()
    {
        using var dir = new TempDirectory("talus-diskfull");
        using var disk = SmallFilesystem.TryMount(Path.Combine(dir.Path, "data"), 48, out var mountError);
        Skip.If(disk is null, "cannot mount a tmpfs here: " + mountError);
        await using var server = TalusProcess.Create(dir.Path, FreePort.Next());
        await server.StartAsync();
        using var c = server.Client();

        // Fill the disk one SET at a time (bounded: 48 MB holds well under 2,000 of these values).
        var value = new string('v', ValueBytes);
        var stored = 0;
        RespReply? refused = null;
        for (var i = 0; i < 2_000 && refused is null; i++)
        {
            var reply = c.Call("SET", "k" + i.ToString(CultureInfo.InvariantCulture), value);
            if (reply.IsError)
            {
                refused = reply;
            }
            else
            {
                Assert.Equal("OK", reply.Text);
                stored++;
            }
        }
        Assert.NotNull(refused);
        Assert.StartsWith("ERR storage error", refused.Text, StringComparison.Ordinal);
        Assert.Contains("No space left on device", refused.Text, StringComparison.Ordinal);

        // A pipeline mixing grouped SETs, a read, grouped INCRs and PING: every write answers the error in its
        // place, the read and PING answer normally, and the connection stays open.
        string[][] pipeline = [["SET", "a", "1"], ["SET", "b", "2"], ["GET", "k0"], ["INCR", "n"], ["INCR", "n"], ["PING"], ["SET", "c", "3"]];
        var replies = c.CallPipelined(pipeline);
        Assert.All(new[] { 0, 1, 3, 4, 6 }, i => Assert.StartsWith("ERR storage error", replies[i].Text, StringComparison.Ordinal));
        Assert.Equal(ValueBytes, replies[2].Text!.Length);
        Assert.Equal("PONG", replies[5].Text);
        // SETs that end a read are written by the committer thread: its failure answers each of them the same way.
        var queued = c.CallPipelined([["SET", "d", "1"], ["SET", "e", "2"], ["SET", "f", "3"]]);
        Assert.All(queued, reply => Assert.StartsWith("ERR storage error", reply.Text, StringComparison.Ordinal));
        // So are read-modify-write commands that end a read (a deferred commit of the group).
        var deferred = c.CallPipelined([["HSET", "h", "f1", "v"], ["HSET", "h", "f2", "v"], ["SADD", "s", "m"]]);
        Assert.All(deferred, reply => Assert.StartsWith("ERR storage error", reply.Text, StringComparison.Ordinal));
        Assert.Equal("PONG", c.Call("PING").Text);
        Assert.Equal(stored, c.Call("DBSIZE").Integer);
        var persistence = server.Info("persistence");
        Assert.Equal("err", persistence["aof_last_write_status"]);
        Assert.Contains("No space left on device", persistence["talus_last_write_error"], StringComparison.Ordinal);
        Assert.True(long.Parse(persistence["talus_write_errors"], CultureInfo.InvariantCulture) >= 4);

        // A transaction: EXEC answers the error instead of replies for effects that did not happen.
        Assert.Equal("OK", c.Call("MULTI").Text);
        Assert.Equal("QUEUED", c.Call("SET", "x", "1").Text);
        Assert.Equal("QUEUED", c.Call("INCR", "n").Text);
        var exec = c.Call("EXEC");
        Assert.True(exec.IsError && exec.Text!.StartsWith("ERR storage error", StringComparison.Ordinal), "EXEC answered " + exec);
        Assert.Equal("PONG", c.Call("PING").Text);

        // Room again: writes succeed without a restart, and none of the refused ones took effect.
        disk!.Resize(256);
        await Wait.UntilAsync(() => !c.Call("SET", "after", "1").IsError, TimeSpan.FromSeconds(30), "a write to succeed once the disk has room");
        Assert.Equal(1, c.Call("INCR", "n").Integer);
        Assert.Equal("ok", server.Info("persistence")["aof_last_write_status"]);
        Assert.True(c.Call("GET", "a").IsNull);
        Assert.True(c.Call("GET", "f").IsNull);
        Assert.True(c.Call("GET", "x").IsNull);
        Assert.Equal(0, c.Call("EXISTS", "h", "s").Integer);
        Assert.Equal(stored + 2, c.Call("DBSIZE").Integer);

        // And all of it is on disk.
        Assert.Equal(0, server.Stop());
        await server.StartAsync();
        using var again = server.Client();
        Assert.Equal(stored + 2, again.Call("DBSIZE").Integer);
        Assert.Equal(ValueBytes, again.Call("STRLEN", "k" + (stored - 1).ToString(CultureInfo.InvariantCulture)).Integer);
    }
}
