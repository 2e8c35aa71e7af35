namespace Talus.Server.Tests.HashSetDifferential;

/// <summary>Set commands over 50 keys × 30 members, with wrong types, wrong arity and bad counts mixed in.</summary>
internal sealed class SetWorkload(Random random) : Workload(random)
{
    public const int MemberCount = 30;

    protected override string KeyPrefix => "s";

    // A few integers too: redis-server keeps an all-integer set in another encoding.
    private string Member() => Random.Next(10) == 0 ? Pick("1", "2", "-3", "100", "") : $"m{Random.Next(MemberCount)}";

    private string[] Members(string command, string key, int max)
    {
        var args = new List<string> { command, key };
        for (var i = Random.Next(1, max + 1); i > 0; i--)
        {
            args.Add(Member());
        }
        return [.. args];
    }

    private string[] Keys(string command, int max, string? destination = null)
    {
        var args = new List<string> { command };
        if (destination is not null)
        {
            args.Add(destination);
        }
        for (var i = Random.Next(1, max + 1); i > 0; i--)
        {
            args.Add(Random.Next(5) == 0 ? Key() : TypedKey());
        }
        return [.. args];
    }

    public override List<DiffCommand> Next()
    {
        var key = Key();
        switch (Random.Next(100))
        {
            case < 15:
                return One(ReplyCheck.Exact, Members("SADD", key, 4));
            case < 23:
                return One(ReplyCheck.Exact, Members("SREM", key, 3));
            case < 27:
                return One(ReplyCheck.Exact, "SCARD", key);
            case < 33:
                return One(ReplyCheck.Exact, "SISMEMBER", key, Member());
            case < 37:
                return One(ReplyCheck.Exact, Members("SMISMEMBER", key, 4));
            case < 41:
                return One(ReplyCheck.Unordered, "SMEMBERS", key);
            case < 49:
                return One(ReplyCheck.Unordered, Keys(Pick("SINTER", "SUNION", "SDIFF"), 4));
            case < 55:
                return One(ReplyCheck.Exact, Keys(Pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), 3, Random.Next(6) == 0 ? Key() : TypedKey()));
            case < 58:
                return InterCard();
            case < 62:
                return One(ReplyCheck.Exact, "SMOVE", key, Random.Next(6) == 0 ? Key() : TypedKey(), Member());
            case < 64:
                return Pop(key);
            case < 69:
                return RandomMember(key);
            case < 71:
                return One(ReplyCheck.ScanUnordered, "SSCAN", key, "0", "COUNT", "1000", "MATCH", Pick("*", "m1*", "m?", "*0", "[0-9]*"));
            case < 72:
                return One(ReplyCheck.Exact, "SSCAN", key, Pick("abc", "0"), Pick("COUNT", "TYPE"), Pick("0", "x", "string", "-1"));
            case < 75:
                return WrongArity(key);
            case < 87:
                return KeyCommand();
            default:
                return One(ReplyCheck.Exact, "SISMEMBER", key, Member());
        }
    }

    private List<DiffCommand> InterCard()
    {
        switch (Random.Next(6))
        {
            case 0:
                return One(ReplyCheck.Exact, "SINTERCARD", Pick("0", "abc", "-1", "5"), TypedKey(), TypedKey());
            case 1:
                return One(ReplyCheck.Exact, "SINTERCARD", "1", TypedKey(), Pick("LIMIT", "LIMIT", "FOO"), Pick("-1", "abc", "0"));
            default:
            {
                var keys = Keys("SINTERCARD", 3);
                var args = new List<string> { "SINTERCARD", N(keys.Length - 1) };
                args.AddRange(keys.Skip(1));
                if (Random.Next(2) == 0)
                {
                    args.Add("LIMIT");
                    args.Add(N(Random.Next(0, 6)));
                }
                return One(ReplyCheck.Exact, [.. args]);
            }
        }
    }

    /// <summary>SPOP preceded by SMEMBERS of the key; the servers pop different members, so the batch ends here and the run reconciles them.</summary>
    private List<DiffCommand> Pop(string key)
    {
        string[] args = Random.Next(5) switch
        {
            0 => ["SPOP", key],
            1 => ["SPOP", key, Pick("-1", "abc", "0", "1", "2")],
            2 => ["SPOP", key, "1", "2"],
            _ => ["SPOP", key, N(Random.Next(1, 40))],
        };
        return [new DiffCommand(["SMEMBERS", key], ReplyCheck.Unordered), new DiffCommand(args, ReplyCheck.Random) { EndsBatch = true }];
    }

    /// <summary>SRANDMEMBER preceded by SMEMBERS of the same key, the reference its reply is checked against.</summary>
    private List<DiffCommand> RandomMember(string key)
    {
        string[] args = Random.Next(6) switch
        {
            0 => ["SRANDMEMBER", key],
            1 => ["SRANDMEMBER", key, Pick("abc", "-9223372036854775808", "0", "1.5")],
            2 => ["SRANDMEMBER", key, "1", "2"],
            _ => ["SRANDMEMBER", key, N(Random.Next(-60, 60))],
        };
        return [new DiffCommand(["SMEMBERS", key], ReplyCheck.Unordered), new DiffCommand(args, ReplyCheck.Random)];
    }

    private List<DiffCommand> WrongArity(string key) => Random.Next(8) switch
    {
        0 => One(ReplyCheck.Exact, "SADD", key),
        1 => One(ReplyCheck.Exact, "SREM", key),
        2 => One(ReplyCheck.Exact, "SISMEMBER", key),
        3 => One(ReplyCheck.Exact, "SMOVE", key, TypedKey()),
        4 => One(ReplyCheck.Exact, "SINTERSTORE", key),
        5 => One(ReplyCheck.Exact, "SINTERCARD", "1"),
        6 => One(ReplyCheck.Exact, "SCARD", key, key),
        _ => One(ReplyCheck.Exact, Pick("SINTER", "SUNION", "SDIFF", "SMEMBERS", "SPOP", "SRANDMEMBER", "SSCAN", "SMISMEMBER")),
    };
}
