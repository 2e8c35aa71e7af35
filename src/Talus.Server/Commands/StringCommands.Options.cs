namespace Talus.Server.Commands;

/// <summary>The options of SET and GETEX, parsed with the rules of Redis 7.0's parseExtendedStringArgumentsOrReply.</summary>
public static partial class StringCommands
{
    [Flags]
    private enum StringOptions
    {
        None = 0,
        Nx = 1,        // SET only: write only when the key is missing
        Xx = 2,        // SET only: write only when the key exists
        Get = 4,       // SET only: reply with the old value
        KeepTtl = 8,   // SET only: keep the key's expiry
        Persist = 16,  // GETEX only: remove the expiry
        Ex = 32,       // relative seconds
        Px = 64,       // relative milliseconds
        ExAt = 128,    // unix seconds
        PxAt = 256,    // unix milliseconds
    }

    private const StringOptions AnyExpiry = StringOptions.Ex | StringOptions.Px | StringOptions.ExAt | StringOptions.PxAt;

    /// <summary>
    /// Parses the options from <paramref name="start"/> on. As in Redis, an option may repeat (the last expiry
    /// wins) but NX excludes XX, and KEEPTTL, PERSIST and the four expiry options exclude each other. The expiry
    /// value is checked later (<see cref="TryGetExpireAt"/>), so "SET k v EX abc NX XX" is a syntax error.
    /// Writes the error and returns false on failure.
    /// </summary>
    private static bool TryParseStringOptions(CommandContext ctx, int start, bool isSet, out StringOptions options, out int expireIndex)
    {
        var args = ctx.Args;
        options = StringOptions.None;
        expireIndex = -1;
        for (var j = start; j < args.Count; j++)
        {
            var hasNext = j + 1 < args.Count;
            StringOptions? found = null;
            var conflicts = StringOptions.None;
            if (isSet && args.Is(j, "NX"))
            {
                (found, conflicts) = (StringOptions.Nx, StringOptions.Xx);
            }
            else if (isSet && args.Is(j, "XX"))
            {
                (found, conflicts) = (StringOptions.Xx, StringOptions.Nx);
            }
            else if (isSet && args.Is(j, "GET"))
            {
                (found, conflicts) = (StringOptions.Get, StringOptions.None);
            }
            else if (isSet && args.Is(j, "KEEPTTL"))
            {
                (found, conflicts) = (StringOptions.KeepTtl, AnyExpiry);
            }
            else if (!isSet && args.Is(j, "PERSIST"))
            {
                (found, conflicts) = (StringOptions.Persist, AnyExpiry);
            }
            else if (hasNext && ExpiryOption(args, j) is { } expiry)
            {
                (found, conflicts) = (expiry, StringOptions.KeepTtl | StringOptions.Persist | (AnyExpiry & ~expiry));
            }
            if (found is not { } option || (options & conflicts) != 0)
            {
                ctx.SyntaxError();
                return false;
            }
            options |= option;
            if ((option & AnyExpiry) != 0)
            {
                expireIndex = ++j;
            }
        }
        return true;
    }

    private static StringOptions? ExpiryOption(Protocol.CommandArgs args, int i) =>
        args.Is(i, "EX") ? StringOptions.Ex
        : args.Is(i, "PX") ? StringOptions.Px
        : args.Is(i, "EXAT") ? StringOptions.ExAt
        : args.Is(i, "PXAT") ? StringOptions.PxAt
        : null;

    /// <summary>
    /// The absolute expiry (unix ms) of the expiry option at <paramref name="index"/>, as Redis'
    /// getExpireMillisecondsOrReply: a positive integer whose absolute time fits in 64 bits.
    /// </summary>
    private static bool TryGetExpireAt(CommandContext ctx, int index, StringOptions options, out long expireAtMs)
    {
        var unit = (options & StringOptions.Ex) != 0 ? Expiration.Unit.Seconds
            : (options & StringOptions.Px) != 0 ? Expiration.Unit.Milliseconds
            : (options & StringOptions.ExAt) != 0 ? Expiration.Unit.UnixSeconds
            : Expiration.Unit.UnixMilliseconds;
        return Expiration.TryParsePositive(ctx, index, unit, out expireAtMs);
    }
}
