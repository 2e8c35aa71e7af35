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
}
