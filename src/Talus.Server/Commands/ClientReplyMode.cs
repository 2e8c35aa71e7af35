using Talus.Server.Host;

namespace Talus.Server.Commands;

/// <summary>
/// CLIENT REPLY ON|OFF|SKIP: while OFF or SKIP is in force the reply writer's output is a
/// <see cref="ReplyFilter"/> wrapped around the real output. Kept as a session extension so RESET turns
/// replies back on.
/// </summary>
public sealed class ClientReplyMode : IResettable
{
    public static void Off(CommandContext ctx) => Install(ctx, skipOne: false);

    /// <summary>SKIP: the next command's reply is dropped; ignored while replies are off, as in Redis.</summary>
    public static void Skip(CommandContext ctx)
    {
        if (ctx.Writer.Output is not ReplyFilter { SkipsOne: false })
        {
            Install(ctx, skipOne: true);
        }
    }

    public static void On(CommandContext ctx)
    {
        if (ctx.Writer.Output is ReplyFilter filter)
        {
            ctx.Writer.Output = filter.Inner;
        }
    }

    public void Reset(CommandContext ctx) => On(ctx);

    private static void Install(CommandContext ctx, bool skipOne)
    {
        ctx.Session.Extension<ClientReplyMode>();
        var real = ctx.Writer.Output is ReplyFilter existing ? existing.Inner : ctx.Writer.Output;
        ctx.Writer.Output = new ReplyFilter(ctx.Writer, real, skipOne);
    }
}
