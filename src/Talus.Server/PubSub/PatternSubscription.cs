using Talus.Server.Host;

namespace Talus.Server.PubSub;

/// <summary>One subscribed pattern and its subscribers (an immutable snapshot; the hub replaces it on change).</summary>
public sealed record PatternSubscription(string Key, byte[] Pattern, ClientOutbox[] Subscribers);
