using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests.Transactions;

/// <summary>EXEC is atomic for other clients, and its writes are one batch: one binlog entry, applied whole by a replica.</summary>
public class TransactionAtomicityTests
{
    [Fact]
    public async Task Other_clients_never_see_half_a_transaction()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        const int Writers = 20, PerWriter = 100;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(() =>
        {
            using var c = talus.Client();
            for (var i = 0; i < PerWriter && !stop.IsCancellationRequested; i++)
            {
                c.Send("MULTI");
                c.Send("INCR", "a");
                c.Send("INCR", "b");
                c.Send("EXEC");
                for (var r = 0; r < 3; r++)
                {
                    c.Read();
                }
                var exec = c.Read();
                Assert.True(exec.Items is { Count: 2 }, "EXEC reply: " + exec);
            }
        })).ToArray();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            using var c = talus.Client();
            var reads = 0;
            do
            {
                var reply = c.Call("MGET", "a", "b");
                Assert.Equal(reply.Items![0].Text, reply.Items[1].Text);
                reads++;
            }
            while (!writers.All(w => w.IsCompleted) && !stop.IsCancellationRequested && reads < 100_000);
            return reads;
        })).ToArray();
        await Task.WhenAll(writers);
        var totalReads = (await Task.WhenAll(readers)).Sum();
        Assert.True(totalReads > 0);
        using var check = talus.Client();
        Assert.Equal((Writers * PerWriter).ToString(CultureInfo.InvariantCulture), check.Call("GET", "a").Text);
        Assert.Equal((Writers * PerWriter).ToString(CultureInfo.InvariantCulture), check.Call("GET", "b").Text);
    }

    [Fact]
    public async Task A_large_exec_is_one_binlog_batch_and_reaches_a_replica_whole()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await TalusProcess.LaunchAsync();
        using (var c = replica.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture)).Text);
        }
        await ReplicationWait.WaitForSyncAsync(master, [replica]);
        const int Keys = 1000;
        var before = ReplicationWait.MasterOffset(master);

        // Watch the replica while it applies: it must hold none of the keys or all of them, never a part.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new HashSet<long>();
        var watcher = Task.Run(() =>
        {
            using var c = replica.Client();
            while (!stop.IsCancellationRequested)
            {
                var size = c.Call("DBSIZE").Integer;
                lock (seen)
                {
                    seen.Add(size);
                }
                if (size == Keys)
                {
                    return;
                }
            }
        });
        using (var c = master.Client())
        {
            c.Send("MULTI");
            for (var i = 0; i < Keys; i++)
            {
                c.Send("SET", "k" + i.ToString(CultureInfo.InvariantCulture), "v");
            }
            c.Send("EXEC");
            for (var i = 0; i <= Keys; i++)
            {
                c.Read();
            }
            var exec = c.Read();
            Assert.Equal(Keys, exec.Items!.Count);

            // The batch starts right after the previous offset; an offset inside it is not a batch start.
            var dump = c.Call("DEBUG", "BINLOG", (before + 1).ToString(CultureInfo.InvariantCulture), Keys.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(Keys, dump.Items!.Count);
            var inside = c.Call("DEBUG", "BINLOG", (before + 2).ToString(CultureInfo.InvariantCulture));
            Assert.True(inside.IsError, "offset inside the EXEC batch answered: " + inside);
            Assert.Equal(before + Keys, ReplicationWait.MasterOffset(master));
        }
        await watcher.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(seen.All(s => s is 0 or Keys), "replica DBSIZE values seen: " + string.Join(",", seen));
    }
}
