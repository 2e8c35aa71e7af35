namespace Talus.Server.Commands;

/// <summary>
/// The documentation of one Redis 7.0 command or subcommand ("client|kill"), as COMMAND DOCS reports it,
/// plus the ACL categories, tips and key flags (of a command with a single key spec) COMMAND INFO reports for it. Loaded from CommandDocs.tsv; the history and
/// the argument tree stay JSON until a COMMAND DOCS reply needs them (empty when the command has none).
/// </summary>
public sealed record CommandDoc(
    string Name,
    string Group,
    string Since,
    string Complexity,
    IReadOnlyList<string> DocFlags,
    string DeprecatedSince,
    string ReplacedBy,
    IReadOnlyList<string> AclCategories,
    IReadOnlyList<string> Tips,
    IReadOnlyList<string> KeyFlags,
    string Summary,
    string HistoryJson,
    string ArgumentsJson);
