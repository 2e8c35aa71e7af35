using System.Globalization;
using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>The GEO commands against a real redis-server: a script of options and errors, then seeded random positions.</summary>
public class GeoCommandsTests
{
    [Fact]
    public async Task Options_edges_and_errors_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const string script = """
            GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania|GEODIST Sicily Palermo Catania
            GEODIST Sicily Palermo Catania km|GEODIST Sicily Palermo Catania MI|GEODIST Sicily Palermo Catania ft
            GEODIST Sicily Palermo Catania yards|GEODIST Sicily Palermo nowhere|GEODIST Sicily Palermo Catania km extra|GEODIST nokey a b
            GEOPOS Sicily Palermo Catania NonExisting|GEOPOS nokey a|GEOHASH Sicily Palermo Catania nope|GEOHASH nokey a
            GEOADD Sicily NX 13.5 38.2 Palermo 14 37 New|GEOADD Sicily XX CH 13.5 38.2 Palermo 14 37 Other|GEOADD Sicily CH 13.361389 38.115556 Palermo
            GEOADD Sicily NX XX 1 1 a|GEOADD Sicily 1 1|GEOADD Sicily 200 100 bad|GEOADD Sicily 180 85.05112878 edge
            GEOADD Sicily -180 -85.05112878 edge2|GEOADD Sicily 180 85.06 over|GEOADD Sicily abc 1 x|GEOADD Sicily 0 0 zero 0.000001 -0.00001 tiny
            GEOPOS Sicily zero tiny edge edge2 New|GEOHASH Sicily zero tiny edge edge2|GEODIST Sicily edge edge2 km|ZRANGE Sicily 0 -1 WITHSCORES
            SET str x|GEOADD str 1 1 a|GEOPOS str a|GEODIST str a b|GEOHASH str a|HELLO 3|GEOPOS Sicily Palermo zero nope|GEODIST Sicily Palermo Catania
            HELLO 2
            """;
        Assert.Equal(37, Differential.RunScript(redis, talus, script));
    }

    [Fact]
    public async Task Search_options_edges_and_errors_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const string script = """
            GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2 13.583333 37.316667 Agrigento
            GEORADIUS Sicily 15 37 200 km WITHDIST|GEORADIUS Sicily 15 37 200 km WITHCOORD
            GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH|GEORADIUS Sicily 15 37 200 km WITHDIST ASC
            GEORADIUS Sicily 15 37 200 km WITHDIST DESC COUNT 2|GEORADIUS Sicily 15 37 200 km COUNT 1 ANY
            GEORADIUS Sicily 15 37 2000 km|GEORADIUS Sicily 15 37 20000 km|GEORADIUS Sicily 15 37 0 km
            GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST|GEORADIUSBYMEMBER Sicily nope 200 km
            GEORADIUSBYMEMBER nokey nope 200 km|GEORADIUSBYMEMBER_RO Sicily Agrigento 100 km WITHDIST
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC
            GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST
            GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 100 100 mi
            GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 100 mi COUNT 2 DESC WITHHASH
            GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 1 1 BYRADIUS 1 m|GEOSEARCH Sicily BYRADIUS 1 m
            GEOSEARCH Sicily FROMLONLAT 1 1|GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 m ANY
            GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS -1 m|GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS x m
            GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 yd|GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX -1 1 m
            GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX x 1 m|GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 x m
            GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 m COUNT 0|GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 m COUNT x
            GEOSEARCH Sicily FROMLONLAT 200 1 BYRADIUS 1 m|GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 m STORE x
            GEOSEARCH nokey FROMLONLAT 1 1 BYRADIUS 1 m|GEOSEARCH nokey FROMMEMBER a BYRADIUS 1 m
            GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km|ZRANGE dst 0 -1 WITHSCORES
            GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST|ZRANGE dst 0 -1 WITHSCORES
            GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST
            GEOSEARCHSTORE dst Sicily FROMLONLAT 0 0 BYRADIUS 1 km|EXISTS dst|GEORADIUS Sicily 15 37 200 km STORE d2
            ZRANGE d2 0 -1 WITHSCORES|GEORADIUS Sicily 15 37 200 km STOREDIST d3 COUNT 2|ZRANGE d3 0 -1 WITHSCORES
            GEORADIUS Sicily 15 37 200 km STORE d2 WITHDIST|GEORADIUS_RO Sicily 15 37 200 km STORE d2
            GEORADIUS nokey 15 37 200 km STORE d2|EXISTS d2|SET str x|GEORADIUS str 1 1 1 m
            GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 m
            GEOADD world -180 0 w1 180 0 w2 0 85 n 0 -85 s 179.9 84.9 ne -179.9 -84.9 sw 0 0 z
            GEOSEARCH world FROMLONLAT 0 0 BYRADIUS 20000 km ASC|GEOSEARCH world FROMLONLAT 180 0 BYRADIUS 100 km WITHDIST
            GEOSEARCH world FROMLONLAT 0 84 BYBOX 30000 500 km WITHDIST
            GEOSEARCH world FROMLONLAT -179 -84 BYRADIUS 1000 km WITHDIST|GEORADIUS world 0 0 100000 km|HELLO 3
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD WITHDIST WITHHASH ASC
            """;
        Assert.Equal(60, Differential.RunScript(redis, talus, script));
    }

    [Fact]
    public async Task Seeded_random_positions_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const int seed = 52;
        var random = new Random(seed);
        using var d = new Differential(redis, talus, seed);
        var commands = new List<byte[][]>();
        void Add(params string[] args) => commands.Add(args.Select(Encoding.UTF8.GetBytes).ToArray());
        string Coordinate(double limit) => random.Next(10) switch
        {
            0 => limit.ToString("R", CultureInfo.InvariantCulture),
            1 => (-limit).ToString("R", CultureInfo.InvariantCulture),
            _ => ((random.NextDouble() * 2 - 1) * limit).ToString("R", CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < 2000; i++)
        {
            var key = $"g{random.Next(3)}";
            var member = $"m{random.Next(200)}";
            switch (random.Next(6))
            {
                case 0 or 1:
                    Add("GEOADD", key, Coordinate(180), Coordinate(85.05112878), member, Coordinate(180), Coordinate(85.05112878), $"m{random.Next(200)}");
                    break;
                case 2:
                    Add("GEOPOS", key, member, $"m{random.Next(200)}");
                    break;
                case 3:
                    Add("GEODIST", key, member, $"m{random.Next(200)}", new[] { "m", "km", "ft", "mi" }[random.Next(4)]);
                    break;
                case 4:
                    Add("GEOHASH", key, member, $"m{random.Next(200)}");
                    break;
                default:
                    Add("ZSCORE", key, member);
                    break;
            }
        }
        d.Run(commands);
        Assert.Equal(2000, d.Compared);
    }

    [Fact]
    public async Task Seeded_random_searches_answer_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const int seed = 7;
        var random = new Random(seed);
        using var d = new Differential(redis, talus, seed);
        var commands = new List<byte[][]>();
        void Add(params string[] args) => commands.Add(args.Select(Encoding.UTF8.GetBytes).ToArray());
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        // Points clustered around a few centres (one near the antimeridian, one near the pole), so that searches
        // find many of them and cross cell and range edges.
        (double Lon, double Lat)[] centres = [(13.4, 38.1), (179.5, -10), (-0.1, 51.5), (30, 80)];
        for (var i = 0; i < 600; i++)
        {
            var (lon, lat) = centres[random.Next(centres.Length)];
            var pLon = Math.Clamp(lon + ((random.NextDouble() * 2) - 1) * 3, -180, 180);
            var pLat = Math.Clamp(lat + ((random.NextDouble() * 2) - 1) * 3, -85, 85);
            Add("GEOADD", $"g{random.Next(2)}", F(pLon), F(pLat), $"p{i}");
        }
        string[] units = ["m", "km", "mi", "ft"];
        for (var i = 0; i < 1500; i++)
        {
            var key = $"g{random.Next(3)}"; // g2 never exists
            var (lon, lat) = centres[random.Next(centres.Length)];
            var unit = units[random.Next(units.Length)];
            var scale = unit switch { "m" => 1000.0, "ft" => 3280.84, "mi" => 0.621371, _ => 1.0 };
            var size = F(Math.Round(random.NextDouble() * 400 * scale, 3));
            var args = new List<string>();
            var byMember = random.Next(4) == 0;
            var member = $"p{random.Next(600)}";
            var centre = new[] { F(lon + random.NextDouble() - 0.5), F(lat + random.NextDouble() - 0.5) };
            switch (random.Next(3))
            {
                case 0:
                    args.AddRange(["GEOSEARCH", key]);
                    args.AddRange(byMember ? ["FROMMEMBER", member] : ["FROMLONLAT", .. centre]);
                    args.AddRange(random.Next(2) == 0 ? ["BYRADIUS", size, unit] : ["BYBOX", size, F(Math.Round(random.NextDouble() * 400 * scale, 3)), unit]);
                    break;
                case 1:
                    args.AddRange(byMember ? ["GEORADIUSBYMEMBER", key, member, size, unit] : ["GEORADIUS", key, .. centre, size, unit]);
                    break;
                default:
                    args.AddRange(["GEOSEARCHSTORE", "dest", key]);
                    args.AddRange(byMember ? ["FROMMEMBER", member] : ["FROMLONLAT", .. centre]);
                    args.AddRange(["BYRADIUS", size, unit]);
                    if (random.Next(2) == 0)
                    {
                        args.Add("STOREDIST");
                    }
                    break;
            }
            var store = args[0] == "GEOSEARCHSTORE";
            if (!store)
            {
                foreach (var option in new[] { "WITHDIST", "WITHCOORD", "WITHHASH" })
                {
                    if (random.Next(3) == 0)
                    {
                        args.Add(option);
                    }
                }
            }
            if (random.Next(3) == 0)
            {
                args.AddRange(["COUNT", random.Next(1, 20).ToString(CultureInfo.InvariantCulture)]);
                if (random.Next(3) == 0)
                {
                    args.Add("ANY");
                }
            }
            if (random.Next(2) == 0)
            {
                args.Add(random.Next(2) == 0 ? "ASC" : "DESC");
            }
            Add([.. args]);
            if (store)
            {
                Add("ZRANGE", "dest", "0", "-1", "WITHSCORES");
            }
        }
        d.Run(commands);
        Assert.True(d.Compared >= 2100, $"{d.Compared} replies compared");
        // The searches found points: a wide one around a centre sees dozens.
        Assert.True(d.Call("GEOSEARCH", "g0", "FROMLONLAT", "13.4", "38.1", "BYRADIUS", "400", "km").Items!.Count > 20);
    }
}
