using System.Collections.Concurrent;
using System.Text;
using StackExchange.Redis;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>Pub/sub reply and message frames against redis-server, and a real client (StackExchange.Redis) on top.</summary>
public class PubSubTests
{
    /// <summary>
    /// One step of the script: who sends what, and how many frames each side then reads (replies, confirmations
    /// and messages). The counts are the script's framing, taken from what the commands ask for.
    /// </summary>
    private sealed record Step(char Who, string[] Args, int SubscriberFrames, int PublisherFrames);

    private static Step S(params string[] args) => new('s', args, Math.Max(1, ConfirmationCount(args)), 0);

    private static Step P(params string[] args) => new('p', args, 0, 1);

    /// <summary>A publish that reaches the subscriber <paramref name="deliveries"/> times.</summary>
    private static Step Pub(int deliveries, string channel, string message) => new('p', ["PUBLISH", channel, message], deliveries, 1);

    private static int ConfirmationCount(string[] args) =>
        args[0].ToUpperInvariant() is "SUBSCRIBE" or "PSUBSCRIBE" or "SSUBSCRIBE" or "UNSUBSCRIBE" or "PUNSUBSCRIBE" or "SUNSUBSCRIBE"
            ? Math.Max(1, args.Length - 1)
            : 1;

    private static readonly Step[] Script =
    [
        S("SUBSCRIBE", "news", "sport", "news"),
        S("GET", "x"), S("SET", "x", "1"), S("PING"), S("PING", "hello"), S("CLIENT", "GETNAME"), S("NOSUCH", "a"), S("GET"),
        S("PSUBSCRIBE", "n*", "s?ort", "x[yz]"),
        Pub(2, "news", "first"), Pub(2, "sport", "goal"), Pub(0, "weather", "rain"), Pub(1, "xy", "bin\r\nary"),
        P("PUBSUB", "CHANNELS", "n*"), P("PUBSUB", "CHANNELS", "zzz*"), P("PUBSUB", "NUMSUB", "news", "sport", "none"),
        P("PUBSUB", "NUMSUB"), P("PUBSUB", "NUMPAT"), P("PUBSUB"), P("PUBSUB", "NOSUCH"), P("PUBSUB", "NUMPAT", "x"),
        P("PUBSUB", "HELP"), P("PUBLISH", "a"), P("SUBSCRIBE"),
        S("UNSUBSCRIBE", "news", "never"), Pub(1, "news", "pattern only"),
        S("PUNSUBSCRIBE", "x[yz]"), S("PUNSUBSCRIBE", "s?ort"), S("UNSUBSCRIBE"),
        S("PUNSUBSCRIBE"), S("UNSUBSCRIBE"), S("PUNSUBSCRIBE"), S("PING"), S("GET", "x"),
        S("SSUBSCRIBE", "shard"), new('p', ["SPUBLISH", "shard", "s-msg"], 1, 1), S("PING"), P("PUBLISH", "shard", "not sharded"),
        P("PUBSUB", "SHARDCHANNELS"), P("PUBSUB", "SHARDNUMSUB", "shard"), S("SUNSUBSCRIBE"), S("SUNSUBSCRIBE"),
        S("SUBSCRIBE", "last"), S("RESET"), P("PUBSUB", "NUMSUB", "last"), Pub(0, "last", "gone"),
        S("PING"), P("PING"), // nothing unexpected is left in either stream
    ];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Replies_and_message_frames_match_redis_byte_for_byte(int protocol)
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var ts = talus.Client();
        using var tp = talus.Client();
        using var rs = redis.Client();
        using var rp = redis.Client();
        if (protocol == 3)
        {
            Assert.Equal(rs.Call("HELLO", "3").Items!.Count, ts.Call("HELLO", "3").Items!.Count);
        }
        foreach (var step in Script)
        {
            var what = $"RESP{protocol} {step.Who}: {string.Join(' ', step.Args)}";
            var argv = step.Args.Select(Encoding.UTF8.GetBytes).ToArray();
            (step.Who == 's' ? rs : rp).Send(argv);
            (step.Who == 's' ? ts : tp).Send(argv);
            Compare(what, "publisher", rp, tp, step.PublisherFrames);
            Compare(what, "subscriber", rs, ts, step.SubscriberFrames);
        }
    }

    [Fact]
    public async Task StackExchange_subscriber_receives_what_another_connection_publishes()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        var subscriber = talus.Connection.GetSubscriber();
        var received = new ConcurrentQueue<string>();
        var patternHits = new ConcurrentQueue<string>();
        // A ChannelMessageQueue hands messages over in order; plain handlers may run concurrently.
        var queue = await subscriber.SubscribeAsync(RedisChannel.Literal("orders"));
        queue.OnMessage(message => received.Enqueue(message.Message!));
        await subscriber.SubscribeAsync(RedisChannel.Pattern("ord*"), (channel, message) => patternHits.Enqueue($"{channel}:{message}"));

        await using var publisherMux = await ConnectionMultiplexer.ConnectAsync(talus.Endpoint);
        var publisher = publisherMux.GetSubscriber();
        long reached = 0;
        for (var i = 0; i < 100; i++)
        {
            reached += await publisher.PublishAsync(RedisChannel.Literal("orders"), $"order-{i}");
        }
        Assert.Equal(200, reached); // the literal and the pattern subscription, for each message
        await Wait.UntilAsync(() => received.Count == 100 && patternHits.Count == 100, TimeSpan.FromSeconds(20), "100 messages on both subscriptions");
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"order-{i}"), received);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"orders:order-{i}").Order(), patternHits.Order());

        var server = talus.Connection.GetServer(talus.Endpoint);
        Assert.Contains("orders", (await server.SubscriptionChannelsAsync(RedisChannel.Pattern("ord*"))).Select(c => c.ToString()));
        await queue.UnsubscribeAsync();
        Assert.Equal(1, await publisher.PublishAsync(RedisChannel.Literal("orders"), "after"));
        Assert.Empty(await server.SubscriptionChannelsAsync(RedisChannel.Pattern("ord*")));
        Assert.Equal(1, await server.SubscriptionPatternCountAsync());
    }

    /// <summary>PUBLISH is not a write: a replica accepts it (Sentinel publishes its hello messages there).</summary>
    [Fact]
    public async Task Publish_works_on_a_replica()
    {
        await using var master = await TalusProcess.LaunchAsync();
        await using var replica = await TalusProcess.LaunchAsync("--replicaof", "127.0.0.1", master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var subscriber = replica.Client();
        using var client = replica.Client();
        subscriber.Call("SUBSCRIBE", "__sentinel__:hello");
        Assert.True(client.Call("SET", "k", "v").IsError, "the replica accepted a write");
        Assert.Equal(1, client.Call("PUBLISH", "__sentinel__:hello", "hi").Integer);
        var message = subscriber.Read();
        Assert.Equal(["message", "__sentinel__:hello", "hi"], message.Items!.Select(i => i.Text));
    }

    private static void Compare(string what, string side, RespClient redis, RespClient talus, int frames)
    {
        for (var i = 0; i < frames; i++)
        {
            var expected = redis.Read();
            var actual = talus.Read();
            Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"{what} ({side} frame {i + 1})\n  redis: {expected}\n  talus: {actual}");
        }
    }
}
