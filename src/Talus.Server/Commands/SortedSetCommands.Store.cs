using Talus.Storage;
using Talus.Storage.Encoding;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>
/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, following Redis' zunionInterDiffGenericCommand:
/// numkeys, then the input types (WRONGTYPE wins over a bad option), then the options.
/// </summary>
public static partial class SortedSetCommands
{
    private static void ZUnion(CommandContext ctx) => SetOperation(ctx, 1, ZSetOperation.Union, countOnly: false);

    private static void ZInter(CommandContext ctx) => SetOperation(ctx, 1, ZSetOperation.Inter, countOnly: false);

    private static void ZDiff(CommandContext ctx) => SetOperation(ctx, 1, ZSetOperation.Diff, countOnly: false);

    private static void ZUnionStore(CommandContext ctx) => SetOperation(ctx, 2, ZSetOperation.Union, countOnly: false);

    private static void ZInterStore(CommandContext ctx) => SetOperation(ctx, 2, ZSetOperation.Inter, countOnly: false);

    private static void ZDiffStore(CommandContext ctx) => SetOperation(ctx, 2, ZSetOperation.Diff, countOnly: false);

    private static void ZInterCard(CommandContext ctx) => SetOperation(ctx, 1, ZSetOperation.Inter, countOnly: true);

    /// <summary><paramref name="numKeysIndex"/> is 2 for the STORE forms (the destination comes first).</summary>
    private static void SetOperation(CommandContext ctx, int numKeysIndex, ZSetOperation operation, bool countOnly)
    {
        var args = ctx.Args;
        var store = numKeysIndex == 2;
        if (!ctx.TryGetLong(numKeysIndex, out var numKeys))
        {
            return;
        }
        if (numKeys < 1)
        {
            ctx.Writer.WriteError($"ERR at least 1 input key is needed for '{ctx.Command.Name.ToLowerInvariant()}' command");
            return;
        }
        if (numKeys > args.Count - (numKeysIndex + 1))
        {
            ctx.SyntaxError();
            return;
        }
        var keys = Arguments(ctx, numKeysIndex + 1, numKeysIndex + 1 + (int)numKeys);
        foreach (var key in keys)
        {
            if (ctx.Db.Keys.TypeOf(key) is not (RedisType.None or RedisType.ZSet or RedisType.Set))
            {
                ctx.WrongType();
                return;
            }
        }
        if (!TryParseSetOptions(ctx, numKeysIndex + 1 + (int)numKeys, keys.Count, operation, store, countOnly, out var options))
        {
            return;
        }
        var zsets = ctx.Db.ZSets;
        OpStatus status;
        if (countOnly)
        {
            status = zsets.InterCard(keys, options.Limit, out var cardinality);
            WriteIntegerOrWrongType(ctx, status, cardinality);
        }
        else if (store)
        {
            status = zsets.CombineStore(args.ToArray(1), keys, options.Weights, options.Aggregate, operation, out var stored);
            SignalStored(ctx, args[1], stored);
            WriteIntegerOrWrongType(ctx, status, stored);
        }
        else
        {
            var result = new List<ZEntry>();
            if (zsets.Combine(keys, options.Weights, options.Aggregate, operation, result) == OpStatus.WrongType)
            {
                ctx.WrongType();
                return;
            }
            WriteEntries(ctx, result, options.WithScores);
        }
    }

    /// <summary>A destination written with members may serve clients blocked in BZPOPMIN/BZPOPMAX on its key.</summary>
    private static void SignalStored(CommandContext ctx, ReadOnlySpan<byte> destination, long stored)
    {
        if (stored > 0)
        {
            ctx.SignalKey(ctx.Db.Index, destination);
        }
    }

    private static void WriteIntegerOrWrongType(CommandContext ctx, OpStatus status, long value)
    {
        if (status == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        ctx.Writer.WriteInteger(value);
    }

    private readonly record struct SetOptions(double[]? Weights, ZAggregate Aggregate, bool WithScores, long Limit);

    private static bool TryParseSetOptions(CommandContext ctx, int j, int setCount, ZSetOperation operation, bool store, bool countOnly, out SetOptions options)
    {
        var args = ctx.Args;
        double[]? weights = null;
        var aggregate = ZAggregate.Sum;
        var withScores = false;
        long limit = 0;
        options = default;
        var algebra = operation != ZSetOperation.Diff && !countOnly;
        while (j < args.Count)
        {
            var remaining = args.Count - j;
            if (algebra && remaining >= setCount + 1 && args.Is(j, "WEIGHTS"))
            {
                j++;
                weights = new double[setCount];
                for (var i = 0; i < setCount; i++, j++)
                {
                    if (!Strtod.TryParseStrict(args[j], out weights[i]))
                    {
                        ctx.Writer.WriteError("ERR weight value is not a float");
                        return false;
                    }
                }
            }
            else if (algebra && remaining >= 2 && args.Is(j, "AGGREGATE"))
            {
                j++;
                if (args.Is(j, "SUM"))
                {
                    aggregate = ZAggregate.Sum;
                }
                else if (args.Is(j, "MIN"))
                {
                    aggregate = ZAggregate.Min;
                }
                else if (args.Is(j, "MAX"))
                {
                    aggregate = ZAggregate.Max;
                }
                else
                {
                    ctx.SyntaxError();
                    return false;
                }
                j++;
            }
            else if (!store && !countOnly && args.Is(j, "WITHSCORES"))
            {
                j++;
                withScores = true;
            }
            else if (countOnly && remaining >= 2 && args.Is(j, "LIMIT"))
            {
                if (!args.TryGetLong(j + 1, out limit) || limit < 0)
                {
                    ctx.Writer.WriteError("ERR LIMIT can't be negative");
                    return false;
                }
                j += 2;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        options = new SetOptions(weights, aggregate, withScores, limit);
        return true;
    }
}
