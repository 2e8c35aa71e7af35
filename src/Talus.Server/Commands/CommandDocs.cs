using System.Text.Json;
using Talus.Protocol;

namespace Talus.Server.Commands;

/// <summary>
/// Redis 7.0.15's command documentation (summary, since, group, complexity, deprecation, history, argument
/// syntax, ACL categories, tips), embedded from CommandDocs.tsv, so COMMAND DOCS reads as Redis' for every
/// command Talus implements, including those other command files add later, without each table repeating it.
/// </summary>
public static class CommandDocs
{
    private static readonly Lazy<Dictionary<string, CommandDoc>> Docs = new(Load);

    /// <summary>The documentation of <paramref name="fullName"/> ("get", "client|kill"), or null when Redis has no such command.</summary>
    public static CommandDoc? Find(string fullName) => Docs.Value.GetValueOrDefault(fullName.ToLowerInvariant());

    private static Dictionary<string, CommandDoc> Load()
    {
        using var stream = typeof(CommandDocs).Assembly.GetManifestResourceStream("Talus.Server.Commands.CommandDocs.tsv")
            ?? throw new InvalidOperationException("CommandDocs.tsv is not embedded in the server assembly");
        using var reader = new StreamReader(stream);
        var docs = new Dictionary<string, CommandDoc>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var c = line.Split('\t');
            if (c.Length != 13)
            {
                throw new InvalidDataException($"CommandDocs.tsv: expected 13 columns, got {c.Length} in '{line}'");
            }
            docs[c[0]] = new CommandDoc(c[0], c[1], c[2], c[3], Words(c[4]), c[5], c[6], Words(c[7]), Words(c[8]), Words(c[9]), c[10], c[11], c[12]);
        }
        return docs;
    }

    private static string[] Words(string column) => column.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Writes a command's history: a set of [version, change] pairs.</summary>
    public static void WriteHistory(RespWriter w, string json)
    {
        using var history = JsonDocument.Parse(json);
        w.WriteSetHeader(history.RootElement.GetArrayLength());
        foreach (var entry in history.RootElement.EnumerateArray())
        {
            w.WriteArrayHeader(entry.GetArrayLength());
            foreach (var text in entry.EnumerateArray())
            {
                w.WriteBulk(text.GetString()!);
            }
        }
    }

    /// <summary>
    /// Writes a command's argument tree: an array of maps whose "flags" are a set of status strings, whose
    /// "arguments" nest the same shape, and whose other fields are strings or integers.
    /// </summary>
    public static void WriteArguments(RespWriter w, string json)
    {
        using var arguments = JsonDocument.Parse(json);
        WriteArguments(w, arguments.RootElement);
    }

    private static void WriteArguments(RespWriter w, JsonElement arguments)
    {
        w.WriteArrayHeader(arguments.GetArrayLength());
        foreach (var argument in arguments.EnumerateArray())
        {
            var fields = argument.EnumerateArray().ToList();
            w.WriteMapHeader(fields.Count / 2);
            for (var i = 0; i + 1 < fields.Count; i += 2)
            {
                var name = fields[i].GetString()!;
                var value = fields[i + 1];
                w.WriteBulk(name);
                switch (name)
                {
                    case "arguments":
                        WriteArguments(w, value);
                        break;
                    case "flags":
                        w.WriteSetHeader(value.GetArrayLength());
                        foreach (var flag in value.EnumerateArray())
                        {
                            w.WriteSimpleString(flag.GetString()!);
                        }
                        break;
                    default:
                        if (value.ValueKind == JsonValueKind.Number)
                        {
                            w.WriteInteger(value.GetInt64());
                        }
                        else
                        {
                            w.WriteBulk(value.GetString()!);
                        }
                        break;
                }
            }
        }
    }
}
