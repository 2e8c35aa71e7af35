namespace Talus.Server.Commands;

/// <summary>
/// Redis' geohash arithmetic (geohash.c, geohash_helper.c), bit for bit: a position is stored as the score of a
/// sorted-set member, the 52-bit interleave of its latitude (even bits) and longitude (odd bits), each scaled
/// to 26 bits over [-85.05112878, 85.05112878] and [-180, 180]. Decoding returns a cell's centre, and distances
/// use Redis' haversine on a sphere of 6372797.560856 m, so GEOPOS and GEODIST print what Redis prints.
/// </summary>
public static class GeoHash
{
    public const int Step = 26;
    public const double LatMin = -85.05112878;
    public const double LatMax = 85.05112878;
    public const double LongMin = -180;
    public const double LongMax = 180;
    public const double EarthRadius = 6372797.560856;

    private const string Alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";
    private const double DegToRad = Math.PI / 180.0;

    /// <summary>False outside the range GEOADD accepts.</summary>
    public static bool IsValid(double longitude, double latitude) =>
        longitude is >= LongMin and <= LongMax && latitude is >= LatMin and <= LatMax;

    /// <summary>The 52-bit cell of a position: its sorted-set score.</summary>
    public static ulong Encode(double longitude, double latitude) => Encode(longitude, latitude, Step);

    /// <summary>The cell of <paramref name="step"/> bits per coordinate holding a position (geohashEncode).</summary>
    public static ulong Encode(double longitude, double latitude, int step, double latMin = LatMin, double latMax = LatMax)
    {
        var latOffset = (latitude - latMin) / (latMax - latMin) * (1UL << step);
        var longOffset = (longitude - LongMin) / (LongMax - LongMin) * (1UL << step);
        return Interleave((uint)latOffset, (uint)longOffset);
    }

    /// <summary>A cell's bounds (geohashDecode): latitude and longitude ranges.</summary>
    public static (double LatMin, double LatMax, double LongMin, double LongMax) Area(ulong bits, int step)
    {
        var separated = Deinterleave(bits);
        var lat = (uint)separated;
        var lon = (uint)(separated >> 32);
        var latScale = LatMax - LatMin;
        var longScale = LongMax - LongMin;
        return (
            LatMin + (lat * 1.0 / (1UL << step)) * latScale,
            LatMin + ((lat + 1) * 1.0 / (1UL << step)) * latScale,
            LongMin + (lon * 1.0 / (1UL << step)) * longScale,
            LongMin + ((lon + 1) * 1.0 / (1UL << step)) * longScale);
    }

    /// <summary>The centre of a stored cell, clamped to the valid ranges.</summary>
    public static (double Longitude, double Latitude) Decode(ulong bits)
    {
        var (latMin, latMax, longMin, longMax) = Area(bits, Step);
        return (Math.Clamp((longMin + longMax) / 2, LongMin, LongMax), Math.Clamp((latMin + latMax) / 2, LatMin, LatMax));
    }

    /// <summary>GEOHASH's 11-character standard geohash: the stored position re-encoded over latitude [-90, 90].</summary>
    public static string ToStandardString(ulong bits)
    {
        var (longitude, latitude) = Decode(bits);
        var standard = Encode(longitude, latitude, Step, latMin: -90, latMax: 90);
        Span<char> text = stackalloc char[11];
        for (var i = 0; i < 11; i++)
        {
            // 52 bits make ten characters and two bits; the eleventh is always '0', as in Redis.
            var index = i == 10 ? 0 : (int)((standard >> (52 - ((i + 1) * 5))) & 0x1f);
            text[i] = Alphabet[index];
        }
        return new string(text);
    }

    /// <summary>Redis' geohashGetLatDistance, in meters.</summary>
    public static double LatDistance(double lat1, double lat2) => EarthRadius * Math.Abs((lat2 * DegToRad) - (lat1 * DegToRad));

    /// <summary>Redis' geohashGetDistance, in meters.</summary>
    public static double Distance(double lon1, double lat1, double lon2, double lat2)
    {
        var lon1r = lon1 * DegToRad;
        var lon2r = lon2 * DegToRad;
        var v = Math.Sin((lon2r - lon1r) / 2);
        if (v == 0.0)
        {
            return LatDistance(lat1, lat2);
        }
        var lat1r = lat1 * DegToRad;
        var lat2r = lat2 * DegToRad;
        var u = Math.Sin((lat2r - lat1r) / 2);
        var a = (u * u) + (Math.Cos(lat1r) * Math.Cos(lat2r) * v * v);
        return 2.0 * EarthRadius * Math.Asin(Math.Sqrt(a));
    }

    /// <summary>Meters per unit (m, km, ft, mi), or 0 for another unit.</summary>
    public static double MetersPer(ReadOnlySpan<byte> unit)
    {
        if (unit.Length is 0 or > 2)
        {
            return 0;
        }
        Span<byte> lower = stackalloc byte[unit.Length];
        for (var i = 0; i < unit.Length; i++)
        {
            lower[i] = (byte)(unit[i] | 0x20);
        }
        return lower switch
        {
            [(byte)'m'] => 1,
            [(byte)'k', (byte)'m'] => 1000,
            [(byte)'f', (byte)'t'] => 0.3048,
            [(byte)'m', (byte)'i'] => 1609.34,
            _ => 0,
        };
    }

    private static ulong Interleave(uint x, uint y)
    {
        return Spread(x) | (Spread(y) << 1);
    }

    private static ulong Spread(uint value)
    {
        ulong v = value;
        v = (v | (v << 16)) & 0x0000FFFF0000FFFFUL;
        v = (v | (v << 8)) & 0x00FF00FF00FF00FFUL;
        v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | (v << 2)) & 0x3333333333333333UL;
        v = (v | (v << 1)) & 0x5555555555555555UL;
        return v;
    }

    /// <summary>The even bits (latitude) in the low word, the odd bits (longitude) in the high word.</summary>
    private static ulong Deinterleave(ulong interleaved) => Squash(interleaved) | ((ulong)Squash(interleaved >> 1) << 32);

    private static uint Squash(ulong value)
    {
        var v = value & 0x5555555555555555UL;
        v = (v | (v >> 1)) & 0x3333333333333333UL;
        v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | (v >> 4)) & 0x00FF00FF00FF00FFUL;
        v = (v | (v >> 8)) & 0x0000FFFF0000FFFFUL;
        v = (v | (v >> 16)) & 0x00000000FFFFFFFFUL;
        return (uint)v;
    }
}
