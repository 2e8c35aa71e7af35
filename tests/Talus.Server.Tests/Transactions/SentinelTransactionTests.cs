using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests.Transactions;

/// <summary>
/// The two transactions Redis Sentinel sends during a failover, run against a Talus master/replica pair:
/// promotion (<c>MULTI; SLAVEOF NO ONE; CONFIG REWRITE; CLIENT KILL TYPE normal; EXEC</c>) and repointing the old
/// master (<c>MULTI; SLAVEOF host port; ...; EXEC</c>). SLAVEOF is asynchronous in Talus, so these exercise EXEC's
/// deferred path.
/// </summary>
public class SentinelTransactionTests
{
    [Fact]
    public async Task Sentinel_failover_transactions_promote_and_repoint()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await TalusProcess.LaunchAsync();
        using (var c = replica.Client())
        {
            Assert.Equal("OK", c.Call("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture)).Text);
        }
        master.Db().StringSet("before", "1");
        await ReplicationWait.WaitForSyncAsync(master, [replica]);

        using (var bystander = replica.Client())
        using (var sentinel = replica.Client())
        {
            Assert.Equal("PONG", bystander.Call("PING").Text);
            var reply = RunSentinelTransaction(sentinel, ["SLAVEOF", "NO", "ONE"]);
            Assert.Equal("+OK\r\n", System.Text.Encoding.ASCII.GetString(reply.Items![0].Raw));
            Assert.Equal(1, reply.Items[2].Integer); // the bystander, not the sentinel's own connection
            Assert.Equal("PONG", sentinel.Call("PING").Text);
            await Wait.UntilAsync(bystander.IsClosedByServer, TimeSpan.FromSeconds(10), "CLIENT KILL TYPE normal to close the other client");
        }
        Assert.Equal("master", replica.Info("replication")["role"]);
        replica.Db().StringSet("after", "2");

        using (var sentinel = master.Client())
        {
            var reply = RunSentinelTransaction(sentinel, ["SLAVEOF", "127.0.0.1", replica.Port.ToString(CultureInfo.InvariantCulture)]);
            Assert.Equal("+OK\r\n", System.Text.Encoding.ASCII.GetString(reply.Items![0].Raw));
        }
        await ReplicationWait.WaitForSyncAsync(replica, [master]);
        Assert.Equal("slave", master.Info("replication")["role"]);
        // A new connection: the transaction's CLIENT KILL TYPE normal closed the cached ones, as in Redis.
        using var check = master.Client();
        Assert.Equal("2", check.Call("GET", "after").Text);
        Assert.Equal("1", check.Call("GET", "before").Text);
    }

    /// <summary>Sends Sentinel's transaction around <paramref name="slaveOf"/> and returns EXEC's reply.</summary>
    private static RespReply RunSentinelTransaction(RespClient c, string[] slaveOf)
    {
        Assert.Equal("OK", c.Call("MULTI").Text);
        Assert.Equal("QUEUED", c.Call(slaveOf).Text);
        Assert.Equal("QUEUED", c.Call("CONFIG", "REWRITE").Text);
        Assert.Equal("QUEUED", c.Call("CLIENT", "KILL", "TYPE", "normal").Text);
        var reply = c.Call("EXEC");
        Assert.True(reply.Items is { Count: 3 }, "EXEC reply: " + reply);
        // CONFIG REWRITE fails without a config file, as on Redis; Sentinel ignores its reply.
        Assert.True(reply.Items[1].Type is '+' or '-', "CONFIG REWRITE reply: " + reply.Items[1]);
        Assert.Equal(':', reply.Items[2].Type);
        return reply;
    }
}
