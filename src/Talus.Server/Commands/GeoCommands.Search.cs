using System.Globalization;
using Talus.Storage;
using Talus.Storage.Encoding;
using Talus.Storage.Types;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>
/// GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, following Redis'
/// georadiusGeneric: the same argument checks in the same order, the same cells read (<see cref="GeoSearch"/>),
/// distances sorted ascending or descending with ties kept in reading order, COUNT (and ANY, which stops reading
/// once enough points are found), the WITH* options, and STORE / STOREDIST into a sorted set.
/// </summary>
public static partial class GeoCommands
{
    [Flags]
    private enum SearchKind
    {
        RadiusCoords = 1,
        RadiusMember = 2,
        Search = 4,
        SearchStore = 8,
        NoStore = 16,
    }

    private readonly record struct Found(byte[] Member, double Score, double Distance, double Longitude, double Latitude);

    private static void GeoRadius(CommandContext ctx) => Search(ctx, 1, SearchKind.RadiusCoords);

    private static void GeoRadiusReadOnly(CommandContext ctx) => Search(ctx, 1, SearchKind.RadiusCoords | SearchKind.NoStore);

    private static void GeoRadiusByMember(CommandContext ctx) => Search(ctx, 1, SearchKind.RadiusMember);

    private static void GeoRadiusByMemberReadOnly(CommandContext ctx) => Search(ctx, 1, SearchKind.RadiusMember | SearchKind.NoStore);

    private static void GeoSearchCommand(CommandContext ctx) => Search(ctx, 1, SearchKind.Search);

    private static void GeoSearchStore(CommandContext ctx) => Search(ctx, 2, SearchKind.Search | SearchKind.SearchStore);

    /// <summary>The argument index of the STORE / STOREDIST destination of GEORADIUS or GEORADIUSBYMEMBER, or -1 (WATCH).</summary>
    internal static int RadiusStoreIndex(Protocol.CommandArgs args, bool byMember)
    {
        var index = -1;
        for (var i = byMember ? 5 : 6; i + 1 < args.Count; i++)
        {
            if (args.Is(i, "STORE") || args.Is(i, "STOREDIST"))
            {
                index = i + 1;
                i++;
            }
            else if (args.Is(i, "COUNT"))
            {
                i++;
            }
        }
        return index;
    }

    private static void Search(CommandContext ctx, int sourceIndex, SearchKind kind)
    {
        var args = ctx.Args;
        var db = ctx.Db;
        var source = args.ToArray(sourceIndex);
        byte[]? storeKey = kind.HasFlag(SearchKind.SearchStore) ? args.ToArray(1) : null;
        var destinations = new List<byte[]> { source };
        if (storeKey is not null)
        {
            destinations.Add(storeKey);
        }
        else if (!kind.HasFlag(SearchKind.NoStore) && !kind.HasFlag(SearchKind.Search)
            && RadiusStoreIndex(args, kind.HasFlag(SearchKind.RadiusMember)) is var store and >= 0)
        {
            destinations.Add(args.ToArray(store));
        }
        // The source's stripe (and the destination's) for the whole command, so the cells are read from one state.
        using var locks = db.Locks.LockMany(db.Index, destinations);
        var type = db.Keys.TypeOf(source);
        if (type is not (RedisType.None or RedisType.ZSet))
        {
            ctx.WrongType();
            return;
        }
        var exists = type == RedisType.ZSet;

        double lon = 0, lat = 0, radius = 0, width = 0, height = 0, conversion = 1;
        bool isBox = false;
        int baseArgs;
        if (kind.HasFlag(SearchKind.RadiusCoords))
        {
            baseArgs = 6;
            if (!TryLongLat(ctx, 2, out lon, out lat) || !TryDistance(ctx, 4, out radius, out conversion))
            {
                return;
            }
        }
        else if (kind.HasFlag(SearchKind.RadiusMember))
        {
            baseArgs = 5;
            if (exists)
            {
                if (!TryMemberPosition(ctx, source, args.ToArray(2), out lon, out lat) || !TryDistance(ctx, 3, out radius, out conversion))
                {
                    return;
                }
            }
        }
        else
        {
            baseArgs = kind.HasFlag(SearchKind.SearchStore) ? 3 : 2;
        }

        bool withDist = false, withHash = false, withCoord = false, any = false;
        bool fromMember = false, fromLonLat = false, byRadius = false, byBox = false, storeDist = false;
        var sort = 0; // 0 none, 1 ascending, -1 descending
        long count = 0;
        var remaining = args.Count - baseArgs;
        var search = kind.HasFlag(SearchKind.Search);
        var noStore = kind.HasFlag(SearchKind.NoStore);
        for (var i = 0; i < remaining; i++)
        {
            var at = baseArgs + i;
            if (args.Is(at, "WITHDIST"))
            {
                withDist = true;
            }
            else if (args.Is(at, "WITHHASH"))
            {
                withHash = true;
            }
            else if (args.Is(at, "WITHCOORD"))
            {
                withCoord = true;
            }
            else if (args.Is(at, "ANY"))
            {
                any = true;
            }
            else if (args.Is(at, "ASC"))
            {
                sort = 1;
            }
            else if (args.Is(at, "DESC"))
            {
                sort = -1;
            }
            else if (args.Is(at, "COUNT") && i + 1 < remaining)
            {
                if (!ctx.TryGetLong(at + 1, out count))
                {
                    return;
                }
                if (count <= 0)
                {
                    ctx.Writer.WriteError("ERR COUNT must be > 0");
                    return;
                }
                i++;
            }
            else if ((args.Is(at, "STORE") || args.Is(at, "STOREDIST")) && i + 1 < remaining && !noStore && !search)
            {
                storeKey = args.ToArray(at + 1);
                storeDist = args.Is(at, "STOREDIST");
                i++;
            }
            else if (args.Is(at, "STOREDIST") && search && kind.HasFlag(SearchKind.SearchStore))
            {
                storeDist = true;
            }
            else if (args.Is(at, "FROMMEMBER") && i + 1 < remaining && search && !fromLonLat)
            {
                if (exists && !TryMemberPosition(ctx, source, args.ToArray(at + 1), out lon, out lat))
                {
                    return;
                }
                fromMember = true;
                i++;
            }
            else if (args.Is(at, "FROMLONLAT") && i + 2 < remaining && search && !fromMember)
            {
                if (!TryLongLat(ctx, at + 1, out lon, out lat))
                {
                    return;
                }
                fromLonLat = true;
                i += 2;
            }
            else if (args.Is(at, "BYRADIUS") && i + 2 < remaining && search && !byBox)
            {
                if (!TryDistance(ctx, at + 1, out radius, out conversion))
                {
                    return;
                }
                isBox = false;
                byRadius = true;
                i += 2;
            }
            else if (args.Is(at, "BYBOX") && i + 3 < remaining && search && !byRadius)
            {
                if (!TryBox(ctx, at + 1, out width, out height, out conversion))
                {
                    return;
                }
                isBox = true;
                byBox = true;
                i += 3;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var name = args.GetString(0);
        if (storeKey is not null && (withDist || withHash || withCoord))
        {
            ctx.Writer.WriteError(kind.HasFlag(SearchKind.SearchStore)
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }
        if (search && !(fromMember || fromLonLat))
        {
            ctx.Writer.WriteError($"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}");
            return;
        }
        if (search && !(byRadius || byBox))
        {
            ctx.Writer.WriteError($"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}");
            return;
        }
        if (any && count == 0)
        {
            ctx.Writer.WriteError("ERR the ANY argument requires COUNT argument");
            return;
        }
        if (!exists)
        {
            if (storeKey is not null)
            {
                db.ZSets.Store(storeKey, []);
                ctx.Writer.WriteInteger(0);
            }
            else
            {
                ctx.Writer.WriteArrayHeader(0);
            }
            return;
        }
        if (count != 0 && sort == 0 && !any)
        {
            sort = 1;
        }

        var shape = new GeoSearch
        {
            IsBox = isBox,
            Longitude = lon,
            Latitude = lat,
            Radius = radius,
            Width = width,
            Height = height,
            Conversion = conversion,
        };
        var found = new List<Found>();
        var entries = new List<ZEntry>();
        foreach (var (min, max) in shape.Ranges())
        {
            if (any && found.Count >= count)
            {
                break;
            }
            entries.Clear();
            db.ZSets.Range(source, new ZRangeQuery { Kind = ZRangeKind.Score, Scores = new ZScoreRange(min, false, max, true) }, entries);
            foreach (var entry in entries)
            {
                var (pointLon, pointLat) = GeoHash.Decode((ulong)entry.Score);
                if (shape.DistanceIfWithin(pointLon, pointLat) is { } distance)
                {
                    found.Add(new Found(entry.Member, entry.Score, distance, pointLon, pointLat));
                    if (any && found.Count >= count)
                    {
                        break;
                    }
                }
            }
        }
        if (found.Count == 0 && storeKey is null)
        {
            ctx.Writer.WriteArrayHeader(0);
            return;
        }
        var returned = count == 0 || found.Count < count ? found.Count : (int)count;
        if (sort != 0)
        {
            // Stable, as glibc's qsort (a merge sort) is on these arrays: equal distances keep their reading order.
            found = sort > 0 ? [.. found.OrderBy(f => f.Distance)] : [.. found.OrderByDescending(f => f.Distance)];
        }
        if (storeKey is not null)
        {
            var stored = found.Take(returned).Select(f => new ZEntry(f.Member, storeDist ? f.Distance / conversion : f.Score)).ToList();
            db.ZSets.Store(storeKey, stored);
            ctx.Writer.WriteInteger(returned);
            return;
        }
        var options = (withDist ? 1 : 0) + (withCoord ? 1 : 0) + (withHash ? 1 : 0);
        ctx.Writer.WriteArrayHeader(returned);
        foreach (var f in found.Take(returned))
        {
            if (options > 0)
            {
                ctx.Writer.WriteArrayHeader(options + 1);
            }
            ctx.Writer.WriteBulk(f.Member);
            if (withDist)
            {
                WriteDistance(ctx, f.Distance / conversion);
            }
            if (withHash)
            {
                ctx.Writer.WriteInteger((long)f.Score);
            }
            if (withCoord)
            {
                ctx.Writer.WriteArrayHeader(2);
                WriteHumanDouble(ctx, f.Longitude);
                WriteHumanDouble(ctx, f.Latitude);
            }
        }
    }

    private static bool TryLongLat(CommandContext ctx, int at, out double longitude, out double latitude)
    {
        latitude = 0;
        if (!Strtod.TryParseStrict(ctx.Args[at], out longitude) || !Strtod.TryParseStrict(ctx.Args[at + 1], out latitude))
        {
            ctx.Writer.WriteError(Errors.NotFloat);
            return false;
        }
        if (!GeoHash.IsValid(longitude, latitude))
        {
            ctx.Writer.WriteError(string.Create(CultureInfo.InvariantCulture, $"ERR invalid longitude,latitude pair {longitude:F6},{latitude:F6}"));
            return false;
        }
        return true;
    }

    private static bool TryMemberPosition(CommandContext ctx, byte[] key, byte[] member, out double longitude, out double latitude)
    {
        longitude = latitude = 0;
        if (ctx.Db.ZSets.Score(key, member, out var score) != KeyLookup.Found || score is not { } s)
        {
            ctx.Writer.WriteError("ERR could not decode requested zset member");
            return false;
        }
        (longitude, latitude) = GeoHash.Decode((ulong)s);
        return true;
    }

    private static bool TryDistance(CommandContext ctx, int at, out double distance, out double conversion)
    {
        conversion = 1;
        if (!Strtod.TryParseStrict(ctx.Args[at], out distance))
        {
            ctx.Writer.WriteError("ERR need numeric radius");
            return false;
        }
        if (distance < 0)
        {
            ctx.Writer.WriteError("ERR radius cannot be negative");
            return false;
        }
        return TryUnit(ctx, at + 1, out conversion);
    }

    private static bool TryBox(CommandContext ctx, int at, out double width, out double height, out double conversion)
    {
        height = 0;
        conversion = 1;
        if (!Strtod.TryParseStrict(ctx.Args[at], out width))
        {
            ctx.Writer.WriteError("ERR need numeric width");
            return false;
        }
        if (!Strtod.TryParseStrict(ctx.Args[at + 1], out height))
        {
            ctx.Writer.WriteError("ERR need numeric height");
            return false;
        }
        if (height < 0 || width < 0)
        {
            ctx.Writer.WriteError("ERR height or width cannot be negative");
            return false;
        }
        return TryUnit(ctx, at + 2, out conversion);
    }

    /// <summary>Meters per unit of the unit argument at <paramref name="at"/>; false after Redis' error for another unit.</summary>
    private static bool TryUnit(CommandContext ctx, int at, out double conversion)
    {
        conversion = GeoHash.MetersPer(ctx.Args[at]);
        if (conversion == 0)
        {
            ctx.Writer.WriteError(UnitError);
            return false;
        }
        return true;
    }
}
