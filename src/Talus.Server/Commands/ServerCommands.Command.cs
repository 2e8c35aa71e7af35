using System.Text;
using Talus.Protocol;
using Talus.Storage.Util;

namespace Talus.Server.Commands;

/// <summary>
/// COMMAND and its subcommands (COUNT LIST INFO DOCS GETKEYS GETKEYSANDFLAGS HELP), in Redis 7.0's reply
/// shapes, all derived from the command table (see <see cref="CommandMetadata"/> and <see cref="CommandDocs"/>).
/// </summary>
public static partial class ServerCommands
{
    private static void Command(CommandContext ctx)
    {
        if (ctx.Argc == 1)
        {
            WriteAllCommandInfo(ctx);
            return;
        }
        ContainerCommand.Dispatch(ctx);
    }

    private static void CommandCount(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Server.Commands.Count);

    private static void CommandInfo(CommandContext ctx)
    {
        if (ctx.Argc == 2)
        {
            WriteAllCommandInfo(ctx);
            return;
        }
        ctx.Writer.WriteArrayHeader(ctx.Argc - 2);
        for (var i = 2; i < ctx.Argc; i++)
        {
            if (Resolve(ctx, ctx.Args.GetString(i)) is { } command)
            {
                WriteCommandInfo(ctx.Writer, command);
            }
            else
            {
                ctx.Writer.WriteNull();
            }
        }
    }

    private static void WriteAllCommandInfo(CommandContext ctx)
    {
        var all = ctx.Server.Commands.All.ToList();
        ctx.Writer.WriteArrayHeader(all.Count);
        foreach (var command in all)
        {
            WriteCommandInfo(ctx.Writer, command);
        }
    }

    private static void CommandDocsReply(CommandContext ctx)
    {
        var found = new List<CommandDescriptor>();
        if (ctx.Argc == 2)
        {
            found.AddRange(ctx.Server.Commands.All);
        }
        for (var i = 2; i < ctx.Argc; i++)
        {
            if (Resolve(ctx, ctx.Args.GetString(i)) is { } command)
            {
                found.Add(command);
            }
        }
        ctx.Writer.WriteMapHeader(found.Count);
        foreach (var command in found)
        {
            ctx.Writer.WriteBulk(command.FullName);
            WriteCommandDoc(ctx.Writer, command);
        }
    }

    private static void CommandList(CommandContext ctx)
    {
        Func<CommandDescriptor, bool> keep = _ => true;
        if (ctx.Argc == 5 && ctx.Args.Is(2, "FILTERBY"))
        {
            var value = ctx.Args.GetString(4);
            if (ctx.Args.Is(3, "MODULE"))
            {
                keep = _ => false; // Talus loads no modules
            }
            else if (ctx.Args.Is(3, "ACLCAT"))
            {
                var category = value.ToLowerInvariant();
                keep = c => CommandMetadata.AclCategories(c).Contains(category);
            }
            else if (ctx.Args.Is(3, "PATTERN"))
            {
                var pattern = Encoding.UTF8.GetBytes(value);
                keep = c => Glob.Match(pattern, Encoding.UTF8.GetBytes(c.FullName), ignoreCase: true);
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        else if (ctx.Argc != 2)
        {
            ctx.SyntaxError();
            return;
        }
        var names = ctx.Server.Commands.All
            .SelectMany(c => c.Subcommands.Prepend(c))
            .Where(keep)
            .Select(c => c.FullName)
            .ToList();
        ctx.Writer.WriteArrayHeader(names.Count);
        foreach (var name in names)
        {
            ctx.Writer.WriteBulk(name);
        }
    }

    private static void CommandGetKeys(CommandContext ctx) => GetKeys(ctx, withFlags: false);

    private static void CommandGetKeysAndFlags(CommandContext ctx) => GetKeys(ctx, withFlags: true);

    /// <summary>
    /// COMMAND GETKEYS: the keys of a full command line, from the key positions of its table entry. Checks in
    /// Redis' order: known command, has keys at all, then arity.
    /// </summary>
    private static void GetKeys(CommandContext ctx, bool withFlags)
    {
        var command = ctx.Server.Commands.Find(ctx.Args[2]);
        if (command is { Subcommands.Count: > 0 } && ctx.Argc > 3)
        {
            command = command.FindSubcommand(ctx.Args[3]);
        }
        if (command is null)
        {
            ctx.Writer.WriteError("ERR Invalid command specified");
            return;
        }
        if (command.FirstKey <= 0)
        {
            ctx.Writer.WriteError("ERR The command has no key arguments");
            return;
        }
        var argc = ctx.Argc - 2;
        if (!command.ArityMatches(argc))
        {
            ctx.Writer.WriteError("ERR Invalid number of arguments specified for command");
            return;
        }
        var keys = command.KeyIndices(argc).ToList();
        if (keys.Count == 0)
        {
            ctx.Writer.WriteError("ERR Invalid arguments specified for command");
            return;
        }
        var w = ctx.Writer;
        w.WriteArrayHeader(keys.Count);
        foreach (var index in keys)
        {
            if (!withFlags)
            {
                w.WriteBulk(ctx.Args[index + 2]);
                continue;
            }
            w.WriteArrayHeader(2);
            w.WriteBulk(ctx.Args[index + 2]);
            WriteStatusSet(w, CommandMetadata.KeyFlags(command));
        }
    }

    private static void CommandHelp(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.");

    /// <summary>A command by its full name ("get", "config|get"), case-insensitive; null when unknown.</summary>
    private static CommandDescriptor? Resolve(CommandContext ctx, string name)
    {
        var bar = name.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0)
        {
            return ctx.Server.Commands.TryGet(name, out var command) ? command : null;
        }
        return ctx.Server.Commands.TryGet(name[..bar], out var container)
            ? container.FindSubcommand(Encoding.UTF8.GetBytes(name[(bar + 1)..]))
            : null;
    }

    /// <summary>
    /// One COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL categories, tips, key specs,
    /// subcommands. Flags, categories, tips and key specs are sets in RESP3; subcommands an array unless empty.
    /// </summary>
    private static void WriteCommandInfo(RespWriter w, CommandDescriptor command)
    {
        w.WriteArrayHeader(10);
        w.WriteBulk(command.FullName);
        w.WriteInteger(command.Arity);
        WriteStatusSet(w, CommandMetadata.Flags(command).ToList());
        var hasKeys = command.FirstKey > 0;
        w.WriteInteger(hasKeys ? command.FirstKey : 0);
        w.WriteInteger(hasKeys ? command.LastKey : 0);
        w.WriteInteger(hasKeys ? command.Step : 0);
        WriteStatusSet(w, CommandMetadata.AclCategories(command).Select(c => "@" + c).ToList());
        var tips = CommandMetadata.Tips(command);
        w.WriteSetHeader(tips.Count);
        foreach (var tip in tips)
        {
            w.WriteBulk(tip);
        }
        w.WriteSetHeader(hasKeys ? 1 : 0);
        if (hasKeys)
        {
            WriteKeySpec(w, command);
        }
        if (command.Subcommands.Count == 0)
        {
            w.WriteSetHeader(0);
            return;
        }
        w.WriteArrayHeader(command.Subcommands.Count);
        foreach (var sub in command.Subcommands)
        {
            WriteCommandInfo(w, sub);
        }
    }

    /// <summary>The one key spec first/last/step describe: an index search, then a range relative to it.</summary>
    private static void WriteKeySpec(RespWriter w, CommandDescriptor command)
    {
        w.WriteMapHeader(3);
        w.WriteBulk("flags");
        WriteStatusSet(w, CommandMetadata.KeyFlags(command));
        w.WriteBulk("begin_search");
        w.WriteMapHeader(2);
        w.WriteBulk("type");
        w.WriteBulk("index");
        w.WriteBulk("spec");
        w.WriteMapHeader(1);
        w.WriteBulk("index");
        w.WriteInteger(command.FirstKey);
        w.WriteBulk("find_keys");
        w.WriteMapHeader(2);
        w.WriteBulk("type");
        w.WriteBulk("range");
        w.WriteBulk("spec");
        w.WriteMapHeader(3);
        w.WriteBulk("lastkey");
        w.WriteInteger(command.LastKey < 0 ? command.LastKey : command.LastKey - command.FirstKey);
        w.WriteBulk("keystep");
        w.WriteInteger(command.Step);
        w.WriteBulk("limit");
        w.WriteInteger(0);
    }

    /// <summary>One COMMAND DOCS map, fields in Redis' order: summary, since, group, complexity, deprecation, history, arguments, subcommands.</summary>
    private static void WriteCommandDoc(RespWriter w, CommandDescriptor command)
    {
        var doc = CommandDocs.Find(command.FullName);
        var fields = new List<(string Name, Action Write)>
        {
            ("summary", () => w.WriteBulk(doc?.Summary ?? "A Talus command")),
            ("since", () => w.WriteBulk(doc?.Since ?? Program.Version)),
            ("group", () => w.WriteBulk(CommandMetadata.GroupOf(command).DocGroup)),
        };
        if (doc is { Complexity.Length: > 0 })
        {
            fields.Add(("complexity", () => w.WriteBulk(doc.Complexity)));
        }
        if (doc is { DocFlags.Count: > 0 })
        {
            fields.Add(("doc_flags", () => WriteStatusSet(w, doc.DocFlags)));
        }
        if (doc is { DeprecatedSince.Length: > 0 })
        {
            fields.Add(("deprecated_since", () => w.WriteBulk(doc.DeprecatedSince)));
        }
        if (doc is { ReplacedBy.Length: > 0 })
        {
            fields.Add(("replaced_by", () => w.WriteBulk(doc.ReplacedBy)));
        }
        if (doc is { HistoryJson.Length: > 0 })
        {
            fields.Add(("history", () => CommandDocs.WriteHistory(w, doc.HistoryJson)));
        }
        if (doc is { ArgumentsJson.Length: > 0 })
        {
            fields.Add(("arguments", () => CommandDocs.WriteArguments(w, doc.ArgumentsJson)));
        }
        if (command.Subcommands.Count > 0)
        {
            fields.Add(("subcommands", () =>
            {
                w.WriteMapHeader(command.Subcommands.Count);
                foreach (var sub in command.Subcommands)
                {
                    w.WriteBulk(sub.FullName);
                    WriteCommandDoc(w, sub);
                }
            }));
        }
        w.WriteMapHeader(fields.Count);
        foreach (var (name, write) in fields)
        {
            w.WriteBulk(name);
            write();
        }
    }

    private static void WriteStatusSet(RespWriter w, IReadOnlyList<string> items)
    {
        w.WriteSetHeader(items.Count);
        foreach (var item in items)
        {
            w.WriteSimpleString(item);
        }
    }

    private const CommandFlags CommandIntrospection = CommandFlags.Loading | CommandFlags.Stale;

    private static CommandDescriptor[] CommandSubcommands() =>
    [
        new("COMMAND|COUNT", 2, CommandIntrospection, 0, 0, 0, CommandCount, "server"),
        new("COMMAND|LIST", -2, CommandIntrospection, 0, 0, 0, CommandList, "server"),
        new("COMMAND|INFO", -2, CommandIntrospection, 0, 0, 0, CommandInfo, "server"),
        new("COMMAND|DOCS", -2, CommandIntrospection, 0, 0, 0, CommandDocsReply, "server"),
        new("COMMAND|GETKEYS", -4, CommandIntrospection, 0, 0, 0, CommandGetKeys, "server"),
        new("COMMAND|GETKEYSANDFLAGS", -4, CommandIntrospection, 0, 0, 0, CommandGetKeysAndFlags, "server"),
        new("COMMAND|HELP", 2, CommandIntrospection, 0, 0, 0, CommandHelp, "server"),
    ];
}
