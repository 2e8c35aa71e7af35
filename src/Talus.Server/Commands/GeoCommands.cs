using System.Globalization;
using Talus.Storage;
using Talus.Storage.Types;

namespace Talus.Server.Commands;

/// <summary>
/// GEOADD, GEOPOS, GEODIST and GEOHASH over sorted sets, as Redis' geo.c does them: a member's score is the
/// 52-bit geohash of its position (<see cref="GeoHash"/>), so ZRANGE, ZREM and the rest work on the same key.
/// The searches are in GeoCommands.Search.cs.
/// </summary>
public static partial class GeoCommands
{
    private const string UnitError = "ERR unsupported unit provided. please use M, KM, FT, MI";

    private static void GeoAdd(CommandContext ctx)
    {
        var args = ctx.Args;
        bool nx = false, xx = false, ch = false;
        var at = 2;
        for (; at < args.Count; at++)
        {
            if (args.Is(at, "NX"))
            {
                nx = true;
            }
            else if (args.Is(at, "XX"))
            {
                xx = true;
            }
            else if (args.Is(at, "CH"))
            {
                ch = true;
            }
            else
            {
                break;
            }
        }
        var elements = (args.Count - at) / 3;
        if ((args.Count - at) % 3 != 0 || (xx && nx) || elements == 0)
        {
            ctx.SyntaxError();
            return;
        }
        var items = new List<ZEntry>(elements);
        for (var i = 0; i < elements; i++)
        {
            var first = at + (i * 3);
            if (!TryLongLat(ctx, first, out var longitude, out var latitude))
            {
                return;
            }
            items.Add(new ZEntry(args.ToArray(first + 2), GeoHash.Encode(longitude, latitude)));
        }
        var flags = nx ? ZAddFlags.IfMissing : xx ? ZAddFlags.IfExists : ZAddFlags.None;
        if (ctx.Db.ZSets.Add(args[1], items, flags, out var added, out var updated, out _) == OpStatus.WrongType)
        {
            ctx.WrongType();
            return;
        }
        if (added > 0)
        {
            ctx.SignalKey(ctx.Db.Index, args[1]);
        }
        ctx.Writer.WriteInteger(ch ? added + updated : added);
    }

    private static void GeoPos(CommandContext ctx)
    {
        if (!TryScores(ctx, 2, ctx.Args.Count, out var scores))
        {
            return;
        }
        ctx.Writer.WriteArrayHeader(scores.Length);
        foreach (var score in scores)
        {
            if (score is not { } s)
            {
                ctx.Writer.WriteNullArray();
                continue;
            }
            var (longitude, latitude) = GeoHash.Decode((ulong)s);
            ctx.Writer.WriteArrayHeader(2);
            WriteHumanDouble(ctx, longitude);
            WriteHumanDouble(ctx, latitude);
        }
    }

    private static void GeoDist(CommandContext ctx)
    {
        if (ctx.Args.Count > 5)
        {
            ctx.SyntaxError();
            return;
        }
        var metersPerUnit = 1.0;
        if (ctx.Args.Count == 5 && !TryUnit(ctx, 4, out metersPerUnit))
        {
            return;
        }
        if (!TryScores(ctx, 2, 4, out var scores))
        {
            return;
        }
        if (scores is not [{ } first, { } second])
        {
            ctx.Writer.WriteNull();
            return;
        }
        var (lon1, lat1) = GeoHash.Decode((ulong)first);
        var (lon2, lat2) = GeoHash.Decode((ulong)second);
        WriteDistance(ctx, GeoHash.Distance(lon1, lat1, lon2, lat2) / metersPerUnit);
    }

    private static void GeoHashCommand(CommandContext ctx)
    {
        if (!TryScores(ctx, 2, ctx.Args.Count, out var scores))
        {
            return;
        }
        ctx.Writer.WriteArrayHeader(scores.Length);
        foreach (var score in scores)
        {
            if (score is { } s)
            {
                ctx.Writer.WriteBulk(GeoHash.ToStandardString((ulong)s));
            }
            else
            {
                ctx.Writer.WriteNull();
            }
        }
    }

    /// <summary>The scores of the members in arguments [<paramref name="from"/>, <paramref name="to"/>) (null: missing); false after WRONGTYPE.</summary>
    private static bool TryScores(CommandContext ctx, int from, int to, out double?[] scores)
    {
        var members = new List<byte[]>();
        for (var i = from; i < to; i++)
        {
            members.Add(ctx.Args.ToArray(i));
        }
        switch (ctx.Db.ZSets.Scores(ctx.Args[1], members, out scores))
        {
            case KeyLookup.WrongType:
                ctx.WrongType();
                return false;
            case KeyLookup.Missing:
                scores = new double?[members.Count];
                return true;
            default:
                return true;
        }
    }

    /// <summary>
    /// Redis' addReplyHumanLongDouble: C's "%.17Lf" of the value without its trailing zeros ("-0" is "0"), a bulk
    /// string in RESP2 and a double in RESP3.
    /// </summary>
    private static void WriteHumanDouble(CommandContext ctx, double value)
    {
        var text = FormatHuman(value);
        if (ctx.Session.Protocol == Protocol.RespVersion.Resp3)
        {
            ctx.Writer.WriteRaw(System.Text.Encoding.ASCII.GetBytes("," + text + "\r\n"));
        }
        else
        {
            ctx.Writer.WriteBulk(text);
        }
    }

    /// <summary>Redis' addReplyDoubleDistance: "%.4f" as a bulk string, in either protocol.</summary>
    private static void WriteDistance(CommandContext ctx, double distance) =>
        ctx.Writer.WriteBulk(distance.ToString("F4", CultureInfo.InvariantCulture));

    internal static string FormatHuman(double value)
    {
        var text = value.ToString("F17", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
        return text == "-0" ? "0" : text;
    }

    public static readonly CommandDescriptor[] Table =
    [
        new("GEOADD", -5, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, GeoAdd, "geo"),
        new("GEOPOS", -2, CommandFlags.ReadOnly, 1, 1, 1, GeoPos, "geo"),
        new("GEODIST", -4, CommandFlags.ReadOnly, 1, 1, 1, GeoDist, "geo"),
        new("GEOHASH", -2, CommandFlags.ReadOnly, 1, 1, 1, GeoHashCommand, "geo"),
        new("GEORADIUS", -6, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, GeoRadius, "geo"),
        new("GEORADIUS_RO", -6, CommandFlags.ReadOnly, 1, 1, 1, GeoRadiusReadOnly, "geo"),
        new("GEORADIUSBYMEMBER", -5, CommandFlags.Write | CommandFlags.DenyOom, 1, 1, 1, GeoRadiusByMember, "geo"),
        new("GEORADIUSBYMEMBER_RO", -5, CommandFlags.ReadOnly, 1, 1, 1, GeoRadiusByMemberReadOnly, "geo"),
        new("GEOSEARCH", -7, CommandFlags.ReadOnly, 1, 1, 1, GeoSearchCommand, "geo"),
        new("GEOSEARCHSTORE", -8, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1, GeoSearchStore, "geo"),
    ];
}
