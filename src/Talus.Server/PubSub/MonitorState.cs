using Talus.Server.Commands;

namespace Talus.Server.PubSub;

/// <summary>A client's MONITOR mode: on until RESET or disconnect.</summary>
public sealed class MonitorState : IResettable
{
    public void Reset(CommandContext ctx)
    {
        if (ctx.Session.Monitoring && ctx.Session.Outbox is { } outbox)
        {
            ctx.Server.Monitors.Remove(outbox);
            ctx.Session.Monitoring = false;
        }
    }
}
