namespace Talus.Server.Commands;

/// <summary>
/// A command as data: name, arity (positive = exact argc, negative = at least), flags, key positions
/// (1-based first/last/step; last -1 = the final argument, 0/0/0 = no keys), ACL categories and handler.
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

    /// <summary>The name as CLIENT LIST and SLOWLOG show it, computed once.</summary>
    public string LowerName { get; } = Name.ToLowerInvariant();

    /// <summary>
    /// The handler may add its writes to the connection's write group (<see cref="CommandContext.TryGetWriteGroup"/>)
    /// instead of committing them alone. Every other command commits the pending group before it runs.
    /// </summary>
    public bool GroupsWrites { get; init; }

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
