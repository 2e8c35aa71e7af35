using System.Diagnostics;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>CLIENT and its subcommands, checked against redis-server where the reply does not name a connection.</summary>
public class ClientCommandsTests
{
    [Fact]
    public async Task Replies_and_errors_match_redis()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        string[][] commands =
        [
            ["CLIENT"], ["CLIENT", "foo"], ["CLIENT", "ID", "x"], ["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", "a", "b"],
            ["CLIENT", "SETNAME", "a b"], ["CLIENT", "SETNAME", "a\nb"], ["CLIENT", "SETNAME", "worker-1"], ["CLIENT", "GETNAME"],
            ["CLIENT", "SETNAME", ""], ["CLIENT", "GETNAME"], ["CLIENT", "INFO", "x"],
            ["CLIENT", "LIST", "TYPE", "foo"], ["CLIENT", "LIST", "ID", "a"], ["CLIENT", "LIST", "ID", "99999"], ["CLIENT", "LIST", "foo"],
            ["CLIENT", "LIST", "ID"], ["CLIENT", "LIST", "TYPE", "normal", "x"], ["CLIENT", "LIST", "TYPE", "replica"], ["CLIENT", "LIST", "TYPE", "Slave"],
            ["CLIENT", "KILL"], ["CLIENT", "KILL", "1.2.3.4:5"], ["CLIENT", "KILL", "ID", "0"], ["CLIENT", "KILL", "ID", "abc"],
            ["CLIENT", "KILL", "TYPE", "foo"], ["CLIENT", "KILL", "USER", "nobody"], ["CLIENT", "KILL", "SKIPME", "maybe"],
            ["CLIENT", "KILL", "ID", "5", "extra"], ["CLIENT", "KILL", "ID", "99999"], ["CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR", "x"],
            ["CLIENT", "KILL", "TYPE", "master"], ["CLIENT", "KILL", "a", "b", "c"], ["CLIENT", "KILL", "ID", "1", "SKIPME"],
            ["CLIENT", "PAUSE"], ["CLIENT", "PAUSE", "abc"], ["CLIENT", "PAUSE", "-1"], ["CLIENT", "PAUSE", "abc", "foo"],
            ["CLIENT", "PAUSE", "10", "write", "x"], ["CLIENT", "UNPAUSE", "x"], ["CLIENT", "UNPAUSE"],
            ["CLIENT", "REPLY"], ["CLIENT", "REPLY", "foo"], ["CLIENT", "REPLY", "on", "x"], ["CLIENT", "REPLY", "ON"],
            ["CLIENT", "NO-EVICT"], ["CLIENT", "NO-EVICT", "foo"], ["CLIENT", "NO-EVICT", "on"], ["CLIENT", "NO-EVICT", "OFF"],
            ["CLIENT", "HELP", "x"],
        ];
        using var t = talus.Client();
        using var r = redis.Client();
        foreach (var command in commands)
        {
            var expected = r.Call(command);
            var actual = t.Call(command);
            Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"{string.Join(' ', command)}\n  redis: {expected}\n  talus: {actual}");
        }
    }

    [Fact]
    public async Task Client_list_has_redis_fields_and_describes_each_connection()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var r = redis.Client();
        var redisFields = FieldNames(r.Call("CLIENT", "INFO").Text!);

        using var me = talus.Client();
        using var other = talus.Client();
        other.Call("CLIENT", "SETNAME", "other");
        other.Call("SELECT", "3");
        other.Call("CLIENT", "NO-EVICT", "on");
        other.Call("CLIENT", "NO-TOUCH", "on");
        other.Call("CLIENT", "SETINFO", "LIB-NAME", "mylib");
        var otherId = other.Call("CLIENT", "ID").Integer;
        var myId = me.Call("CLIENT", "ID").Integer;
        Assert.NotEqual(myId, otherId);

        var info = me.Call("CLIENT", "INFO");
        Assert.EndsWith("\n", info.Text);
        Assert.Equal([.. redisFields, "lib-name", "lib-ver"], FieldNames(info.Text!));
        var mine = Fields(info.Text!.TrimEnd('\n'));
        Assert.Equal(myId.ToString(System.Globalization.CultureInfo.InvariantCulture), mine["id"]);
        Assert.Equal("client|info", mine["cmd"]);
        Assert.Equal("N", mine["flags"]);
        Assert.Equal($"127.0.0.1:{talus.Port}", mine["laddr"]);

        var list = me.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Fields).ToList();
        var theirs = Assert.Single(list, l => l["id"] == otherId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("other", theirs["name"]);
        Assert.Equal("3", theirs["db"]);
        Assert.Equal("eT", theirs["flags"]);
        Assert.Equal("client|id", theirs["cmd"]);
        Assert.Equal("mylib", theirs["lib-name"]);
        Assert.Contains(list, l => l["id"] == mine["id"]);

        var byId = me.Call("CLIENT", "LIST", "ID", otherId.ToString(System.Globalization.CultureInfo.InvariantCulture), "99999").Text!;
        Assert.Single(byId.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("name=other ", byId);
        Assert.Equal(list.Count, me.Call("CLIENT", "LIST", "TYPE", "normal").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("", me.Call("CLIENT", "LIST", "TYPE", "pubsub").Text);

        other.Call("RESET");
        var afterReset = Fields(me.Call("CLIENT", "LIST", "ID", otherId.ToString(System.Globalization.CultureInfo.InvariantCulture)).Text!.TrimEnd('\n'));
        Assert.Equal("e", afterReset["flags"]); // RESET ends NO-TOUCH but not NO-EVICT, as in Redis
        Assert.Equal("", afterReset["name"]);
        Assert.Equal("mylib", afterReset["lib-name"]);
    }

    [Fact]
    public async Task Setinfo_validates_like_redis_7_2()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = talus.Client();
        Assert.Equal("ERR Unrecognized option 'lib-foo'", c.Call("CLIENT", "SETINFO", "lib-foo", "x").Text);
        Assert.Equal("ERR LIB-NAME cannot contain spaces, newlines or special characters.", c.Call("CLIENT", "SETINFO", "LIB-NAME", "a b").Text);
        Assert.Equal("ERR wrong number of arguments for 'client|setinfo' command", c.Call("CLIENT", "SETINFO", "lib-ver").Text);
        Assert.Equal("OK", c.Call("CLIENT", "SETINFO", "lib-ver", "1.2.3").Text);
        Assert.Contains(" lib-ver=1.2.3", c.Call("CLIENT", "INFO").Text);
        Assert.Equal("ERR syntax error", c.Call("CLIENT", "NO-TOUCH", "maybe").Text);
    }

    [Fact]
    public async Task Kill_closes_the_chosen_connections()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var admin = talus.Client();
        using var byAddress = talus.Client();
        using var byId = talus.Client();
        using var bystander = talus.Client();
        var address = Fields(byAddress.Call("CLIENT", "INFO").Text!.TrimEnd('\n'))["addr"];
        var id = byId.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("OK", admin.Call("CLIENT", "KILL", address).Text);
        Assert.True(byAddress.IsClosedByServer());
        await Wait.UntilAsync(() => admin.Call("CLIENT", "KILL", address).Text == "ERR No such client", TimeSpan.FromSeconds(10), "the killed client to leave the list");

        Assert.Equal(1, admin.Call("CLIENT", "KILL", "ID", id).Integer);
        Assert.True(byId.IsClosedByServer());
        Assert.Equal("PONG", bystander.Call("PING").Text);

        // The new form skips the caller unless SKIPME no; then the caller gets its reply and is closed.
        var adminId = admin.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, admin.Call("CLIENT", "KILL", "ID", adminId).Integer);
        Assert.Equal(1, admin.Call("CLIENT", "KILL", "ID", adminId, "SKIPME", "no").Integer);
        Assert.True(admin.IsClosedByServer());
        Assert.Equal("PONG", bystander.Call("PING").Text);

        using var last = talus.Client();
        await Wait.UntilAsync(() => last.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 2,
            TimeSpan.FromSeconds(10), "the killed clients to leave the list");
        var laddr = $"127.0.0.1:{talus.Port}";
        Assert.Equal(1, last.Call("CLIENT", "KILL", "LADDR", laddr, "USER", "default", "TYPE", "normal").Integer);
        Assert.True(bystander.IsClosedByServer());
    }

    [Fact]
    public async Task Reply_off_on_and_skip_drop_exactly_the_replies_redis_drops()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        string[][] pipeline =
        [
            ["CLIENT", "REPLY", "OFF"], ["SET", "a", "1"], ["GET", "a"], ["NOSUCH"], ["CLIENT", "REPLY", "ON"], ["GET", "a"],
            ["CLIENT", "REPLY", "SKIP"], ["MGET", "a", "b", "a"], ["ECHO", "after-skip"],
            ["CLIENT", "REPLY", "SKIP"], ["GET", "wrong", "arity"], ["ECHO", "after-error"],
            ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "SKIP"], ["ECHO", "x"], ["ECHO", "y"],
            ["CLIENT", "REPLY", "OFF"], ["CLIENT", "REPLY", "SKIP"], ["PING"], ["CLIENT", "REPLY", "ON"], ["PING"],
            ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["ECHO", "z"],
            // Grouped writes, whose replies are held until their group is written.
            ["CLIENT", "REPLY", "SKIP"], ["SET", "s1", "1"], ["SET", "s2", "2"], ["INCR", "n"], ["INCR", "n"],
            ["CLIENT", "REPLY", "SKIP"], ["INCR", "n"], ["SET", "s3", "3"], ["INCR", "n"],
            ["CLIENT", "REPLY", "OFF"], ["SET", "s4", "4"], ["INCR", "n"], ["CLIENT", "REPLY", "ON"], ["GET", "n"],
            ["HELLO", "3"], ["CLIENT", "REPLY", "SKIP"], ["CONFIG", "GET", "maxclients"], ["ECHO", "resp3"],
            ["CLIENT", "REPLY", "OFF"], ["RESET"], ["PING"],
        ];
        byte[] Run(ServerProcess server)
        {
            using var c = server.Client();
            foreach (var command in pipeline)
            {
                c.Send(command);
            }
            c.Send("ECHO", "end");
            var replies = new List<byte>();
            while (true)
            {
                var reply = c.Read();
                if (reply.Text == "end")
                {
                    return [.. replies];
                }
                if (reply.Type != '%')
                {
                    replies.AddRange(reply.Raw); // HELLO's map names the connection id; everything else must match
                }
            }
        }
        Assert.Equal(Encoding.UTF8.GetString(Run(redis)), Encoding.UTF8.GetString(Run(talus)));
    }

    [Fact]
    public async Task Pause_write_holds_writes_until_unpause_while_reads_go_on()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var admin = talus.Client();
        using var writer = talus.Client();
        using var reader = talus.Client();
        var writerId = writer.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "100000", "WRITE").Text);

        writer.Send("SET", "k", "v");
        writer.Send("GET", "k"); // queued behind the held write: replies stay in order
        await Wait.UntilAsync(() => Fields(admin.Call("CLIENT", "LIST", "ID", writerId).Text!.TrimEnd('\n'))["flags"].Contains('b'),
            TimeSpan.FromSeconds(10), "the writer to be held by the pause");
        Assert.True(reader.Call("GET", "k").IsNull);
        Assert.Equal("PONG", reader.Call("PING").Text);

        Assert.Equal("OK", admin.Call("CLIENT", "UNPAUSE").Text);
        Assert.Equal("OK", writer.Read().Text);
        Assert.Equal("v", writer.Read().Text);
        Assert.Equal("v", reader.Call("GET", "k").Text);
    }

    [Fact]
    public async Task A_shutdown_never_runs_a_write_the_pause_held()
    {
        // As in Redis, the held command is not run: the client sees its connection close, unanswered. Run at
        // shutdown, it would be acknowledged while the replicas are let go, and be missing after a failover.
        await using var talus = await TalusProcess.LaunchAsync();
        using var admin = talus.Client();
        using var writer = talus.Client();
        var writerId = writer.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "100000", "WRITE").Text);
        writer.Send("SET", "held", "v");
        await Wait.UntilAsync(() => Fields(admin.Call("CLIENT", "LIST", "ID", writerId).Text!.TrimEnd('\n'))["flags"].Contains('b'),
            TimeSpan.FromSeconds(10), "the writer to be held by the pause");
        Assert.Equal(0, talus.Stop());
        Assert.True(writer.IsClosedByServer());
        await talus.StartAsync();
        using var check = talus.Client();
        Assert.True(check.Call("GET", "held").IsNull);
    }

    [Fact]
    public async Task Pause_write_also_holds_publish_and_pfcount_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var admin = talus.Client();
        using var publisher = talus.Client();
        using var counter = talus.Client();
        var publisherId = publisher.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var counterId = counter.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1, admin.Call("PFADD", "hll", "a").Integer);
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "100000", "WRITE").Text);

        publisher.Send("PUBLISH", "ch", "hello");
        counter.Send("PFCOUNT", "hll");
        foreach (var id in new[] { publisherId, counterId })
        {
            await Wait.UntilAsync(() => Fields(admin.Call("CLIENT", "LIST", "ID", id).Text!.TrimEnd('\n'))["flags"].Contains('b'),
                TimeSpan.FromSeconds(10), $"client {id} to be held by the pause");
        }
        Assert.Equal("PONG", admin.Call("PING").Text);
        Assert.Equal("OK", admin.Call("CLIENT", "UNPAUSE").Text);
        Assert.Equal(0, publisher.Read().Integer);
        Assert.Equal(1, counter.Read().Integer);
    }

    [Fact]
    public async Task Pause_all_holds_reads_until_the_timeout()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var admin = talus.Client();
        using var reader = talus.Client();
        var watch = Stopwatch.StartNew();
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "400").Text);
        Assert.Equal("PONG", reader.Call("PING").Text);
        Assert.True(watch.ElapsedMilliseconds >= 350, $"PING answered after {watch.ElapsedMilliseconds} ms of a 400 ms pause");
        watch.Restart();
        Assert.Equal("PONG", reader.Call("PING").Text);
        Assert.True(watch.ElapsedMilliseconds < 350, "the pause outlived its timeout");
    }

    private static List<string> FieldNames(string line) =>
        line.TrimEnd('\n').Split(' ').Select(f => f[..f.IndexOf('=')]).ToList();

    private static Dictionary<string, string> Fields(string line) =>
        line.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
