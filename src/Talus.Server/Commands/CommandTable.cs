namespace Talus.Server.Commands;

/// <summary>
/// Every command the server knows, built from the tables at the bottom of each *Commands.cs file.
/// Lookup is case-insensitive and allocation-free (a span-keyed alternate lookup).
/// </summary>
public sealed class CommandTable
{
    private readonly Dictionary<string, CommandDescriptor> _commands = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CommandDescriptor>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public CommandTable()
    {
        foreach (var group in new IEnumerable<CommandDescriptor>[]
        {
            ConnectionCommands.Table,
            StringCommands.Table,
            KeyCommands.Table,
            SortCommands.Table,
            HashCommands.Table,
            SetCommands.Table,
            ServerCommands.Table,
            ConfigCommands.Table,
            ReplicationCommands.Table,
            ListCommands.Table,
            SortedSetCommands.Table,
            GeoCommands.Table,
            HyperLogLogCommands.Table,
            ScriptCommands.Table,
            MemoryCommands.Table,
            PubSubCommands.Table,
            TransactionCommands.Table,
            MonitorCommands.Table,
        })
        {
            foreach (var command in group)
            {
                _commands.Add(command.Name, command);
            }
        }
        _lookup = _commands.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _commands.Count;

    public IEnumerable<CommandDescriptor> All => _commands.Values;

    public bool TryGet(string name, out CommandDescriptor command) => _commands.TryGetValue(name, out command!);

    /// <summary>Finds a command by its raw name bytes without allocating.</summary>
    public CommandDescriptor? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length > 64)
        {
            return null;
        }
        Span<char> chars = stackalloc char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            chars[i] = (char)name[i];
        }
        return _lookup.TryGetValue(chars, out var command) ? command : null;
    }
}
