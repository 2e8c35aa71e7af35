using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// Seeded random streams of string and generic key commands, sent to a real redis-server and to talus; every
/// reply must be the same bytes (see <see cref="StringKeyStream"/> for what the streams contain). At the end
/// the whole keyspace of each database used is compared too.
/// </summary>
public class StringKeyDifferentialTests
{
    private const int OpsPerSeed = 30_000;

    [Theory]
    [InlineData(1001, 2)]
    [InlineData(2002, 2)]
    [InlineData(3003, 3)]
    [InlineData(4004, 3)]
    public async Task Random_string_and_key_commands_match_redis(int seed, int protocol)
    {
        await using var redis = await RedisProcess.LaunchAsync();
        await using var talus = await TalusProcess.LaunchAsync();
        using var diff = new Differential(redis, talus, seed) { ComparerFor = ComparerFor };
        if (protocol == 3)
        {
            diff.Call("HELLO", "3");
        }
        var stream = new StringKeyStream(seed, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        diff.Run(stream.Take(OpsPerSeed));
        Assert.Equal(OpsPerSeed + (protocol == 3 ? 1 : 0), diff.Compared);
        CompareKeyspaces(diff);
    }

    /// <summary>Every key of databases 0-3: same key set, same value, same kind of TTL.</summary>
    private static void CompareKeyspaces(Differential diff)
    {
        for (var db = 0; db < 4; db++)
        {
            diff.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var keys = diff.Call("KEYS", "*");
            Assert.NotNull(keys.Items);
            diff.Run(keys.Items!.SelectMany(k => new[]
            {
                new[] { "GET"u8.ToArray(), k.Bytes! },
                ["PTTL"u8.ToArray(), k.Bytes!],
                ["TYPE"u8.ToArray(), k.Bytes!],
            }));
        }
    }

    private static Func<RespReply, RespReply, bool>? ComparerFor(IReadOnlyList<byte[]> command)
    {
        var name = Encoding.ASCII.GetString(command[0]).ToUpperInvariant();
        return name switch
        {
            "KEYS" => Differential.Unordered,
            // Remaining time and absolute expiry depend on when each server ran the command.
            "TTL" or "PTTL" or "EXPIRETIME" or "PEXPIRETIME" when command.Count == 2 => SameTtlKind,
            // The connection id differs; the shape (a map with the same fields) must not.
            "HELLO" => SameShape,
            _ => null,
        };
    }

    /// <summary>-2 / -1 must match exactly; any positive time matches any positive time.</summary>
    private static bool SameTtlKind(RespReply expected, RespReply actual)
    {
        if (expected.Type != ':' || actual.Type != ':')
        {
            return Differential.SameBytes(expected, actual);
        }
        return expected.Integer < 0 ? expected.Integer == actual.Integer : actual.Integer > 0;
    }

    private static bool SameShape(RespReply expected, RespReply actual) =>
        expected.Type == actual.Type && expected.Items?.Count == actual.Items?.Count;
}
