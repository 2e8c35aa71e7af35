namespace Talus.Server.Commands;

/// <summary>Turns the relative and absolute expiry arguments of SET, GETEX, EXPIRE ... into an absolute unix-ms time.</summary>
public static class Expiration
{
    public enum Unit
    {
        Seconds,          // EX, EXPIRE, SETEX
        Milliseconds,     // PX, PEXPIRE, PSETEX
        UnixSeconds,      // EXAT, EXPIREAT
        UnixMilliseconds, // PXAT, PEXPIREAT
    }

    /// <summary>
    /// Parses argument <paramref name="index"/> as a SET/GETEX/SETEX expiry: must be a positive integer whose
    /// absolute time fits in 64 bits. On failure writes Redis' error and returns false.
    /// </summary>
    public static bool TryParsePositive(CommandContext ctx, int index, Unit unit, out long expireAtMs)
    {
        expireAtMs = 0;
        if (!ctx.Args.TryGetLong(index, out var value))
        {
            ctx.Writer.WriteError(Errors.NotInteger);
            return false;
        }
        if (value <= 0 || !TryToAbsolute(value, unit, out expireAtMs))
        {
            ctx.Writer.WriteError(string.Format(System.Globalization.CultureInfo.InvariantCulture, Errors.InvalidExpire, ctx.Command.Name.ToLowerInvariant()));
            return false;
        }
        return true;
    }

    /// <summary>Converts a relative or absolute time to absolute unix ms; false on overflow.</summary>
    public static bool TryToAbsolute(long value, Unit unit, out long expireAtMs)
    {
        expireAtMs = 0;
        var now = Storage.Database.NowMs;
        switch (unit)
        {
            case Unit.Seconds:
                if (value > long.MaxValue / 1000 || value < long.MinValue / 1000)
                {
                    return false;
                }
                value *= 1000;
                goto case Unit.Milliseconds;
            case Unit.Milliseconds:
                if (value > long.MaxValue - now)
                {
                    return false;
                }
                expireAtMs = now + value;
                return true;
            case Unit.UnixSeconds:
                if (value > long.MaxValue / 1000 || value < long.MinValue / 1000)
                {
                    return false;
                }
                expireAtMs = value * 1000;
                return true;
            default:
                expireAtMs = value;
                return true;
        }
    }
}
