using System.Collections.Concurrent;
using System.Text;
using Talus.Server.Host;
using Talus.Storage.Util;

namespace Talus.Server.PubSub;

/// <summary>
/// The server's channel and pattern subscriptions. PUBLISH reads immutable snapshots without a lock (a
/// subscriber array per channel, one array of all patterns), so publishers never wait for each other or for
/// subscribers; (un)subscribing copies and replaces a snapshot under one lock. A message is appended to each
/// receiver's <see cref="ClientOutbox"/>, which its own connection drains. Channels and patterns are binary:
/// they are keyed by their Latin-1 decoding, which maps bytes to chars one to one.
/// Sharded pub/sub (SPUBLISH/SSUBSCRIBE) uses a second hub with its own "smessage" frames and no patterns.
/// </summary>
public sealed class PubSubHub
{
    private readonly object _gate = new();
    private readonly byte[] _messageKind;
    private readonly ConcurrentDictionary<string, ClientOutbox[]> _channels = new(StringComparer.Ordinal);
    private volatile PatternSubscription[] _patterns = [];

    public PubSubHub(string messageKind = "message") => _messageKind = Encoding.ASCII.GetBytes(messageKind);

    /// <summary>The hub key of a channel or pattern.</summary>
    public static string Key(ReadOnlySpan<byte> name) => Encoding.Latin1.GetString(name);

    /// <summary>Channels with at least one subscriber (INFO pubsub_channels).</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Distinct patterns with at least one subscriber (PUBSUB NUMPAT, INFO pubsub_patterns, as Redis 7.0 counts them).</summary>
    public int PatternCount => _patterns.Length;

    public void Subscribe(string channel, ClientOutbox subscriber)
    {
        lock (_gate)
        {
            var current = _channels.TryGetValue(channel, out var list) ? list : [];
            _channels[channel] = [.. current, subscriber];
        }
    }

    public void Unsubscribe(string channel, ClientOutbox subscriber)
    {
        lock (_gate)
        {
            if (!_channels.TryGetValue(channel, out var list))
            {
                return;
            }
            var rest = Array.FindAll(list, s => s != subscriber);
            if (rest.Length == 0)
            {
                _channels.TryRemove(channel, out _);
            }
            else
            {
                _channels[channel] = rest;
            }
        }
    }

    public void PSubscribe(string pattern, ClientOutbox subscriber)
    {
        lock (_gate)
        {
            var patterns = _patterns;
            var i = Array.FindIndex(patterns, p => p.Key == pattern);
            if (i < 0)
            {
                _patterns = [.. patterns, new PatternSubscription(pattern, Encoding.Latin1.GetBytes(pattern), [subscriber])];
                return;
            }
            var copy = (PatternSubscription[])patterns.Clone();
            copy[i] = copy[i] with { Subscribers = [.. copy[i].Subscribers, subscriber] };
            _patterns = copy;
        }
    }

    public void PUnsubscribe(string pattern, ClientOutbox subscriber)
    {
        lock (_gate)
        {
            var patterns = _patterns;
            var i = Array.FindIndex(patterns, p => p.Key == pattern);
            if (i < 0)
            {
                return;
            }
            var rest = Array.FindAll(patterns[i].Subscribers, s => s != subscriber);
            if (rest.Length == 0)
            {
                _patterns = Array.FindAll(patterns, p => p.Key != pattern);
                return;
            }
            var copy = (PatternSubscription[])patterns.Clone();
            copy[i] = copy[i] with { Subscribers = rest };
            _patterns = copy;
        }
    }

    /// <summary>
    /// Queues the message for every subscriber of the channel and every subscriber of a matching pattern;
    /// returns how many deliveries that made (Redis' PUBLISH reply: a client matching twice counts twice).
    /// </summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        var receivers = 0;
        if (!_channels.IsEmpty && _channels.TryGetValue(Key(channel), out var subscribers))
        {
            var frame = PushFrame.Message(_messageKind, channel, message);
            byte[]? push = null;
            foreach (var subscriber in subscribers)
            {
                subscriber.Enqueue(PushFrame.For(subscriber.Session.Protocol, frame, ref push));
                receivers++;
            }
        }
        foreach (var pattern in _patterns)
        {
            if (!Glob.Match(pattern.Pattern, channel))
            {
                continue;
            }
            var frame = PushFrame.PatternMessage("pmessage"u8, pattern.Pattern, channel, message);
            byte[]? push = null;
            foreach (var subscriber in pattern.Subscribers)
            {
                subscriber.Enqueue(PushFrame.For(subscriber.Session.Protocol, frame, ref push));
                receivers++;
            }
        }
        return receivers;
    }

    /// <summary>Active channels matching <paramref name="pattern"/> (all when null), in no particular order.</summary>
    public List<byte[]> Channels(byte[]? pattern)
    {
        var result = new List<byte[]>();
        foreach (var key in _channels.Keys)
        {
            var name = Encoding.Latin1.GetBytes(key);
            if (pattern is null || Glob.Match(pattern, name))
            {
                result.Add(name);
            }
        }
        return result;
    }

    /// <summary>Subscribers of one channel, pattern subscriptions not counted (PUBSUB NUMSUB).</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel) =>
        _channels.TryGetValue(Key(channel), out var list) ? list.Length : 0;
}
