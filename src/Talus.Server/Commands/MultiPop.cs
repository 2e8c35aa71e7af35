namespace Talus.Server.Commands;

/// <summary>The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share: numkeys key [key ...] END [COUNT count].</summary>
internal static class MultiPop
{
    /// <summary>
    /// Parses the arguments from <paramref name="numKeysIndex"/> on, with Redis 7's errors in its order. The word
    /// after the keys must be <paramref name="first"/> or <paramref name="second"/> (LEFT or RIGHT, MIN or MAX);
    /// <paramref name="isSecond"/> tells which. Without COUNT the count is 1.
    /// </summary>
    public static bool TryParse(CommandContext ctx, int numKeysIndex, string first, string second, out byte[][] keys, out bool isSecond, out long count)
    {
        keys = [];
        isSecond = false;
        count = 1;
        var args = ctx.Args;
        if (!args.TryGetLong(numKeysIndex, out var numKeys) || numKeys < 1)
        {
            ctx.Writer.WriteError("ERR numkeys should be greater than 0");
            return false;
        }
        if (numKeys >= args.Count - numKeysIndex - 1)
        {
            ctx.SyntaxError(); // no room left for the end after the keys
            return false;
        }
        var endIndex = numKeysIndex + (int)numKeys + 1;
        isSecond = args.Is(endIndex, second);
        if (!isSecond && !args.Is(endIndex, first))
        {
            ctx.SyntaxError();
            return false;
        }
        var counted = false;
        for (var j = endIndex + 1; j < args.Count; j++)
        {
            if (!counted && args.Is(j, "COUNT") && j + 1 < args.Count)
            {
                counted = true;
                if (!args.TryGetLong(++j, out count) || count < 1)
                {
                    ctx.Writer.WriteError("ERR count should be greater than 0");
                    return false;
                }
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        keys = args.ToArrays(numKeysIndex + 1, (int)numKeys);
        return true;
    }
}
