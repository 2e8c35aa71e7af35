using System.Globalization;
using System.Text;

namespace Talus.Server.Tests;

/// <summary>
/// A seeded random stream of string and generic key commands for differential tests: valid and invalid
/// options, edge-case integers and floats, binary keys and values, wrong arity and unknown commands.
/// <para>
/// Expiry arguments are built so that no reply depends on when a command runs: every relative or absolute
/// time lies at least an hour ahead (nothing expires during a run), or in the past (the key goes at once).
/// Two expiry times in the stream never coincide: each carries the command's index as its low part, so GT/LT
/// comparisons between them come out the same on both servers however long the run takes.
/// </para>
/// </summary>
internal sealed class StringKeyStream
{
    private static readonly string[] IntEdges =
    [
        "0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
        "01", "-0", "+1", " 1", "1 ", "", "abc", "1.5", "1e3", "0x10", "18446744073709551616", "4294967296", "-2147483649",
        "2147483647", "2147483648", "100000000000000000000",
    ];

    /// <summary>The integer edge cases without small positive ones: a key living one second would expire mid-run.</summary>
    private static readonly string[] TimeEdges = IntEdges.Where(e => e != "1").ToArray();

    private static readonly string[] FloatArgs =
    [
        "1.5", "-0.25", "3.7", "0.1", "0.2", "1e3", "2.5e-3", "100", "-7", "10.50", "0", "-0", "1.1", "5.0e2", "123456789.123456789",
        "inf", "-inf", "+inf", "nan", "1e400", "-1e400", "0x1p3", ".5", "5.", " 1", "1 ", "1e", "--1", "1.7976931348623157e308",
        "abc", "", "3.14159265358979323846", "1e-10", "0.0000001", "-1.0e-5", "4.9e-324", "1e-5000", "99999999999999999999",
    ];

    private static readonly string[] Patterns = ["*", "k1*", "k?", "k[0-3]*", "*x*", "[a-", "k\\*", "*\u0000*", "bin*", "?", "k[^1]"];

    private readonly Random _rng;
    private readonly byte[][] _keys;
    private readonly long _absoluteBase;
    private int _index;

    /// <param name="nowSeconds">unix time at the start of the run; absolute expiries are placed a day after it</param>
    public StringKeyStream(int seed, long nowSeconds)
    {
        _rng = new Random(seed);
        _absoluteBase = nowSeconds + 86_400;
        var keys = new List<byte[]>();
        for (var i = 0; i < 24; i++)
        {
            keys.Add(Ascii("k" + i));
        }
        keys.Add([]);
        keys.Add([0]);
        keys.Add([(byte)'k', 0, (byte)'1']);
        keys.Add(Ascii("k1\r\n"));
        keys.Add([0xff, 0xfe, 0x80]);
        keys.Add(Ascii("bin\x01\x02"));
        keys.Add(Ascii("key with spaces"));
        keys.Add(Ascii("*"));
        _keys = [.. keys];
    }

    public IEnumerable<byte[][]> Take(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return Next();
            _index++;
        }
    }

    private byte[][] Next()
    {
        var roll = _rng.Next(100);
        return roll switch
        {
            < 10 => Set(),
            < 16 => C("GET", Key()),
            < 18 => C("SETNX", Key(), Value()),
            < 20 => C(Pick("SETEX", "PSETEX"), Key(), RelativeOrBad(seconds: _rng.Next(2) == 0), Value()),
            < 23 => MGet(),
            < 26 => MSet(Pick("MSET", "MSETNX")),
            < 28 => C("GETSET", Key(), Value()),
            < 30 => C("GETDEL", Key()),
            < 33 => GetEx(),
            < 36 => C("APPEND", Key(), Value()),
            < 38 => C("STRLEN", Key()),
            < 44 => Incr(),
            < 48 => C("INCRBYFLOAT", Key(), _rng.Next(8) == 0 ? Value() : Ascii(Pick(FloatArgs))),
            < 51 => C(Pick("GETRANGE", "SUBSTR"), Key(), IntArg(), IntArg()),
            < 54 => C("SETRANGE", Key(), OffsetArg(), Value(allowLong: false)),
            < 57 => Keys(Pick("DEL", "UNLINK")),
            < 60 => Keys(Pick("EXISTS", "TOUCH")),
            < 62 => C("TYPE", Key()),
            < 69 => Expire(),
            < 74 => C(Pick("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), Key()),
            < 76 => C("PERSIST", Key()),
            < 79 => C(Pick("RENAME", "RENAMENX"), Key(), Key()),
            < 81 => Copy(),
            < 82 => C("MOVE", Key(), Ascii(_rng.Next(8) == 0 ? Pick("16", "-1", "abc", "2147483648", "01") : Pick("0", "1", "2", "3"))),
            < 83 => C("DBSIZE"),
            < 86 => Select(),
            < 87 => C("KEYS", Ascii(Pick(Patterns))),
            < 90 => WrongArity(),
            < 92 => Unknown(),
            < 94 => Garbage(),
            _ => C("GET", Key()),
        };
    }

    private byte[][] Set()
    {
        var args = new List<byte[]> { Ascii("SET"), Key(), Value() };
        var options = _rng.Next(4) == 0 ? 0 : _rng.Next(1, 4);
        for (var i = 0; i < options; i++)
        {
            switch (_rng.Next(10))
            {
                case 0: args.Add(Ascii(Case("NX"))); break;
                case 1: args.Add(Ascii(Case("XX"))); break;
                case 2: args.Add(Ascii(Case("GET"))); break;
                case 3: args.Add(Ascii(Case("KEEPTTL"))); break;
                case 4: args.Add(Ascii(Case("EX"))); args.Add(RelativeOrBad(seconds: true)); break;
                case 5: args.Add(Ascii(Case("PX"))); args.Add(RelativeOrBad(seconds: false)); break;
                // No times in the past: Redis keeps such a key (invisible) until its expiry cycle, and DBSIZE counts it.
                case 6: args.Add(Ascii(Case("EXAT"))); args.Add(AbsoluteOrBad(seconds: true, allowPast: false)); break;
                case 7: args.Add(Ascii(Case("PXAT"))); args.Add(AbsoluteOrBad(seconds: false, allowPast: false)); break;
                case 8: args.Add(Ascii(Pick("EX", "PX", "PERSIST", "NXX", "GETT", "EXAT"))); break; // option without value, or unknown
                default: args.Add(Ascii(Case(Pick("NX", "GET", "XX")))); break;
            }
        }
        return [.. args];
    }

    private byte[][] GetEx()
    {
        var args = new List<byte[]> { Ascii("GETEX"), Key() };
        var options = _rng.Next(3) == 0 ? 0 : _rng.Next(1, 3);
        for (var i = 0; i < options; i++)
        {
            switch (_rng.Next(7))
            {
                case 0: args.Add(Ascii(Case("EX"))); args.Add(RelativeOrBad(seconds: true)); break;
                case 1: args.Add(Ascii(Case("PX"))); args.Add(RelativeOrBad(seconds: false)); break;
                case 2: args.Add(Ascii(Case("EXAT"))); args.Add(AbsoluteOrBad(seconds: true)); break;
                case 3: args.Add(Ascii(Case("PXAT"))); args.Add(AbsoluteOrBad(seconds: false)); break;
                case 4: args.Add(Ascii(Case("PERSIST"))); break;
                case 5: args.Add(Ascii(Pick("NX", "KEEPTTL", "GET", "EX"))); break;
                default: args.Add(Ascii(Case("PERSIST"))); break;
            }
        }
        return [.. args];
    }

    private byte[][] MGet()
    {
        var args = new List<byte[]> { Ascii("MGET") };
        var n = _rng.Next(1, 8);
        for (var i = 0; i < n; i++)
        {
            args.Add(Key());
        }
        return [.. args];
    }

    private byte[][] MSet(string name)
    {
        var args = new List<byte[]> { Ascii(name) };
        var n = _rng.Next(1, 6);
        for (var i = 0; i < n; i++)
        {
            args.Add(Key());
            args.Add(Value());
        }
        if (_rng.Next(15) == 0)
        {
            args.Add(Key()); // odd count: wrong number of arguments
        }
        return [.. args];
    }

    private byte[][] Keys(string name)
    {
        var args = new List<byte[]> { Ascii(name) };
        var n = _rng.Next(1, 5);
        for (var i = 0; i < n; i++)
        {
            args.Add(Key());
        }
        return [.. args];
    }

    private byte[][] Incr()
    {
        var key = Key();
        return _rng.Next(4) switch
        {
            0 => C("INCR", key),
            1 => C("DECR", key),
            2 => C("INCRBY", key, IntArg()),
            _ => C("DECRBY", key, IntArg()),
        };
    }

    private byte[][] Expire()
    {
        var (name, value) = _rng.Next(4) switch
        {
            0 => ("EXPIRE", ExpireValue(seconds: true, absolute: false)),
            1 => ("PEXPIRE", ExpireValue(seconds: false, absolute: false)),
            2 => ("EXPIREAT", ExpireValue(seconds: true, absolute: true)),
            _ => ("PEXPIREAT", ExpireValue(seconds: false, absolute: true)),
        };
        var args = new List<byte[]> { Ascii(name), Key(), value };
        var flags = _rng.Next(3) == 0 ? 0 : _rng.Next(1, 3);
        for (var i = 0; i < flags; i++)
        {
            args.Add(Ascii(Case(Pick("NX", "XX", "GT", "LT", "GT", "LT", "XX", "BAD"))));
        }
        return [.. args];
    }

    /// <summary>EXPIRE-family values: mostly far ahead, some in the past (the key is deleted), a few invalid.</summary>
    private byte[] ExpireValue(bool seconds, bool absolute) => _rng.Next(12) switch
    {
        0 => Ascii(Pick("0", "-1", "-100")),
        1 => Ascii(absolute ? Pick("1", "1000") : Pick("-5000", "-1")),
        2 => Ascii(Pick("abc", "9223372036854775807", "-9223372036854775808", "9223372036854775", "1.5", "", "92233720368547758")),
        _ => absolute ? Absolute(seconds) : Relative(seconds),
    };

    private byte[] RelativeOrBad(bool seconds) => _rng.Next(10) switch
    {
        0 => Ascii(Pick("0", "-1", "abc", "9223372036854775807", "9223372036854775", "", "1.5", "01")),
        _ => Relative(seconds),
    };

    private byte[] AbsoluteOrBad(bool seconds, bool allowPast = true) => _rng.Next(10) switch
    {
        0 => Ascii(Pick("0", "-1", "abc", "9223372036854775807", "01")),
        1 when allowPast => Ascii(Pick("1", "1000")),
        _ => Absolute(seconds),
    };

    /// <summary>Hours to months ahead; the command index makes it unique in the stream.</summary>
    private long Token() => _rng.Next(1, 60) * 1_000_000L + _index;

    private byte[] Relative(bool seconds) => Ascii((seconds ? Token() : Token() * 1000).ToString(CultureInfo.InvariantCulture));

    private byte[] Absolute(bool seconds)
    {
        var at = _absoluteBase + Token();
        return Ascii((seconds ? at : at * 1000).ToString(CultureInfo.InvariantCulture));
    }

    private byte[][] Copy()
    {
        var args = new List<byte[]> { Ascii("COPY"), Key(), Key() };
        var options = _rng.Next(3) == 0 ? 0 : _rng.Next(1, 3);
        for (var i = 0; i < options; i++)
        {
            switch (_rng.Next(6))
            {
                case 0 or 1: args.Add(Ascii(Case("REPLACE"))); break;
                case 2 or 3: args.Add(Ascii(Case("DB"))); args.Add(Ascii(Pick("0", "1", "2", "3"))); break;
                case 4: args.Add(Ascii("DB")); args.Add(Ascii(Pick("16", "-1", "abc", "2147483648", "4294967296", "01"))); break;
                default: args.Add(Ascii(Pick("DB", "FOO"))); break;
            }
        }
        return [.. args];
    }

    private byte[][] Select()
    {
        var db = _rng.Next(10) switch
        {
            < 5 => "0",
            < 8 => Pick("1", "2", "3"),
            _ => Pick("16", "-1", "abc", "4294967296", "2147483648", "01", "", "15", "-2147483649"),
        };
        return C("SELECT", Ascii(db));
    }

    private static readonly (string Name, int Arity)[] Arities =
    [
        ("GET", 2), ("SET", -3), ("SETNX", 3), ("SETEX", 4), ("PSETEX", 4), ("GETSET", 3), ("GETDEL", 2), ("GETEX", -2),
        ("MGET", -2), ("MSET", -3), ("MSETNX", -3), ("APPEND", 3), ("STRLEN", 2), ("INCR", 2), ("DECR", 2), ("INCRBY", 3),
        ("DECRBY", 3), ("INCRBYFLOAT", 3), ("GETRANGE", 4), ("SETRANGE", 4), ("DEL", -2), ("EXISTS", -2), ("TYPE", 2),
        ("TOUCH", -2), ("EXPIRE", -3), ("PEXPIRE", -3), ("EXPIREAT", -3), ("PEXPIREAT", -3), ("TTL", 2), ("PTTL", 2),
        ("PERSIST", 2), ("RENAME", 3), ("RENAMENX", 3), ("COPY", -3), ("MOVE", 3), ("DBSIZE", 1), ("SELECT", 2), ("ECHO", 2), ("KEYS", 2),
    ];

    private byte[][] WrongArity()
    {
        var (name, arity) = Arities[_rng.Next(Arities.Length)];
        var min = Math.Abs(arity);
        // Fewer than needed, or (for fixed arity) one more.
        var argc = arity > 0 && _rng.Next(2) == 0 ? arity + 1 : _rng.Next(1, min);
        if (argc >= min && arity < 0)
        {
            argc = min - 1;
        }
        var args = new List<byte[]> { Ascii(Case(name)) };
        for (var i = 1; i < argc; i++)
        {
            args.Add(Key());
        }
        return [.. args];
    }

    private byte[][] Unknown()
    {
        var name = _rng.Next(5) switch
        {
            0 => Ascii(Pick("FOO", "gett", "SETT", "HELLOO", "xyzzy")),
            1 => RandomBytes(_rng.Next(1, 12)),
            2 => Ascii(new string('Z', 150)),
            3 => [(byte)'G', 0, (byte)'T'],
            _ => Ascii("get\r\n"),
        };
        var args = new List<byte[]> { name };
        var n = _rng.Next(0, 6);
        for (var i = 0; i < n; i++)
        {
            args.Add(_rng.Next(3) == 0 ? RandomBytes(_rng.Next(0, 80)) : Value());
        }
        return [.. args];
    }

    /// <summary>Commands with non-numeric or out-of-range arguments where numbers are expected.</summary>
    private byte[][] Garbage() => _rng.Next(6) switch
    {
        0 => C("INCRBY", Key(), Ascii(Pick(IntEdges))),
        1 => C("GETRANGE", Key(), Ascii(Pick(IntEdges)), Ascii(Pick(IntEdges))),
        2 => C("SETRANGE", Key(), Ascii(Pick(IntEdges)), Value(allowLong: false)),
        3 => C("EXPIRE", Key(), Ascii(Pick(TimeEdges))),
        4 => C("SETEX", Key(), Ascii(Pick(TimeEdges)), Value()),
        _ => C("DECRBY", Key(), Ascii(Pick(IntEdges))),
    };

    private byte[] Key()
    {
        if (_rng.Next(20) == 0)
        {
            return RandomBytes(_rng.Next(0, 12));
        }
        return _keys[_rng.Next(_keys.Length)];
    }

    private byte[] Value(bool allowLong = true) => _rng.Next(20) switch
    {
        < 6 => Ascii(_rng.Next(3) switch
        {
            0 => _rng.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
            1 => _rng.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
            _ => Pick(IntEdges),
        }),
        < 9 => Ascii(Pick(FloatArgs)),
        < 13 => Ascii(Pick("hello", "world", "x", "foo bar", "Redis", "αβγ", "0.5x", "tab\there")),
        < 16 => RandomBytes(_rng.Next(0, 40)),
        16 => [],
        17 => Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(),
        _ => allowLong ? RandomBytes(_rng.Next(100, 2000)) : RandomBytes(_rng.Next(0, 200)),
    };

    private byte[] IntArg() => _rng.Next(10) switch
    {
        < 6 => Ascii(_rng.Next(-30, 30).ToString(CultureInfo.InvariantCulture)),
        < 8 => Ascii(_rng.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture)),
        _ => Ascii(Pick(IntEdges)),
    };

    private byte[] OffsetArg() => _rng.Next(10) switch
    {
        < 6 => Ascii(_rng.Next(0, 40).ToString(CultureInfo.InvariantCulture)),
        < 8 => Ascii(_rng.Next(0, 5000).ToString(CultureInfo.InvariantCulture)),
        8 => Ascii(Pick("-1", "536870912", "536870913", "9223372036854775807", "4294967296", "2147483648")),
        _ => Ascii(Pick(IntEdges)),
    };

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _rng.NextBytes(bytes);
        return bytes;
    }

    private string Pick(params string[] options) => options[_rng.Next(options.Length)];

    /// <summary>Upper, lower or mixed case, as clients may send options.</summary>
    private string Case(string option) => _rng.Next(4) switch
    {
        0 => option.ToLowerInvariant(),
        1 => string.Concat(option.Select((c, i) => i % 2 == 0 ? char.ToLowerInvariant(c) : c)),
        _ => option,
    };

    private static byte[][] C(string name, params byte[][] args) => [Ascii(name), .. args];

    private static byte[] Ascii(string s) => Encoding.UTF8.GetBytes(s);
}
