using Microsoft.Extensions.Logging;
using Talus.Server.Config;

namespace Talus.Server.Host;

/// <summary>
/// Enforces client-output-buffer-limit on what is queued for a client and not yet sent, as Redis does: over
/// the class's hard limit the client is disconnected at once; over the soft limit it is disconnected once it
/// has stayed over for soft-seconds (the timer restarts whenever it drops back under). The class is Redis'
/// getClientType: a subscribed client is "pubsub", a replica stream "replica", everything else (MONITOR
/// included) "normal". A limit of 0 means none.
/// </summary>
public sealed class OutputBufferGuard
{
    private readonly ServerOptions _options;
    private readonly ServerStats _stats;
    private readonly ILogger _logger;
    private (string Text, Dictionary<string, OutputBufferLimit> Limits) _parsed = ("", []);

    public OutputBufferGuard(ServerOptions options, ServerStats stats, ILogger logger)
    {
        _options = options;
        _stats = stats;
        _logger = logger;
    }

    /// <summary>
    /// Whether a client with <paramref name="pending"/> unsent bytes must be disconnected; when it must, the
    /// client is closed, logged and counted here. <paramref name="softSince"/> is the client's soft-limit timer.
    /// </summary>
    public bool IsOverLimit(ClientSession session, long pending, ref long softSince)
    {
        var limit = LimitFor(session.Kind);
        if (limit.HardBytes == 0 && limit.SoftBytes == 0)
        {
            return false;
        }
        var over = limit.HardBytes > 0 && pending >= limit.HardBytes;
        if (!over && limit.SoftBytes > 0 && pending >= limit.SoftBytes)
        {
            var now = Environment.TickCount64;
            var since = Interlocked.CompareExchange(ref softSince, now, 0);
            over = since != 0 && now - since > limit.SoftSeconds * 1000L;
        }
        else if (!over && Interlocked.Read(ref softSince) != 0)
        {
            Interlocked.Exchange(ref softSince, 0);
        }
        if (over && !session.CloseRequested)
        {
            Disconnect(session, pending);
        }
        return over;
    }

    private void Disconnect(ClientSession session, long pending)
    {
        Interlocked.Increment(ref _stats.OutputBufferLimitDisconnections);
        _logger.LogWarning(
            "Client id={Id} addr={Address} laddr={LocalAddress} fd={Fd} name={Name} db={Db} sub={Sub} psub={Psub} omem={Omem} scheduled to be closed ASAP for overcoming of output buffer limits.",
            session.Id, session.Address, session.LocalAddress, session.Fd, session.Name ?? "", session.DbIndex,
            session.SubscribedChannels, session.SubscribedPatterns, pending);
        // Closed from the thread pool: the publisher that crossed the limit must not run the victim's
        // connection teardown inline.
        session.CloseRequested = true;
        ThreadPool.QueueUserWorkItem(s => s.Kill(), session, preferLocal: false);
    }

    private OutputBufferLimit LimitFor(ClientKind kind)
    {
        var text = _options.ClientOutputBufferLimit;
        var parsed = _parsed;
        if (!ReferenceEquals(parsed.Text, text))
        {
            parsed = (text, OutputBufferLimits.Parse(text, out _) ?? []);
            _parsed = parsed;
        }
        var cls = kind switch
        {
            ClientKind.PubSub => "pubsub",
            ClientKind.Replica => "replica",
            _ => "normal",
        };
        return parsed.Limits.TryGetValue(cls, out var limit) ? limit : default;
    }
}
