using System.Globalization;
using System.Text;

namespace Talus.Server.Tests;

/// <summary>How a differential step's replies are compared.</summary>
public enum DiffCheck
{
    Exact,        // byte for byte
    RandomMember, // ZRANDMEMBER: same shape, members (and scores) taken from the next step's ZRANGE reply
    Unchecked,    // setup steps whose replies legitimately differ (HELLO)
}

/// <summary>One command of a differential stream.</summary>
public sealed record DiffStep(byte[][] Args, DiffCheck Check = DiffCheck.Exact)
{
    public override string ToString() => string.Join(' ', Args.Select(Show));

    private static string Show(byte[] arg)
    {
        var text = Encoding.UTF8.GetString(arg);
        return arg.Length == 0 || text.Any(c => char.IsControl(c) || c == ' ' || c == '\uFFFD') ? "\"" + Convert.ToHexString(arg) + "\"(hex)" : text;
    }
}

/// <summary>
/// A seeded random stream of sorted-set commands for comparing Talus with redis-server. Score keys get any
/// score; lex keys only ever hold score 0 (lex ranges are defined only then). Sets stay small (at most a few
/// dozen members of at most 64 bytes) so redis-server keeps them listpack-encoded, whose replies are the
/// ones Talus gives for sets of that size (ZSCAN in one page, -0 stored as 0).
/// </summary>
public sealed class SortedSetCommandStream
{
    private static readonly string[] ScoreKeys = ["z0", "z1", "z2", "z3", "z4", "z5"];
    private static readonly string[] LexKeys = ["lex0", "lex1", "lex2"];
    private const string StringKey = "str";

    private static readonly string[] ExactScores =
    [
        "0", "1", "2", "3", "-1", "-2", "5", "-5", "10", "0.5", "-2.5", "0.25", "1.125", "1024", "-1000000", "7", "100",
    ];

    private static readonly string[] WideScores =
    [
        "0.1", "0.2", "0.3", "1.1", "3.141592653589793", "2.718281828459045", "1e-7", "123456789.123456789",
        "9007199254740993", "4611686018427387904", "4611686018427387905", "1e17", "123456789012345678",
        "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "-0.0001", "1e21", "6.02214076e23",
        "0.3333333333333333", "inf", "-inf", "+inf", "Infinity", "-0", "+1.5", "1E2", ".5", "5.", "0x1p-2",
        "0X1.8P3", "1e-310", "-1e-5", "99999999999999999999",
    ];

    private static readonly string[] BadScores = ["abc", "", " 1", "1 ", "nan", "NaN", "1e400", "-1e400", "1e-400", "1.2.3", "--1", "0x", "1e", "(1", "1,5"];

    private static readonly string[] BadBounds = ["x", "((1", "nan", "1 ", "1e", "[1", "1x"];

    private static readonly string[] LexMembers =
    [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "aa", "ab", "abc", "b\0", "", "\u00e9", "zz", "A",
    ];

    private readonly Random _random;
    private readonly List<byte[]> _members;

    public SortedSetCommandStream(int seed)
    {
        _random = new Random(seed);
        _members = Enumerable.Range(0, 30).Select(i => Bytes("m" + i.ToString("00", CultureInfo.InvariantCulture))).ToList();
        _members.AddRange([[], Bytes("a"), Bytes("x y"), [0], [0xff, 0xfe], Bytes("\u00e9t\u00e9"), Bytes(new string('L', 64)), Bytes("m1\0")]);
    }

    /// <summary>Commands that set up the fixed keys (a string for WRONGTYPE checks).</summary>
    public static IEnumerable<DiffStep> Setup() => [Step("SET", StringKey, "text")];

    /// <summary>The next one or two steps (ZRANDMEMBER is followed by the ZRANGE that checks it).</summary>
    public IEnumerable<DiffStep> Next()
    {
        var roll = _random.Next(1000);
        return roll switch
        {
            < 220 => [Add()],
            < 260 => [IncrBy()],
            < 340 => [PointRead()],
            < 380 => [Count()],
            < 420 => [Rank()],
            < 560 => [RangeRead()],
            < 575 => [RangeStore()],
            < 615 => [Remove()],
            < 640 => [RemoveRange()],
            < 670 => [Pop()],
            < 740 => [Algebra()],
            < 770 => RandomMember(),
            < 800 => [Scan()],
            < 830 => [Lifetime()],
            < 860 => [WrongType()],
            < 880 => [WrongArity()],
            _ => [LexWrite()],
        };
    }

    private DiffStep Add()
    {
        var key = ScoreKey();
        var args = new List<string> { "ZADD", key };
        var flags = new[] { "NX", "XX", "GT", "LT", "CH", "INCR" };
        var incr = false;
        foreach (var flag in flags)
        {
            if (_random.Next(flag == "CH" ? 4 : 14) == 0)
            {
                args.Add(_random.Next(2) == 0 ? flag : flag.ToLowerInvariant());
                incr |= flag == "INCR";
            }
        }
        var pairs = incr && _random.Next(8) != 0 ? 1 : _random.Next(1, 8);
        var parts = args.Select(Bytes).ToList();
        for (var i = 0; i < pairs; i++)
        {
            parts.Add(Bytes(Score(allowBad: _random.Next(40) == 0)));
            parts.Add(Member());
        }
        if (_random.Next(60) == 0)
        {
            parts.RemoveAt(parts.Count - 1); // odd number of score/member arguments
        }
        return new DiffStep([.. parts]);
    }

    private DiffStep IncrBy() => Step("ZINCRBY", ScoreKey(), Score(allowBad: _random.Next(30) == 0), Member());

    private DiffStep PointRead()
    {
        var key = AnyKey();
        return _random.Next(3) switch
        {
            0 => Step("ZSCORE", key, Member()),
            1 => Step("ZCARD", key),
            _ => Step(["ZMSCORE", key, .. Enumerable.Range(0, _random.Next(1, 5)).Select(_ => Member())]),
        };
    }

    private DiffStep Count() =>
        _random.Next(3) == 0
            ? Step("ZLEXCOUNT", LexKey(), LexBound(), LexBound())
            : Step("ZCOUNT", AnyKey(), ScoreBound(), ScoreBound());

    private DiffStep Rank() => Step(_random.Next(2) == 0 ? "ZRANK" : "ZREVRANK", AnyKey(), Member());

    private DiffStep RangeRead()
    {
        switch (_random.Next(7))
        {
            case 0:
                return Step(["ZRANGE", AnyKey(), Index(), Index(), .. Options(withScores: true, limit: _random.Next(15) == 0, rev: true, by: false)]);
            case 1:
                return Step(["ZRANGE", AnyKey(), ScoreBound(), ScoreBound(), "BYSCORE", .. Options(withScores: true, limit: true, rev: true, by: false)]);
            case 2:
                return Step(["ZRANGE", LexKey(), LexBound(), LexBound(), "BYLEX", .. Options(withScores: _random.Next(15) == 0, limit: true, rev: true, by: false)]);
            case 3:
                return Step([_random.Next(2) == 0 ? "ZRANGEBYSCORE" : "ZREVRANGEBYSCORE", AnyKey(), ScoreBound(), ScoreBound(), .. Options(withScores: true, limit: true, rev: false, by: false)]);
            case 4:
                return Step([_random.Next(2) == 0 ? "ZRANGEBYLEX" : "ZREVRANGEBYLEX", LexKey(), LexBound(), LexBound(), .. Options(withScores: _random.Next(15) == 0, limit: true, rev: false, by: false)]);
            case 5:
                return Step(["ZREVRANGE", AnyKey(), Index(), Index(), .. Options(withScores: true, limit: false, rev: false, by: false)]);
            default:
                // Option soup: lets conflicting or repeated options reach the error paths.
                return Step(["ZRANGE", AnyKey(), Index(), Index(), .. Options(withScores: true, limit: true, rev: true, by: true)]);
        }
    }

    private DiffStep RangeStore()
    {
        var lex = _random.Next(3) == 0;
        var source = lex ? LexKey() : AnyKey();
        var destination = lex ? LexKey() : ScoreKey();
        return lex
            ? Step(["ZRANGESTORE", destination, source, LexBound(), LexBound(), "BYLEX", .. Options(withScores: _random.Next(20) == 0, limit: true, rev: true, by: false)])
            : _random.Next(2) == 0
                ? Step(["ZRANGESTORE", destination, source, ScoreBound(), ScoreBound(), "BYSCORE", .. Options(withScores: false, limit: true, rev: true, by: false)])
                : Step(["ZRANGESTORE", destination, source, Index(), Index(), .. Options(withScores: false, limit: false, rev: true, by: false)]);
    }

    private DiffStep Remove() => Step(["ZREM", AnyKey(), .. Enumerable.Range(0, _random.Next(1, 3)).Select(_ => Member())]);

    private DiffStep RemoveRange() => _random.Next(3) switch
    {
        0 => Step("ZREMRANGEBYRANK", AnyKey(), Index(), Index()),
        1 => Step("ZREMRANGEBYSCORE", ScoreKey(), ScoreBound(), ScoreBound()),
        _ => Step("ZREMRANGEBYLEX", LexKey(), LexBound(), LexBound()),
    };

    private DiffStep Pop()
    {
        var command = _random.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX";
        return _random.Next(5) switch
        {
            0 => Step(command, AnyKey()),
            1 => Step(command, AnyKey(), Pick("0", "-1", "x", "100")),
            2 => Step(["ZMPOP", "2", AnyKey(), AnyKey(), Pick("MIN", "MAX", "min", "bad"), .. (_random.Next(2) == 0 ? new[] { "COUNT", Pick("1", "2", "5", "0", "-1") } : [])]),
            _ => Step(command, AnyKey(), _random.Next(1, 6).ToString(CultureInfo.InvariantCulture)),
        };
    }

    private DiffStep Algebra()
    {
        var commands = new[] { "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD" };
        var command = commands[_random.Next(commands.Length)];
        var count = _random.Next(1, 4);
        var args = new List<string> { command };
        if (command.EndsWith("STORE", StringComparison.Ordinal))
        {
            args.Add(ScoreKey());
        }
        var numKeys = _random.Next(25) == 0 ? Pick("0", "-1", "x", "9") : count.ToString(CultureInfo.InvariantCulture);
        args.Add(numKeys);
        for (var i = 0; i < count; i++)
        {
            args.Add(_random.Next(12) == 0 ? StringKey : _random.Next(4) == 0 ? LexKey() : ScoreKey());
        }
        var algebra = command is not ("ZDIFF" or "ZDIFFSTORE" or "ZINTERCARD");
        if (_random.Next(algebra ? 2 : 15) == 0)
        {
            args.Add("WEIGHTS");
            for (var i = 0; i < count; i++)
            {
                args.Add(_random.Next(30) == 0 ? Pick(BadScores) : Pick("1", "2", "-1", "0", "0.5", "1.5", "inf", "-0", "3.3"));
            }
        }
        if (_random.Next(algebra ? 3 : 15) == 0)
        {
            args.AddRange(["AGGREGATE", Pick("SUM", "MIN", "MAX", "min", "avg")]);
        }
        if (_random.Next(command is "ZINTERCARD" || command.EndsWith("STORE", StringComparison.Ordinal) ? 15 : 2) == 0)
        {
            args.Add("WITHSCORES");
        }
        if (command == "ZINTERCARD" && _random.Next(2) == 0)
        {
            args.AddRange(["LIMIT", Pick("0", "1", "3", "-1", "x")]);
        }
        return Step([.. args]);
    }

    private IEnumerable<DiffStep> RandomMember()
    {
        var key = AnyKey();
        var step = _random.Next(3) switch
        {
            0 => Step("ZRANDMEMBER", key),
            1 => Step("ZRANDMEMBER", key, Pick("1", "3", "10", "100", "0", "-1", "-5", "-40")),
            _ => Step("ZRANDMEMBER", key, Pick("2", "5", "50", "-3", "-60", "0"), "WITHSCORES"),
        };
        return [step with { Check = DiffCheck.RandomMember }, Step("ZRANGE", key, "0", "-1", "WITHSCORES")];
    }

    private DiffStep Scan()
    {
        var args = new List<string> { "ZSCAN", AnyKey(), Pick("0", "0", "0", "0", "0", "-1", "x", "+0") };
        if (_random.Next(2) == 0)
        {
            args.AddRange(["MATCH", Pick("m1*", "*", "m?", "[ab]*", "*e*", "")]);
        }
        if (_random.Next(3) == 0)
        {
            args.AddRange(["COUNT", Pick("1", "10", "1000", "5", "0", "x")]);
        }
        return Step([.. args]);
    }

    private DiffStep Lifetime() => _random.Next(5) switch
    {
        0 => Step("DEL", AnyKey()),
        1 => Step("EXPIRE", AnyKey(), Pick("1000", "1000", "-1", "0")),
        2 => Step("PERSIST", AnyKey()),
        3 => Step("TYPE", AnyKey()),
        _ => Step("EXISTS", AnyKey()),
    };

    private DiffStep WrongType()
    {
        var commands = new[]
        {
            Step("ZADD", StringKey, "1", "m"), Step("ZSCORE", StringKey, "m"), Step("ZRANGE", StringKey, "0", "-1"),
            Step("ZINCRBY", StringKey, "1", "m"), Step("ZCARD", StringKey), Step("ZREM", StringKey, "m"),
            Step("ZRANGEBYSCORE", StringKey, "-inf", "+inf"), Step("ZPOPMIN", StringKey), Step("ZRANDMEMBER", StringKey),
            Step("ZSCAN", StringKey, "0"), Step("ZRANK", StringKey, "m"), Step("ZLEXCOUNT", StringKey, "-", "+"),
            Step("ZUNION", "2", ScoreKey(), StringKey), Step("ZRANGESTORE", ScoreKey(), StringKey, "0", "-1"),
            Step("PFADD", ScoreKey(), "x"), Step("GET", ScoreKey()), Step("ZMSCORE", StringKey, "m"),
        };
        return commands[_random.Next(commands.Length)];
    }

    private DiffStep WrongArity()
    {
        var commands = new[]
        {
            Step("ZADD", ScoreKey()), Step("ZADD", ScoreKey(), "1"), Step("ZSCORE", ScoreKey()), Step("ZRANGE", ScoreKey(), "0"),
            Step("ZCARD"), Step("ZINCRBY", ScoreKey(), "1"), Step("ZRANK", ScoreKey(), "a", "b"), Step("ZREM", ScoreKey()),
            Step("ZCOUNT", ScoreKey(), "0"), Step("ZUNIONSTORE", ScoreKey(), "1"), Step("ZPOPMIN"), Step("ZMPOP", "1", ScoreKey()),
            Step("ZRANDMEMBER", ScoreKey(), "1", "WITHSCORES", "x"), Step("ZPOPMAX", ScoreKey(), "1", "2"), Step("ZSCAN", ScoreKey()),
        };
        return commands[_random.Next(commands.Length)];
    }

    private DiffStep LexWrite()
    {
        var key = LexKey();
        var args = new List<byte[]> { Bytes("ZADD"), Bytes(key) };
        if (_random.Next(4) == 0)
        {
            args.Add(Bytes(Pick("NX", "XX", "CH")));
        }
        for (var i = _random.Next(1, 5); i > 0; i--)
        {
            args.Add(Bytes("0"));
            args.Add(Bytes(Pick(LexMembers)));
        }
        return new DiffStep([.. args]);
    }

    /// <summary>WITHSCORES / LIMIT / REV / BYSCORE-BYLEX options in random order.</summary>
    private List<string> Options(bool withScores, bool limit, bool rev, bool by)
    {
        var options = new List<List<string>>();
        if (withScores && _random.Next(2) == 0)
        {
            options.Add([Pick("WITHSCORES", "withscores")]);
        }
        if (limit && _random.Next(2) == 0)
        {
            options.Add(["LIMIT", Pick("0", "0", "1", "2", "-1", "5", "x", "100"), Pick("-1", "1", "2", "3", "0", "-5", "10", "y")]);
        }
        if (rev && _random.Next(3) == 0)
        {
            options.Add(["REV"]);
        }
        if (by && _random.Next(3) == 0)
        {
            options.Add([Pick("BYSCORE", "BYLEX", "REV", "LIMIT")]);
        }
        return options.OrderBy(_ => _random.Next()).SelectMany(o => o).ToList();
    }

    private string Score(bool allowBad)
    {
        if (allowBad)
        {
            return Pick(BadScores);
        }
        return _random.Next(10) switch
        {
            < 5 => Pick(ExactScores),
            < 8 => Pick(WideScores),
            8 => (_random.NextDouble() * 200 - 100).ToString("R", CultureInfo.InvariantCulture),
            _ => (_random.Next(-400, 400) / 8.0).ToString(CultureInfo.InvariantCulture),
        };
    }

    private string ScoreBound()
    {
        var roll = _random.Next(20);
        if (roll == 0)
        {
            return Pick(BadBounds);
        }
        var bound = roll < 4 ? Pick("-inf", "+inf", "inf", "-inf", "(", "") : Score(false);
        return _random.Next(3) == 0 ? "(" + bound : bound;
    }

    private string LexBound()
    {
        var roll = _random.Next(20);
        if (roll == 0)
        {
            return Pick("a", "", "+a", "-a", "x");
        }
        if (roll < 6)
        {
            return Pick("-", "+");
        }
        return (_random.Next(2) == 0 ? "[" : "(") + Pick(LexMembers);
    }

    private string Index()
    {
        var roll = _random.Next(20);
        return roll switch
        {
            0 => Pick("x", "1.5", "9223372036854775807", "-9223372036854775808", "100", "-100"),
            < 8 => _random.Next(-8, 0).ToString(CultureInfo.InvariantCulture),
            _ => _random.Next(0, 12).ToString(CultureInfo.InvariantCulture),
        };
    }

    private string ScoreKey() => ScoreKeys[_random.Next(ScoreKeys.Length)];

    private string LexKey() => LexKeys[_random.Next(LexKeys.Length)];

    private string AnyKey()
    {
        var roll = _random.Next(20);
        return roll switch
        {
            0 => StringKey,
            1 => "missing",
            < 6 => LexKey(),
            _ => ScoreKey(),
        };
    }

    private byte[] Member() => _members[_random.Next(_members.Count)];

    private string Pick(params string[] options) => options[_random.Next(options.Length)];

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A step from string and byte[] arguments.</summary>
    private static DiffStep Step(params object[] args) =>
        new(args.Select(a => a as byte[] ?? Bytes((string)a)).ToArray());
}
