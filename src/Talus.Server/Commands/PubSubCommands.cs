using Talus.Server.PubSub;

namespace Talus.Server.Commands;

/// <summary>
/// Pub/sub: PUBLISH SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE, the sharded SPUBLISH SSUBSCRIBE SUNSUBSCRIBE
/// (one shard: the whole server), and PUBSUB CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB HELP.
/// Confirmations are written as the command's reply, in RESP3 with the push type, as Redis does; messages
/// reach subscribers through their <see cref="Host.ClientOutbox"/>. PUBLISH is not a write: it runs on
/// replicas too (Sentinel publishes its hello messages there).
/// </summary>
public static class PubSubCommands
{
    private static void Publish(CommandContext ctx) => PublishOn(ctx, ctx.Server.PubSub);

    private static void SPublish(CommandContext ctx) => PublishOn(ctx, ctx.Server.ShardPubSub);

    private static void PublishOn(CommandContext ctx, PubSubHub hub)
    {
        var receivers = hub.Publish(ctx.Args[1], ctx.Args[2]);
        // A client that publishes to its own channel gets the message before the reply, as from Redis.
        if (ctx.Session.Outbox is { HasFrames: true } own)
        {
            own.DrainTo(ctx.Writer);
        }
        ctx.Writer.WriteInteger(receivers);
    }

    private static void Subscribe(CommandContext ctx)
    {
        var state = ClientSubscriptions.Of(ctx);
        for (var i = 1; i < ctx.Argc; i++)
        {
            var channel = ctx.Args[i].ToArray();
            state.Subscribe(channel);
            Confirm(ctx, "subscribe", channel, state.Count);
        }
    }

    private static void PSubscribe(CommandContext ctx)
    {
        var state = ClientSubscriptions.Of(ctx);
        for (var i = 1; i < ctx.Argc; i++)
        {
            var pattern = ctx.Args[i].ToArray();
            state.PSubscribe(pattern);
            Confirm(ctx, "psubscribe", pattern, state.Count);
        }
    }

    private static void SSubscribe(CommandContext ctx)
    {
        var state = ClientSubscriptions.Of(ctx);
        for (var i = 1; i < ctx.Argc; i++)
        {
            var channel = ctx.Args[i].ToArray();
            state.SSubscribe(channel);
            Confirm(ctx, "ssubscribe", channel, state.ShardChannels.Count);
        }
    }

    private static void Unsubscribe(CommandContext ctx)
    {
        var state = ClientSubscriptions.Of(ctx);
        var names = ctx.Argc > 1 ? Arguments(ctx) : [.. state.Channels.Values];
        foreach (var channel in names)
        {
            state.Unsubscribe(channel);
            Confirm(ctx, "unsubscribe", channel, state.Count);
        }
        if (names.Count == 0)
        {
            Confirm(ctx, "unsubscribe", null, state.Count);
        }
    }

    private static void PUnsubscribe(CommandContext ctx)
    {
        var state = ClientSubscriptions.Of(ctx);
        var names = ctx.Argc > 1 ? Arguments(ctx) : [.. state.Patterns.Values];
        foreach (var pattern in names)
        {
            state.PUnsubscribe(pattern);
            Confirm(ctx, "punsubscribe", pattern, state.Count);
        }
        if (names.Count == 0)
        {
            Confirm(ctx, "punsubscribe", null, state.Count);
        }
    }

    private static void SUnsubscribe(CommandContext ctx)
    {
        var state = ClientSubscriptions.Of(ctx);
        var names = ctx.Argc > 1 ? Arguments(ctx) : [.. state.ShardChannels.Values];
        foreach (var channel in names)
        {
            state.SUnsubscribe(channel);
            Confirm(ctx, "sunsubscribe", channel, state.ShardChannels.Count);
        }
        if (names.Count == 0)
        {
            Confirm(ctx, "sunsubscribe", null, state.ShardChannels.Count);
        }
    }

    private static List<byte[]> Arguments(CommandContext ctx)
    {
        var names = new List<byte[]>(ctx.Argc - 1);
        for (var i = 1; i < ctx.Argc; i++)
        {
            names.Add(ctx.Args[i].ToArray());
        }
        return names;
    }

    /// <summary>[kind, name (null when there was nothing to unsubscribe), subscriptions left].</summary>
    private static void Confirm(CommandContext ctx, string kind, byte[]? name, int count)
    {
        var w = ctx.Writer;
        w.WritePushHeader(3);
        w.WriteBulk(kind);
        if (name is null)
        {
            w.WriteNull();
        }
        else
        {
            w.WriteBulk(name);
        }
        w.WriteInteger(count);
    }

    private static void PubSubChannels(CommandContext ctx) => WriteChannels(ctx, ctx.Server.PubSub);

    private static void PubSubShardChannels(CommandContext ctx) => WriteChannels(ctx, ctx.Server.ShardPubSub);

    private static void WriteChannels(CommandContext ctx, PubSubHub hub)
    {
        var channels = hub.Channels(ctx.Argc > 2 ? ctx.Args[2].ToArray() : null);
        ctx.Writer.WriteArrayHeader(channels.Count);
        foreach (var channel in channels)
        {
            ctx.Writer.WriteBulk(channel);
        }
    }

    private static void PubSubNumSub(CommandContext ctx) => WriteNumSub(ctx, ctx.Server.PubSub);

    private static void PubSubShardNumSub(CommandContext ctx) => WriteNumSub(ctx, ctx.Server.ShardPubSub);

    private static void WriteNumSub(CommandContext ctx, PubSubHub hub)
    {
        // A flat array of channel, count pairs in RESP3 too, as Redis 7.0 replies.
        ctx.Writer.WriteArrayHeader(2 * (ctx.Argc - 2));
        for (var i = 2; i < ctx.Argc; i++)
        {
            ctx.Writer.WriteBulk(ctx.Args[i]);
            ctx.Writer.WriteInteger(hub.SubscriberCount(ctx.Args[i]));
        }
    }

    private static void PubSubNumPat(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Server.PubSub.PatternCount);

    private static void PubSubHelp(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)");

    private const CommandFlags Base = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags SubscribeFlags = Base | CommandFlags.NoScript;

    public static readonly CommandDescriptor[] Table =
    [
        new("PUBLISH", 3, Base | CommandFlags.Fast | CommandFlags.MayReplicate, 0, 0, 0, Publish, "pubsub"),
        new("SPUBLISH", 3, Base | CommandFlags.Fast | CommandFlags.MayReplicate, 1, 1, 1, SPublish, "pubsub"),
        new("SUBSCRIBE", -2, SubscribeFlags, 0, 0, 0, Subscribe, "pubsub"),
        new("PSUBSCRIBE", -2, SubscribeFlags, 0, 0, 0, PSubscribe, "pubsub"),
        new("SSUBSCRIBE", -2, SubscribeFlags, 1, -1, 1, SSubscribe, "pubsub"),
        new("UNSUBSCRIBE", -1, SubscribeFlags, 0, 0, 0, Unsubscribe, "pubsub"),
        new("PUNSUBSCRIBE", -1, SubscribeFlags, 0, 0, 0, PUnsubscribe, "pubsub"),
        new("SUNSUBSCRIBE", -1, SubscribeFlags, 1, -1, 1, SUnsubscribe, "pubsub"),
        new("PUBSUB", -2, CommandFlags.None, 0, 0, 0, ContainerCommand.Dispatch, "pubsub")
        {
            Subcommands =
            [
                new("PUBSUB|CHANNELS", -2, Base, 0, 0, 0, PubSubChannels, "pubsub"),
                new("PUBSUB|NUMSUB", -2, Base, 0, 0, 0, PubSubNumSub, "pubsub"),
                new("PUBSUB|NUMPAT", 2, Base, 0, 0, 0, PubSubNumPat, "pubsub"),
                new("PUBSUB|SHARDCHANNELS", -2, Base, 0, 0, 0, PubSubShardChannels, "pubsub"),
                new("PUBSUB|SHARDNUMSUB", -2, Base, 0, 0, 0, PubSubShardNumSub, "pubsub"),
                new("PUBSUB|HELP", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, PubSubHelp, "pubsub"),
            ],
        },
    ];
}
