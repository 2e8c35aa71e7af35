namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>Hash commands over 50 keys × 30 fields, with wrong types, wrong arity and bad numbers mixed in.</summary>
internal sealed class HashWorkload(Random random) : Workload(random)
{
    public const int FieldCount = 30;

    protected override string KeyPrefix => "h";

    private string Field() => Random.Next(40) == 0 ? "" : $"f{Random.Next(FieldCount)}";

    private string Value() => Random.Next(12) switch
    {
        0 => Pick("abc", "", "x y", "0x10", "inf", "1e400"),
        1 => Pick("1.5", "0.1", "-3.25e2", "1e20", "0.000003814697265625", "-0"),
        2 => Pick("9223372036854775807", "-9223372036854775808", "9223372036854775000"),
        3 => new string((char)('a' + Random.Next(26)), 70 + Random.Next(40)), // long values: redis-server stores the hash as a table
        _ => N(Random.Next(-50, 100)),
    };

    private string FloatArgument() => Random.Next(8) switch
    {
        0 => Pick("abc", "", " 1", "1 ", "nan", "1e5000", "inf", "-inf", "1e", "."),
        1 => Pick("0x1p-3", "1e300", "-1e300", "1e-30", "0x10", "+2.5", "5."),
        _ => Pick("0.1", "0.2", "-0.25", "1.5e3", "3", "-7", "0.000003814697265625", "2.5e-3"),
    };

    public override List<DiffCommand> Next()
    {
        var key = Key();
        switch (Random.Next(100))
        {
            case < 14:
            {
                var args = new List<string> { "HSET", key };
                for (var i = Random.Next(1, 5); i > 0; i--)
                {
                    args.Add(Field());
                    args.Add(Value());
                }
                return One(ReplyCheck.Exact, [.. args]);
            }
            case < 17:
                return One(ReplyCheck.Exact, "HMSET", key, Field(), Value(), Field(), Value());
            case < 21:
                return One(ReplyCheck.Exact, "HSETNX", key, Field(), Value());
            case < 31:
                return One(ReplyCheck.Exact, "HGET", key, Field());
            case < 35:
                return One(ReplyCheck.Exact, "HMGET", key, Field(), Field(), Field());
            case < 43:
            {
                var args = new List<string> { "HDEL", key };
                for (var i = Random.Next(1, 4); i > 0; i--)
                {
                    args.Add(Field());
                }
                return One(ReplyCheck.Exact, [.. args]);
            }
            case < 47:
                return One(ReplyCheck.Exact, "HLEN", key);
            case < 51:
                return One(ReplyCheck.Exact, "HEXISTS", key, Field());
            case < 54:
                return One(ReplyCheck.Exact, "HSTRLEN", key, Field());
            case < 56:
                return One(ReplyCheck.UnorderedPairs, "HGETALL", key);
            case < 58:
                return One(ReplyCheck.Unordered, Pick("HKEYS", "HVALS"), key);
            case < 65:
                return One(ReplyCheck.Exact, "HINCRBY", key, Field(), IntegerArgument());
            case < 71:
                return One(ReplyCheck.Exact, "HINCRBYFLOAT", key, Field(), FloatArgument());
            case < 76:
                return RandomField(key);
            case < 78:
                return One(ReplyCheck.ScanUnorderedPairs, "HSCAN", key, "0", "COUNT", "1000", "MATCH", Pick("*", "f1*", "f?", "*0", "[a-f]2*"));
            case < 79:
                return One(ReplyCheck.Exact, "HSCAN", key, Pick("abc", "0"), Pick("COUNT", "TYPE"), Pick("0", "x", "string", "-1"));
            case < 82:
                return WrongArity(key);
            case < 93:
                return KeyCommand();
            default:
                return One(ReplyCheck.Exact, "HGET", key, Field());
        }
    }

    /// <summary>HRANDFIELD preceded by HGETALL of the same key, the reference its reply is checked against.</summary>
    private List<DiffCommand> RandomField(string key)
    {
        string[] args = Random.Next(8) switch
        {
            0 => ["HRANDFIELD", key],
            1 => ["HRANDFIELD", key, Pick("abc", "-9223372036854775808", "0", "1.5")],
            2 => ["HRANDFIELD", key, "5", Pick("WITHVALUE", "WITHVALUES", "withvalues")],
            3 => ["HRANDFIELD", key, "-9223372036854775807", "WITHVALUES"],
            4 => ["HRANDFIELD", key, N(Random.Next(-60, 0)), "WITHVALUES"],
            5 => ["HRANDFIELD", key, N(Random.Next(1, 60)), "WITHVALUES"],
            _ => ["HRANDFIELD", key, N(Random.Next(-60, 60))],
        };
        return [new DiffCommand(["HGETALL", key], ReplyCheck.UnorderedPairs), new DiffCommand(args, ReplyCheck.Random)];
    }

    private List<DiffCommand> WrongArity(string key) => Random.Next(10) switch
    {
        0 => One(ReplyCheck.Exact, "HSET", key, Field()),
        1 => One(ReplyCheck.Exact, "HSET", key, Field(), Value(), Field()),
        2 => One(ReplyCheck.Exact, "HMSET", key, Field(), Value(), Field()),
        3 => One(ReplyCheck.Exact, "HGET", key),
        4 => One(ReplyCheck.Exact, "HMGET", key),
        5 => One(ReplyCheck.Exact, "HDEL", key),
        6 => One(ReplyCheck.Exact, "HINCRBY", key, Field()),
        7 => One(ReplyCheck.Exact, "HSETNX", key, Field()),
        8 => One(ReplyCheck.Exact, "HRANDFIELD", key, "1", "WITHVALUES", "x"),
        _ => One(ReplyCheck.Exact, Pick("HSCAN", "HLEN", "HGETALL", "HKEYS", "HVALS", "HINCRBYFLOAT", "HSTRLEN", "HEXISTS")),
    };
}
