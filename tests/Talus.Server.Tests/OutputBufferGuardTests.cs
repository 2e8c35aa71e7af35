using Microsoft.Extensions.Logging.Abstractions;
using Talus.Server.Config;
using Talus.Server.Host;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>The client-output-buffer-limit rule on queued pushes: hard limit at once, soft limit after its seconds.</summary>
public class OutputBufferGuardTests
{
    private static (OutputBufferGuard Guard, ServerStats Stats) Guard(string limits)
    {
        var options = new ServerOptions { ClientOutputBufferLimit = limits };
        var stats = new ServerStats();
        return (new OutputBufferGuard(options, stats, NullLogger.Instance), stats);
    }

    private static ClientSession Session(ClientKind kind) => new(1, null, null, true) { Kind = kind };

    [Fact]
    public void Hard_limit_disconnects_at_once_and_is_counted()
    {
        var (guard, stats) = Guard("normal 0 0 0 pubsub 1000 0 0");
        var session = Session(ClientKind.PubSub);
        long since = 0;
        Assert.False(guard.IsOverLimit(session, 999, ref since));
        Assert.False(session.CloseRequested);
        Assert.True(guard.IsOverLimit(session, 1000, ref since));
        Assert.True(session.CloseRequested);
        Assert.Equal(1, stats.OutputBufferLimitDisconnections);
        Assert.False(guard.IsOverLimit(Session(ClientKind.Normal), 1L << 40, ref since)); // normal 0 0 0: no limit
    }

    [Fact]
    public async Task Soft_limit_disconnects_only_after_its_seconds_and_restarts_when_back_under()
    {
        var (guard, _) = Guard("pubsub 0 100 1");
        var session = Session(ClientKind.PubSub);
        long since = 0;
        var started = Environment.TickCount64;
        Assert.False(guard.IsOverLimit(session, 150, ref since)); // starts the timer
        Assert.NotEqual(0, since);
        Assert.False(guard.IsOverLimit(session, 50, ref since));  // back under: timer reset
        Assert.Equal(0, since);
        Assert.False(guard.IsOverLimit(session, 150, ref since));
        await Wait.UntilAsync(() => guard.IsOverLimit(session, 150, ref since), TimeSpan.FromSeconds(10), "the soft limit to expire");
        Assert.True(Environment.TickCount64 - started > 1000, "disconnected before soft-seconds passed");
        Assert.True(session.CloseRequested);
    }

    [Fact]
    public void Outbox_refuses_frames_once_over_the_limit_and_frees_its_queue()
    {
        var (guard, _) = Guard("pubsub 64 0 0");
        var session = Session(ClientKind.PubSub);
        var outbox = new ClientOutbox(session, guard);
        Assert.True(outbox.Enqueue(new byte[40]));
        Assert.Equal(40, outbox.PendingBytes);
        Assert.False(outbox.Enqueue(new byte[40]));
        Assert.False(outbox.Enqueue(new byte[1]));
        Assert.Equal(0, outbox.PendingBytes);
        Assert.True(session.CloseRequested);
    }
}
