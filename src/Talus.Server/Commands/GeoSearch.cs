namespace Talus.Server.Commands;

/// <summary>
/// The cells a GEOSEARCH or GEORADIUS reads, as Redis' geohashCalculateAreasByShapeWGS84 picks them: a step
/// estimated from the radius, the centre's cell and its eight neighbours (those that cannot reach the shape's
/// bounding box dropped), each read as one score range of the sorted set, in Redis' order, then filtered by
/// the exact shape. Matching Redis cell for cell keeps the order of unsorted results and of equal distances.
/// </summary>
public sealed class GeoSearch
{
    private const double MercatorMax = 20037726.37;

    public bool IsBox { get; init; }

    public double Longitude { get; init; }

    public double Latitude { get; init; }

    /// <summary>In the unit's own measure; <see cref="Conversion"/> turns it into meters.</summary>
    public double Radius { get; init; }

    public double Width { get; init; }

    public double Height { get; init; }

    public double Conversion { get; init; } = 1;

    /// <summary>Score ranges [min, max) of the cells to read, in Redis' order (centre, N, S, E, W, NE, NW, SE, SW).</summary>
    public List<(ulong Min, ulong Max)> Ranges()
    {
        var (minLon, minLat, maxLon, maxLat) = BoundingBox();
        var radiusMeters = (IsBox ? Math.Sqrt((Width / 2 * (Width / 2)) + (Height / 2 * (Height / 2))) : Radius) * Conversion;
        var steps = EstimateSteps(radiusMeters, Latitude);
        var hash = GeoHash.Encode(Longitude, Latitude, steps);
        var neighbours = Neighbours(hash, steps);
        var decrease = GeoHash.Area(neighbours[1], steps).LatMax < maxLat
            || GeoHash.Area(neighbours[2], steps).LatMin > minLat
            || GeoHash.Area(neighbours[3], steps).LongMax < maxLon
            || GeoHash.Area(neighbours[4], steps).LongMin > minLon;
        if (steps > 1 && decrease)
        {
            steps--;
            hash = GeoHash.Encode(Longitude, Latitude, steps);
            neighbours = Neighbours(hash, steps);
        }
        var area = GeoHash.Area(hash, steps);
        // Cells 0..8 as above; a cell set to null is not read (Redis' GZERO).
        var cells = neighbours.Select(n => (ulong?)n).ToArray();
        if (steps >= 2)
        {
            if (area.LatMin < minLat)
            {
                cells[2] = cells[8] = cells[7] = null;
            }
            if (area.LatMax > maxLat)
            {
                cells[1] = cells[5] = cells[6] = null;
            }
            if (area.LongMin < minLon)
            {
                cells[4] = cells[8] = cells[6] = null;
            }
            if (area.LongMax > maxLon)
            {
                cells[3] = cells[7] = cells[5] = null;
            }
        }
        var ranges = new List<(ulong, ulong)>();
        var lastRead = -1;
        for (var i = 0; i < cells.Length; i++)
        {
            if (cells[i] is not { } cell)
            {
                continue;
            }
            // A huge radius makes neighbours repeat: skip a cell equal to the last one read.
            if (lastRead > 0 && cells[lastRead] == cell)
            {
                continue;
            }
            var shift = 52 - (steps * 2);
            ranges.Add((cell << shift, (cell + 1) << shift));
            lastRead = i;
        }
        return ranges;
    }

    /// <summary>The distance from the centre when the point lies in the shape (meters), else null.</summary>
    public double? DistanceIfWithin(double longitude, double latitude)
    {
        if (!IsBox)
        {
            var distance = GeoHash.Distance(Longitude, Latitude, longitude, latitude);
            return distance > Radius * Conversion ? null : distance;
        }
        if (GeoHash.LatDistance(latitude, Latitude) > Height * Conversion / 2)
        {
            return null;
        }
        if (GeoHash.Distance(longitude, latitude, Longitude, latitude) > Width * Conversion / 2)
        {
            return null;
        }
        return GeoHash.Distance(Longitude, Latitude, longitude, latitude);
    }

    private (double MinLon, double MinLat, double MaxLon, double MaxLat) BoundingBox()
    {
        const double degToRad = Math.PI / 180.0;
        const double radToDeg = 180.0 / Math.PI;
        var height = Conversion * (IsBox ? Height / 2 : Radius);
        var width = Conversion * (IsBox ? Width / 2 : Radius);
        var latDelta = height / GeoHash.EarthRadius * radToDeg;
        var longDeltaTop = width / GeoHash.EarthRadius / Math.Cos((Latitude + latDelta) * degToRad) * radToDeg;
        var longDeltaBottom = width / GeoHash.EarthRadius / Math.Cos((Latitude - latDelta) * degToRad) * radToDeg;
        var southern = Latitude < 0;
        return (
            southern ? Longitude - longDeltaBottom : Longitude - longDeltaTop,
            Latitude - latDelta,
            southern ? Longitude + longDeltaBottom : Longitude + longDeltaTop,
            Latitude + latDelta);
    }

    private static int EstimateSteps(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0)
        {
            return 26;
        }
        var step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }
        step -= 2;
        if (latitude is > 66 or < -66)
        {
            step--;
            if (latitude is > 80 or < -80)
            {
                step--;
            }
        }
        return Math.Clamp(step, 1, 26);
    }

    /// <summary>The cell and its neighbours: centre, north, south, east, west, NE, NW, SE, SW (geohashNeighbors).</summary>
    private static ulong[] Neighbours(ulong hash, int step) =>
    [
        hash,
        Move(hash, step, 0, 1),
        Move(hash, step, 0, -1),
        Move(hash, step, 1, 0),
        Move(hash, step, -1, 0),
        Move(hash, step, 1, 1),
        Move(hash, step, -1, 1),
        Move(hash, step, 1, -1),
        Move(hash, step, -1, -1),
    ];

    /// <summary>geohash_move_x then geohash_move_y: longitude in the odd bits, latitude in the even ones.</summary>
    private static ulong Move(ulong bits, int step, int dx, int dy) =>
        MoveAlong(MoveAlong(bits, step, dx, 0xaaaaaaaaaaaaaaaaUL), step, dy, 0x5555555555555555UL);

    /// <summary>One cell along the coordinate in the bits of <paramref name="axis"/>: the carry skips the other coordinate's bits.</summary>
    private static ulong MoveAlong(ulong bits, int step, int direction, ulong axis)
    {
        if (direction == 0)
        {
            return bits;
        }
        var moving = bits & axis;
        var other = bits & ~axis;
        var gaps = ~axis >> (64 - (step * 2));
        moving = direction > 0 ? moving + (gaps + 1) : (moving | gaps) - (gaps + 1);
        return (moving & (axis >> (64 - (step * 2)))) | other;
    }
}
