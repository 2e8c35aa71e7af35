using Talus.Server.Host;
using Talus.Storage;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>
/// Bit commands on strings: SETBIT GETBIT BITCOUNT BITPOS BITOP. Arguments are checked in Redis 7.0's order,
/// which differs per command (BITCOUNT looks the key up before it parses its range, BITPOS parses the bit
/// first), because clients see which error wins.
/// </summary>
public static partial class StringCommands
{
    private static void SetBit(CommandContext ctx)
    {
        if (!TryParseBitOffset(ctx, 2, out var offset))
        {
            return;
        }
        if (!ctx.Args.TryGetLong(3, out var on) || (on & ~1L) != 0)
        {
            ctx.Writer.WriteError(Errors.BitValue);
            return;
        }
        var status = ctx.Db.Strings.SetBit(ctx.Args[1], offset, on == 1, out var previous);
        if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteInteger(previous);
        }
        else
        {
            ctx.WriteStatusError(status);
        }
    }

    private static void GetBit(CommandContext ctx)
    {
        if (!TryParseBitOffset(ctx, 2, out var offset))
        {
            return;
        }
        if (ctx.Db.Strings.GetBit(ctx.Args[1], offset, out var bit) == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(bit);
    }

    /// <summary>
    /// A bit offset: a non-negative integer whose byte lies inside proto-max-bulk-len (512 MB by default, so
    /// offsets below 2^32). The master link is exempt, as in Redis: a replica applies what its master accepted.
    /// </summary>
    private static bool TryParseBitOffset(CommandContext ctx, int index, out long offset)
    {
        if (!ctx.Args.TryGetLong(index, out offset) || offset < 0
            || (ctx.Session.Kind != ClientKind.Master && (offset >> 3) >= ctx.Server.Options.ProtoMaxBulkLen))
        {
            ctx.Writer.WriteError(Errors.BitOffset);
            return false;
        }
        return true;
    }

    private static void BitCount(CommandContext ctx)
    {
        var found = ctx.Db.Strings.Get(ctx.Args[1], out var value);
        if (found != KeyLookup.Found)
        {
            WriteZeroOrWrongType(ctx, found);
            return;
        }
        long start = 0, end = -1;
        var bitUnits = false;
        if (ctx.Argc is 4 or 5)
        {
            if (!ctx.TryGetLong(2, out start) || !ctx.TryGetLong(3, out end))
            {
                return;
            }
            if (start < 0 && end < 0 && start > end)
            {
                ctx.Writer.WriteInteger(0);
                return;
            }
            if (ctx.Argc == 5 && !TryParseBitUnit(ctx, 4, out bitUnits))
            {
                return;
            }
        }
        else if (ctx.Argc != 2)
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Writer.WriteInteger(RedisString.CountBits(value, start, end, bitUnits));
    }

    private static void BitPos(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out var bit))
        {
            return;
        }
        if (bit is not (0 or 1))
        {
            ctx.Writer.WriteError("ERR The bit argument must be 1 or 0.");
            return;
        }
        var found = ctx.Db.Strings.Get(ctx.Args[1], out var value);
        if (found == KeyLookup.WrongType)
        {
            ctx.WrongType();
            return;
        }
        if (found != KeyLookup.Found)
        {
            // A missing key reads as an endless run of zero bits.
            ctx.Writer.WriteInteger(bit == 1 ? -1 : 0);
            return;
        }
        long? start = null, end = null;
        var bitUnits = false;
        if (ctx.Argc is >= 4 and <= 6)
        {
            if (!ctx.TryGetLong(3, out var s))
            {
                return;
            }
            start = s;
            if (ctx.Argc == 6 && !TryParseBitUnit(ctx, 5, out bitUnits))
            {
                return;
            }
            if (ctx.Argc >= 5)
            {
                if (!ctx.TryGetLong(4, out var e))
                {
                    return;
                }
                end = e;
            }
        }
        else if (ctx.Argc != 3)
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Writer.WriteInteger(RedisString.FindBit(value, (int)bit, start, end, bitUnits));
    }

    private static bool TryParseBitUnit(CommandContext ctx, int index, out bool bitUnits)
    {
        bitUnits = ctx.Args.Is(index, "BIT");
        if (bitUnits || ctx.Args.Is(index, "BYTE"))
        {
            return true;
        }
        ctx.SyntaxError();
        return false;
    }

    private static void BitOp(CommandContext ctx)
    {
        var args = ctx.Args;
        BitOperation op;
        if (args.Is(1, "AND"))
        {
            op = BitOperation.And;
        }
        else if (args.Is(1, "OR"))
        {
            op = BitOperation.Or;
        }
        else if (args.Is(1, "XOR"))
        {
            op = BitOperation.Xor;
        }
        else if (args.Is(1, "NOT"))
        {
            op = BitOperation.Not;
        }
        else
        {
            ctx.SyntaxError();
            return;
        }
        if (op == BitOperation.Not && ctx.Argc != 4)
        {
            ctx.Writer.WriteError("ERR BITOP NOT must be called with a single source key.");
            return;
        }
        var sources = args.ToArrays(3, ctx.Argc - 3);
        var status = ctx.Db.Strings.BitOp(op, args.ToArray(2), sources, out var length);
        if (status == OpStatus.Ok)
        {
            ctx.Writer.WriteInteger(length);
        }
        else
        {
            ctx.WriteStatusError(status);
        }
    }

    private static void WriteZeroOrWrongType(CommandContext ctx, KeyLookup found)
    {
        if (found == KeyLookup.WrongType)
        {
            ctx.WrongType();
        }
        else
        {
            ctx.Writer.WriteInteger(0);
        }
    }
}
