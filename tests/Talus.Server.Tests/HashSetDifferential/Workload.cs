using System.Globalization;

namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>
/// A seeded random command stream over a small key space, so fields collide, keys empty out and are
/// re-created, and commands hit keys of the wrong type. Subclasses add the commands of one data type;
/// this base adds the generic key commands (DEL, EXPIRE, TTL ...) and string keys to collide with.
/// </summary>
internal abstract class Workload(Random random)
{
    public const int KeyCount = 50;
    public const int StringKeyCount = 3;

    /// <summary>Far-future absolute expiries (ms) for PEXPIREAT GT/LT, spaced so no relative EXPIRE of the run comes near one.</summary>
    private readonly long[] _absoluteExpiries =
    [
        DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 2_000_000,
        DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 5_000_000,
        DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 20_000_000,
    ];

    protected Random Random { get; } = random;

    /// <summary>Prefix of this type's keys ("h" gives h0 .. h49).</summary>
    protected abstract string KeyPrefix { get; }

    /// <summary>Commands that set up the string keys (run before the stream).</summary>
    public IEnumerable<string[]> Setup() => Enumerable.Range(0, StringKeyCount).Select(i => new[] { "SET", $"str{i}", $"text{i}" });

    /// <summary>The next step: one command, or a snapshot followed by a random command.</summary>
    public abstract List<DiffCommand> Next();

    protected string Key() => Random.Next(12) == 0 ? $"str{Random.Next(StringKeyCount)}" : $"{KeyPrefix}{Random.Next(KeyCount)}";

    protected string TypedKey() => $"{KeyPrefix}{Random.Next(KeyCount)}";

    protected T Pick<T>(params T[] choices) => choices[Random.Next(choices.Length)];

    protected static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A one-command step; null arguments are left out (an option that was not chosen).</summary>
    protected static List<DiffCommand> One(ReplyCheck check, params string?[] args) => [new DiffCommand(args.OfType<string>().ToArray(), check)];

    /// <summary>Generic key commands on this type's keys, about one step in ten.</summary>
    protected List<DiffCommand> KeyCommand()
    {
        var key = Key();
        switch (Random.Next(15))
        {
            case 0:
            case 1:
                return One(ReplyCheck.Exact, "DEL", key);
            case 2:
                return One(ReplyCheck.Exact, "EXISTS", key, Key());
            case 3:
                return One(ReplyCheck.Exact, "TYPE", key);
            case 4:
                return One(ReplyCheck.Exact, "EXPIRE", key, N(Pick(1000, 3000, 10000)), Pick<string?>("NX", "XX", null, null));
            case 5:
                return One(ReplyCheck.Exact, "PEXPIRE", key, N(Pick(1_000_000, 3_000_000, 10_000_000)), Pick<string?>("NX", "XX", null, null));
            case 6:
                return One(ReplyCheck.Exact, "PEXPIREAT", key, N(Pick(_absoluteExpiries)), Pick<string?>("GT", "LT", "NX", "XX", null));
            case 7:
                // A time already past deletes the key at once.
                return One(ReplyCheck.Exact, Pick("EXPIRE", "PEXPIRE"), key, Pick("0", "-5"));
            case 8:
                return One(ReplyCheck.Approximate, "TTL", key);
            case 9:
                return One(ReplyCheck.Exact, "PERSIST", key);
            case 10:
                // Turns a key of this type into a string (or restores a string key).
                return One(ReplyCheck.Exact, "SET", Random.Next(3) == 0 ? TypedKey() : $"str{Random.Next(StringKeyCount)}", "plain");
            case 11:
                return One(ReplyCheck.Exact, "EXPIRE", key, Pick("abc", "1.5", ""));
            case 12:
                return One(ReplyCheck.Exact, Pick("RENAME", "RENAMENX"), key, Key());
            case 13:
                // COPY of a key onto itself is left out: Talus answers 0 where redis-server 7.0 gives an error
                // (Keyspace/KeyCommands, not hash or set code).
                var destination = Key();
                return One(ReplyCheck.Exact, "COPY", key, destination == key ? destination + "x" : destination, Pick<string?>("REPLACE", null));
            default:
                // A 1 ms expiry: the batch ends and the run waits until the key is gone on both servers, so
                // the next commands meet a key that expired lazily (its records are still on disk in Talus).
                return [new DiffCommand(["PEXPIRE", TypedKey(), "1"], ReplyCheck.Exact) { EndsBatch = true, AwaitsExpiry = true }];
        }
    }

    /// <summary>An integer-ish argument: mostly small numbers, sometimes extremes and non-integers.</summary>
    protected string IntegerArgument() => Random.Next(10) switch
    {
        0 => Pick("abc", "1.5", "", " 1", "+1", "01", "-0"),
        1 => Pick("9223372036854775807", "-9223372036854775808", "9223372036854775808", "4611686018427387904"),
        _ => N(Random.Next(-20, 40)),
    };
}
