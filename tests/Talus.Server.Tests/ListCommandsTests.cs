using System.Diagnostics;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>List commands end to end, above all the blocking ones (which the differential test cannot cover).</summary>
public class ListCommandsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static string Raw(RespReply reply) => Encoding.UTF8.GetString(reply.Raw);

    private static Task WaitBlockedAsync(TalusProcess server, int count) =>
        Wait.UntilAsync(() => server.Info("clients")["blocked_clients"] == count.ToString(System.Globalization.CultureInfo.InvariantCulture), Patience, $"{count} blocked clients");

    [Fact]
    public async Task Pop_with_count_on_a_missing_key_is_a_null_array_in_both_protocols()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        Assert.Equal("*-1\r\n", Raw(c.Call("LPOP", "missing", "2")));
        Assert.Equal("$-1\r\n", Raw(c.Call("RPOP", "missing")));
        c.Call("RPUSH", "l", "a", "b", "c");
        Assert.Equal("*0\r\n", Raw(c.Call("LPOP", "l", "0")));
        Assert.Equal("*2\r\n$1\r\nc\r\n$1\r\nb\r\n", Raw(c.Call("RPOP", "l", "2")));
        c.Call("HELLO", "3");
        Assert.Equal("_\r\n", Raw(c.Call("LPOP", "missing", "2")));
        Assert.Equal("_\r\n", Raw(c.Call("LPOP", "missing")));
    }

    [Fact]
    public async Task Lmpop_and_blmpop_reply_as_redis_does_when_they_need_not_wait()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        string script = """
            LMPOP 2 a b LEFT|RPUSH b 1 2 3 4 5|LMPOP 2 a b LEFT|LMPOP 2 a b RIGHT COUNT 3|LMPOP 2 a b RIGHT COUNT 3|LMPOP 0 a LEFT
            LMPOP -1 a LEFT|LMPOP 1 a|LMPOP 1 a MIDDLE|LMPOP 1 a LEFT COUNT 0|LMPOP 1 a LEFT COUNT x|LMPOP 1 a LEFT COUNT 1 COUNT 2
            LMPOP 1 a LEFT FOO|LMPOP 9223372036854775807 a LEFT|SET s x|LMPOP 2 a s LEFT|RPUSH a z|LMPOP 2 a s LEFT
            BLMPOP 0.05 1 nothing LEFT|BLMPOP 0 2 a s LEFT|BLMPOP -1 1 a LEFT|BLMPOP soon 1 a LEFT|BLMPOP 0 0 a LEFT
            BLMPOP soon 1 a MIDDLE|RPUSH c 1 2 3|BLMPOP 0 1 c RIGHT COUNT 5|MULTI|BLMPOP 0 1 none LEFT|EXEC|HELLO 3
            BLMPOP 0.05 1 none LEFT|LMPOP 1 none LEFT|RPUSH c x|BLMPOP 0 1 c LEFT COUNT 2
            """;
        Assert.Equal(34, Differential.RunScript(redis, talus, script));
    }

    [Fact]
    public async Task Blpop_on_a_list_with_elements_answers_at_once()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        c.Call("RPUSH", "b", "1", "2");
        c.Call("SET", "s", "x");
        Assert.Equal("*2\r\n$1\r\nb\r\n$1\r\n1\r\n", Raw(c.Call("BLPOP", "missing", "b", "s", "0")));
        Assert.StartsWith("-WRONGTYPE", Raw(c.Call("BLPOP", "missing", "s", "b", "0")));
        Assert.Equal("-ERR timeout is negative\r\n", Raw(c.Call("BLPOP", "b", "-1")));
        Assert.Equal("-ERR timeout is not a float or out of range\r\n", Raw(c.Call("BLPOP", "b", "soon")));
    }

    [Fact]
    public async Task A_client_blocked_in_blpop_is_woken_by_a_push_from_another_client()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var blocked = server.Client();
        using var pusher = server.Client();
        blocked.Send("BLPOP", "queue", "0");
        await WaitBlockedAsync(server, 1);
        Assert.Equal(1, pusher.Call("LPUSH", "queue", "job").Integer);
        Assert.Equal("*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n", Raw(blocked.Read()));
        Assert.Equal(0, pusher.Call("EXISTS", "queue").Integer);
        await WaitBlockedAsync(server, 0);

        // BLMPOP waits in the same queues and pops up to its count; a sorted set on its key does not serve it.
        blocked.Send("BLMPOP", "0", "2", "q1", "q2", "RIGHT", "COUNT", "2");
        await WaitBlockedAsync(server, 1);
        pusher.Call("ZADD", "q1", "1", "m");
        pusher.Call("RPUSH", "q2", "a", "b", "c");
        Assert.Equal("*2\r\n$2\r\nq2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n", Raw(blocked.Read()));
        Assert.Equal(1, pusher.Call("LLEN", "q2").Integer);
    }

    [Fact]
    public async Task Blocked_clients_are_served_in_the_order_they_blocked()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var first = server.Client();
        using var second = server.Client();
        using var third = server.Client();
        using var pusher = server.Client();
        first.Send("BRPOP", "q", "0");
        await WaitBlockedAsync(server, 1);
        second.Send("BRPOP", "q", "0");
        await WaitBlockedAsync(server, 2);
        third.Send("BRPOP", "q", "0");
        await WaitBlockedAsync(server, 3);

        // One push of two elements serves the two longest-waiting clients, in order.
        pusher.Call("RPUSH", "q", "x", "y");
        Assert.Equal("*2\r\n$1\r\nq\r\n$1\r\ny\r\n", Raw(first.Read()));
        Assert.Equal("*2\r\n$1\r\nq\r\n$1\r\nx\r\n", Raw(second.Read()));
        await WaitBlockedAsync(server, 1);
        pusher.Call("RPUSH", "q", "z");
        Assert.Equal("*2\r\n$1\r\nq\r\n$1\r\nz\r\n", Raw(third.Read()));
        Assert.Equal(0, pusher.Call("LLEN", "q").Integer);
    }

    [Fact]
    public async Task Blpop_times_out_with_a_null_array_after_about_the_timeout()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var c = server.Client();
        var watch = Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", Raw(c.Call("BLPOP", "nothing", "0.5")));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(3));
        c.Call("HELLO", "3");
        watch.Restart();
        Assert.Equal("_\r\n", Raw(c.Call("BRPOPLPUSH", "nothing", "dst", "0.2")));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(3));
        // The timed-out client no longer waits: a later push stays in the list.
        c.Call("RPUSH", "nothing", "kept");
        Assert.Equal(1, c.Call("LLEN", "nothing").Integer);
    }

    [Fact]
    public async Task Blmove_waits_for_the_source_and_pushes_to_the_destination()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var blocked = server.Client();
        using var pusher = server.Client();
        pusher.Call("RPUSH", "dst", "old");
        blocked.Send("BLMOVE", "src", "dst", "LEFT", "LEFT", "0");
        await WaitBlockedAsync(server, 1);
        pusher.Call("RPUSH", "src", "a", "b");
        Assert.Equal("$1\r\na\r\n", Raw(blocked.Read()));
        Assert.Equal("*2\r\n$1\r\na\r\n$3\r\nold\r\n", Raw(pusher.Call("LRANGE", "dst", "0", "-1")));
        Assert.Equal("*1\r\n$1\r\nb\r\n", Raw(pusher.Call("LRANGE", "src", "0", "-1")));
    }

    [Fact]
    public async Task Blmove_feeds_a_client_blocked_on_its_destination()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var mover = server.Client();
        using var consumer = server.Client();
        using var pusher = server.Client();
        consumer.Send("BLPOP", "stage2", "0");
        await WaitBlockedAsync(server, 1);
        mover.Send("BLMOVE", "stage1", "stage2", "RIGHT", "LEFT", "0");
        await WaitBlockedAsync(server, 2);
        pusher.Call("LPUSH", "stage1", "item");
        Assert.Equal("$4\r\nitem\r\n", Raw(mover.Read()));
        Assert.Equal("*2\r\n$6\r\nstage2\r\n$4\r\nitem\r\n", Raw(consumer.Read()));
        Assert.Equal(0, pusher.Call("EXISTS", "stage1", "stage2").Integer);
    }

    [Fact]
    public async Task A_client_blocked_on_several_keys_is_served_by_the_first_that_gets_data()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var blocked = server.Client();
        using var pusher = server.Client();
        blocked.Send("BLPOP", "k1", "k2", "k3", "0");
        await WaitBlockedAsync(server, 1);
        pusher.Call("RPUSH", "k3", "v3");
        Assert.Equal("*2\r\n$2\r\nk3\r\n$2\r\nv3\r\n", Raw(blocked.Read()));
        pusher.Call("RPUSH", "k2", "later");
        Assert.Equal(1, pusher.Call("LLEN", "k2").Integer);
    }

    [Fact]
    public async Task Commands_pipelined_after_a_blocking_one_run_once_it_is_served()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var blocked = server.Client();
        using var pusher = server.Client();
        blocked.SendRaw(RespClient.Encode(new[] { "BLPOP", "p", "0" }.Select(Encoding.UTF8.GetBytes).ToArray())
            .Concat(RespClient.Encode(new[] { "LLEN", "p" }.Select(Encoding.UTF8.GetBytes).ToArray())).ToArray());
        await WaitBlockedAsync(server, 1);
        pusher.Call("RPUSH", "p", "1", "2");
        Assert.Equal("*2\r\n$1\r\np\r\n$1\r\n1\r\n", Raw(blocked.Read()));
        Assert.Equal(":1\r\n", Raw(blocked.Read()));
    }

    [Fact]
    public async Task A_client_that_disconnects_while_blocked_stops_waiting_and_takes_nothing()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var pusher = server.Client();
        using (var gone = server.Client())
        {
            gone.Send("BLPOP", "lost", "0");
            await WaitBlockedAsync(server, 1);
        }
        await WaitBlockedAsync(server, 0);
        pusher.Call("RPUSH", "lost", "precious");
        Assert.Equal("*1\r\n$8\r\nprecious\r\n", Raw(pusher.Call("LRANGE", "lost", "0", "-1")));
    }

    [Fact]
    public async Task A_rename_onto_a_waited_key_serves_the_blocked_client()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var blocked = server.Client();
        using var other = server.Client();
        other.Call("RPUSH", "staging", "r");
        blocked.Send("BRPOP", "target", "0");
        await WaitBlockedAsync(server, 1);
        other.Call("RENAME", "staging", "target");
        Assert.Equal("*2\r\n$6\r\ntarget\r\n$1\r\nr\r\n", Raw(blocked.Read()));
    }

    [Fact]
    public async Task Server_shutdown_does_not_wait_for_blocked_clients()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var blocked = server.Client();
        blocked.Send("BLPOP", "forever", "0");
        await WaitBlockedAsync(server, 1);
        var watch = Stopwatch.StartNew();
        Assert.Equal(0, server.Stop(TimeSpan.FromSeconds(20)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"shutdown took {watch.Elapsed}");
        Assert.True(blocked.IsClosedByServer());
    }

    [Fact]
    public async Task Many_producers_and_blocked_consumers_lose_and_duplicate_nothing()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int consumers = 8, items = 2000;
        var received = new System.Collections.Concurrent.ConcurrentBag<string>();
        // Consumers and producers block on their sockets, so each gets a thread of its own: on two busy cores
        // the thread pool would add threads for them only slowly, and a producer could start seconds late.
        var consumerTasks = Enumerable.Range(0, consumers).Select(_ => Task.Factory.StartNew(() =>
        {
            using var c = server.Client();
            while (true)
            {
                var reply = c.Call("BLPOP", "work", "done", "20");
                Assert.False(reply.IsNull, "a consumer waited 20 s without work");
                if (reply.Items![0].Text == "done")
                {
                    return;
                }
                received.Add(reply.Items[1].Text!);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Factory.StartNew(() =>
        {
            using var c = server.Client();
            for (var i = p; i < items; i += 4)
            {
                c.Call("RPUSH", "work", "item" + i);
            }
        }, TaskCreationOptions.LongRunning)));
        await Wait.UntilAsync(() => received.Count == items, TimeSpan.FromSeconds(30), "every item consumed");
        using (var c = server.Client())
        {
            c.Call(new[] { "RPUSH", "done" }.Concat(Enumerable.Repeat("stop", consumers)).ToArray());
        }
        await Task.WhenAll(consumerTasks).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, items).Select(i => "item" + i).Order(), received.Order());
    }
}
