namespace Talus.Server.Commands;

/// <summary>
/// What COMMAND INFO, DOCS and LIST report about a command, derived from its <see cref="CommandDescriptor"/>
/// the way Redis 7.0 derives it from its own table: flag names, ACL categories (@read @write @fast @slow from the
/// flags, the others from the command's Redis documentation or its group, plus those flags imply), the
/// documentation group and the key specs implied by first/last/step.
/// </summary>
public static class CommandMetadata
{
    /// <summary>Redis' flag names, in the order COMMAND INFO lists them.</summary>
    private static readonly (CommandFlags Flag, string Name)[] FlagNames =
    [
        (CommandFlags.Write, "write"),
        (CommandFlags.ReadOnly, "readonly"),
        (CommandFlags.DenyOom, "denyoom"),
        (CommandFlags.Admin, "admin"),
        (CommandFlags.PubSub, "pubsub"),
        (CommandFlags.NoScript, "noscript"),
        (CommandFlags.Blocking, "blocking"),
        (CommandFlags.Loading, "loading"),
        (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"),
        (CommandFlags.Fast, "fast"),
        (CommandFlags.NoAuth, "no_auth"),
        (CommandFlags.NoMulti, "no_multi"),
    ];

    /// <summary>Redis' ACL categories in their bit order, which is the order COMMAND INFO lists them in.</summary>
    public static readonly string[] AclCategoryOrder =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
        "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ];

    /// <summary>
    /// Categories that follow Talus' own flags. Redis also derives @admin, @pubsub and @blocking from flags but
    /// lists some of them explicitly too (LASTSAVE is @admin without the admin flag), so those are taken from
    /// both the documentation and the flags.
    /// </summary>
    private static readonly HashSet<string> FlagCategories = ["read", "write", "fast", "slow"];

    public static IEnumerable<string> Flags(CommandDescriptor command) =>
        FlagNames.Where(f => (command.Flags & f.Flag) != 0).Select(f => f.Name);

    /// <summary>ACL categories without the '@', in Redis' order.</summary>
    public static IReadOnlyList<string> AclCategories(CommandDescriptor command)
    {
        var categories = new HashSet<string>();
        if (CommandDocs.Find(command.FullName) is { } doc)
        {
            categories.UnionWith(doc.AclCategories.Where(c => !FlagCategories.Contains(c)));
        }
        else if (GroupOf(command).AclCategory is { } groupCategory)
        {
            categories.Add(groupCategory);
        }
        var flags = command.Flags;
        if ((flags & CommandFlags.Write) != 0)
        {
            categories.Add("write");
        }
        if ((flags & CommandFlags.ReadOnly) != 0)
        {
            categories.Add("read");
        }
        if ((flags & CommandFlags.Admin) != 0)
        {
            categories.Add("admin");
            categories.Add("dangerous");
        }
        if ((flags & CommandFlags.PubSub) != 0)
        {
            categories.Add("pubsub");
        }
        categories.Add((flags & CommandFlags.Fast) != 0 ? "fast" : "slow");
        if ((flags & CommandFlags.Blocking) != 0)
        {
            categories.Add("blocking");
        }
        return AclCategoryOrder.Where(categories.Contains).ToList();
    }

    /// <summary>The COMMAND DOCS group of a command and the ACL category its group implies (if any).</summary>
    public static (string DocGroup, string? AclCategory) GroupOf(CommandDescriptor command)
    {
        if (CommandDocs.Find(command.FullName) is { } doc)
        {
            return (doc.Group, GroupCategory(doc.Group));
        }
        var group = command.Group.ToLowerInvariant() switch
        {
            "keyspace" => "generic",
            "zset" or "sortedset" => "sorted-set",
            "transaction" => "transactions",
            "replication" => "server",
            var other => other,
        };
        return (group, GroupCategory(group));
    }

    private static string? GroupCategory(string docGroup) => docGroup switch
    {
        "generic" => "keyspace",
        "sorted-set" => "sortedset",
        "transactions" => "transaction",
        "server" or "cluster" or "sentinel" => null,
        var other => other,
    };

    /// <summary>
    /// Flags of the keys of a command, for its key spec and COMMAND GETKEYSANDFLAGS: Redis' own when it has a
    /// single key spec for the command; otherwise read-write updates for a write and read accesses for a read,
    /// since Talus' table does not say whether a write inserts, overwrites or deletes.
    /// </summary>
    public static IReadOnlyList<string> KeyFlags(CommandDescriptor command) =>
        CommandDocs.Find(command.FullName) is { KeyFlags.Count: > 0 } doc ? doc.KeyFlags
        : command.IsWrite ? ["RW", "update"] : ["RO", "access"];

    /// <summary>The tips of a command (nondeterministic_output, request_policy:...), from its Redis documentation.</summary>
    public static IReadOnlyList<string> Tips(CommandDescriptor command) => CommandDocs.Find(command.FullName)?.Tips ?? [];
}
