using Talus.Server.Commands;
using Talus.Server.Host;

namespace Talus.Server.PubSub;

/// <summary>
/// One client's channels, patterns and shard channels, in subscription order (an argument-less UNSUBSCRIBE
/// confirms them in that order). Touched only by the client's own thread; the hubs hold the shared view.
/// RESET and disconnect drop every subscription.
/// </summary>
public sealed class ClientSubscriptions : IResettable
{
    private ServerContext? _server;
    private ClientOutbox? _outbox;

    public OrderedDictionary<string, byte[]> Channels { get; } = new(StringComparer.Ordinal);

    public OrderedDictionary<string, byte[]> Patterns { get; } = new(StringComparer.Ordinal);

    public OrderedDictionary<string, byte[]> ShardChannels { get; } = new(StringComparer.Ordinal);

    /// <summary>Channels plus patterns: the count SUBSCRIBE and its kin confirm (shard channels count apart).</summary>
    public int Count => Channels.Count + Patterns.Count;

    /// <summary>The state of the client running <paramref name="ctx"/>, tied to its connection on first use.</summary>
    public static ClientSubscriptions Of(CommandContext ctx)
    {
        var state = ctx.Session.Extension<ClientSubscriptions>();
        if (state._outbox is null)
        {
            state._server = ctx.Server;
            state._outbox = ctx.Session.Outbox ??= new ClientOutbox(ctx.Session, ctx.Server.OutputGuard);
            ctx.Session.Disconnected += _ => state.Clear();
        }
        return state;
    }

    public ClientOutbox Outbox => _outbox!;

    public bool Subscribe(byte[] channel) => Add(Channels, channel, _server!.PubSub.Subscribe);

    public bool Unsubscribe(byte[] channel) => Remove(Channels, channel, _server!.PubSub.Unsubscribe);

    public bool PSubscribe(byte[] pattern) => Add(Patterns, pattern, _server!.PubSub.PSubscribe);

    public bool PUnsubscribe(byte[] pattern) => Remove(Patterns, pattern, _server!.PubSub.PUnsubscribe);

    public bool SSubscribe(byte[] channel) => Add(ShardChannels, channel, _server!.ShardPubSub.Subscribe);

    public bool SUnsubscribe(byte[] channel) => Remove(ShardChannels, channel, _server!.ShardPubSub.Unsubscribe);

    private bool Add(OrderedDictionary<string, byte[]> set, byte[] name, Action<string, ClientOutbox> register)
    {
        var key = PubSubHub.Key(name);
        if (!set.TryAdd(key, name))
        {
            return false;
        }
        register(key, _outbox!);
        UpdateSession();
        return true;
    }

    private bool Remove(OrderedDictionary<string, byte[]> set, byte[] name, Action<string, ClientOutbox> unregister)
    {
        var key = PubSubHub.Key(name);
        if (!set.Remove(key))
        {
            return false;
        }
        unregister(key, _outbox!);
        UpdateSession();
        return true;
    }

    /// <summary>Mirrors the counts into the session (CLIENT LIST sub/psub, the "pubsub" client class).</summary>
    private void UpdateSession()
    {
        var session = _outbox!.Session;
        session.SubscribedChannels = Channels.Count + ShardChannels.Count;
        session.SubscribedPatterns = Patterns.Count;
        var subscribed = Count + ShardChannels.Count > 0;
        if (subscribed && session.Kind == ClientKind.Normal)
        {
            session.Kind = ClientKind.PubSub;
        }
        else if (!subscribed && session.Kind == ClientKind.PubSub)
        {
            session.Kind = ClientKind.Normal;
        }
    }

    /// <summary>Drops every subscription without confirmations (RESET, disconnect).</summary>
    public void Clear()
    {
        if (_server is null)
        {
            return;
        }
        foreach (var key in Channels.Keys)
        {
            _server.PubSub.Unsubscribe(key, _outbox!);
        }
        foreach (var key in Patterns.Keys)
        {
            _server.PubSub.PUnsubscribe(key, _outbox!);
        }
        foreach (var key in ShardChannels.Keys)
        {
            _server.ShardPubSub.Unsubscribe(key, _outbox!);
        }
        Channels.Clear();
        Patterns.Clear();
        ShardChannels.Clear();
        UpdateSession();
    }

    void IResettable.Reset(CommandContext ctx) => Clear();
}
