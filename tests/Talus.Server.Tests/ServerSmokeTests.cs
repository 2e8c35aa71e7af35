using StackExchange.Redis;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>End-to-end checks against a real talus process.</summary>
public class ServerSmokeTests
{
    [Fact]
    public async Task StackExchange_Redis_can_set_and_get()
    {
        await using var server = await TalusProcess.LaunchAsync();
        var db = server.Db();
        Assert.True(await db.StringSetAsync("greeting", "hello"));
        Assert.Equal("hello", (string?)await db.StringGetAsync("greeting"));
        Assert.Equal(1, await db.StringIncrementAsync("counter"));
    }

    [Fact]
    public async Task Errors_use_redis_texts()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using var client = server.Client();
        Assert.Equal("ERR wrong number of arguments for 'get' command", client.Call("GET").Text);
        Assert.Equal("ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ", client.Call("NOSUCH", "a", "b").Text);
        client.Call("SET", "s", "x");
        Assert.Equal("ERR value is not an integer or out of range", client.Call("INCR", "s").Text);
    }

    [Fact]
    public async Task Incr_from_50_clients_loses_no_increment()
    {
        await using var server = await TalusProcess.LaunchAsync();
        const int clients = 50, perClient = 200;
        var tasks = Enumerable.Range(0, clients).Select(_ => Task.Run(() =>
        {
            using var c = server.Client();
            for (var i = 0; i < perClient; i++)
            {
                c.Send("INCR", "counter");
            }
            for (var i = 0; i < perClient; i++)
            {
                Assert.False(c.Read().IsError);
            }
        }));
        await Task.WhenAll(tasks);
        using var check = server.Client();
        Assert.Equal((clients * perClient).ToString(System.Globalization.CultureInfo.InvariantCulture), check.Call("GET", "counter").Text);
    }

    [Fact]
    public async Task Data_survives_a_clean_restart()
    {
        await using var server = await TalusProcess.LaunchAsync();
        using (var c = server.Client())
        {
            c.Call("SET", "persisted", "yes");
        }
        Assert.Equal(0, server.Stop());
        await server.StartAsync();
        using var after = server.Client();
        Assert.Equal("yes", after.Call("GET", "persisted").Text);
    }
}
