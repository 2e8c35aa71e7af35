using System.Text;

namespace Talus.Server.Commands;

/// <summary>
/// A command as data: name, arity (positive = exact argc, negative = at least), flags, key positions
/// (1-based first/last/step; last -1 = the final argument, 0/0/0 = no keys), group and handler. A container
/// command (CLIENT, CONFIG, COMMAND) lists its <see cref="Subcommands"/>, named "CONTAINER|SUB" as in Redis,
/// each with its own arity (counting the container's name) and flags.
/// </summary>
public sealed record CommandDescriptor(
    string Name,
    int Arity,
    CommandFlags Flags,
    int FirstKey,
    int LastKey,
    int Step,
    CommandHandler Handler,
    string Group = "generic")
{
    public bool IsWrite => (Flags & CommandFlags.Write) != 0;

    /// <summary>Held by CLIENT PAUSE WRITE: the writes, and the commands Redis treats as "may replicate".</summary>
    public bool IsHeldByWritePause => (Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0;

    /// <summary>
    /// The handler may add its writes to the connection's write group (<see cref="CommandContext.TryGetWriteGroup"/>)
    /// instead of committing them alone. Every other command commits the pending group before it runs.
    /// </summary>
    public bool GroupsWrites { get; init; }

    /// <summary>
    /// A read-modify-write command on the one key at argument 1 whose storage operation locks only that key's
    /// stripe: pipelined, it may join the connection's <see cref="Host.PipelineGroup"/> (one batch for many commands).
    /// Not for a command that rewrites a large value each time: PFADD (a 12 KB register set per call) measured
    /// slower grouped, since every grouped call copies the whole value into the group's batch and its index.
    /// </summary>
    public bool GroupsReadModifyWrite { get; init; }

    /// <summary>
    /// The dispatcher runs it holding the execution gate exclusively instead of shared (EXEC: no other command
    /// runs until it ends).
    /// </summary>
    public bool Exclusive { get; init; }

    /// <summary>The subcommands of a container command; empty for an ordinary command.</summary>
    public IReadOnlyList<CommandDescriptor> Subcommands { get; init; } = [];

    /// <summary>The lower-case name clients see: "get", "client|kill".</summary>
    public string FullName { get; } = Name.ToLowerInvariant();

    /// <summary>The subcommand named <paramref name="name"/> (case-insensitive), or null.</summary>
    public CommandDescriptor? FindSubcommand(ReadOnlySpan<byte> name)
    {
        foreach (var sub in Subcommands)
        {
            var suffix = sub.Name.AsSpan(sub.Name.IndexOf('|') + 1);
            if (suffix.Length == name.Length && Ascii.EqualsIgnoreCase(name, suffix))
            {
                return sub;
            }
        }
        return null;
    }

    public bool ArityMatches(int argc) => Arity >= 0 ? argc == Arity : argc >= -Arity;

    /// <summary>Indices of the key arguments of one invocation (from the key positions above).</summary>
    public IEnumerable<int> KeyIndices(int argc)
    {
        if (FirstKey <= 0)
        {
            yield break;
        }
        var last = LastKey < 0 ? argc + LastKey : LastKey;
        for (var i = FirstKey; i <= last && i < argc; i += Math.Max(1, Step))
        {
            yield return i;
        }
    }
}
