using System.Globalization;
using System.Text;
using Talus.Server.Host;

namespace Talus.Server.Commands;

/// <summary>
/// CLIENT and its subcommands: ID SETNAME GETNAME LIST INFO KILL SETINFO NO-EVICT NO-TOUCH REPLY PAUSE
/// UNPAUSE HELP, with Redis 7.0's replies and errors (SETINFO and NO-TOUCH as Redis 7.2 has them).
/// </summary>
public static partial class ConnectionCommands
{
    private static void ClientId(CommandContext ctx) => ctx.Writer.WriteInteger(ctx.Session.Id);

    private static void ClientSetName(CommandContext ctx)
    {
        var name = ctx.Args.GetString(2);
        if (!ClientNameIsValid(name))
        {
            ctx.Writer.WriteError("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        ctx.Session.Name = name.Length == 0 ? null : name;
        ctx.Writer.WriteOk();
    }

    private static void ClientGetName(CommandContext ctx)
    {
        if (ctx.Session.Name is { } name)
        {
            ctx.Writer.WriteBulk(name);
        }
        else
        {
            ctx.Writer.WriteNull();
        }
    }

    private static void ClientSetInfo(CommandContext ctx)
    {
        var attribute = ctx.Args.GetString(2);
        var value = ctx.Args.GetString(3);
        var isName = attribute.Equals("lib-name", StringComparison.OrdinalIgnoreCase);
        if (!isName && !attribute.Equals("lib-ver", StringComparison.OrdinalIgnoreCase))
        {
            ctx.Writer.WriteError($"ERR Unrecognized option '{attribute}'");
            return;
        }
        if (!ClientNameIsValid(value))
        {
            ctx.Writer.WriteError($"ERR {attribute} cannot contain spaces, newlines or special characters.");
            return;
        }
        var stored = value.Length == 0 ? null : value;
        if (isName)
        {
            ctx.Session.LibName = stored;
        }
        else
        {
            ctx.Session.LibVersion = stored;
        }
        ctx.Writer.WriteOk();
    }

    private static void ClientInfo(CommandContext ctx) =>
        ctx.Writer.WriteVerbatim(ClientInfoLine(ctx, ctx.Session) + "\n");

    private static void ClientList(CommandContext ctx)
    {
        IEnumerable<ClientSession> clients;
        if (ctx.Argc == 4 && ctx.Args.Is(2, "TYPE"))
        {
            if (ParseClientKind(ctx.Args.GetString(3)) is not { } kind)
            {
                ctx.Writer.WriteError($"ERR Unknown client type '{ctx.Args.GetString(3)}'");
                return;
            }
            clients = ctx.Server.Clients.All.Where(c => c.Kind == kind);
        }
        else if (ctx.Argc > 3 && ctx.Args.Is(2, "ID"))
        {
            var found = new List<ClientSession>();
            for (var i = 3; i < ctx.Argc; i++)
            {
                if (!ctx.Args.TryGetLong(i, out var id))
                {
                    ctx.Writer.WriteError("ERR Invalid client ID");
                    return;
                }
                if (ctx.Server.Clients.Find(id) is { } client)
                {
                    found.Add(client);
                }
            }
            clients = found;
        }
        else if (ctx.Argc != 2)
        {
            ctx.SyntaxError();
            return;
        }
        else
        {
            clients = ctx.Server.Clients.All;
        }
        var text = new StringBuilder();
        foreach (var client in clients)
        {
            text.Append(ClientInfoLine(ctx, client)).Append('\n');
        }
        ctx.Writer.WriteVerbatim(text.ToString());
    }

    /// <summary>
    /// One CLIENT LIST line with Redis 7.0's fields in its order, then lib-name and lib-ver as Redis 7.2 adds
    /// them. Fields Talus does not track (MULTI state, argv of other clients, shard channel counts) read as an idle
    /// client's would; buffer sizes are those of the connection's pipe.
    /// </summary>
    private static string ClientInfoLine(CommandContext ctx, ClientSession c)
    {
        const long ReadBufferSize = 16 * 1024;
        var now = Environment.TickCount64;
        long argvMem = 0;
        if (c == ctx.Session)
        {
            for (var i = 0; i < ctx.Argc; i++)
            {
                argvMem += ctx.Args[i].Length;
            }
        }
        var qbuf = c.QueryBufferBytes;
        var omem = c.OutputBytes;
        var fields = new (string Name, object Value)[]
        {
            ("id", c.Id), ("addr", c.Address), ("laddr", c.LocalAddress), ("fd", c.Fd), ("name", c.Name ?? ""),
            ("age", (now - c.CreatedAt) / 1000), ("idle", (now - c.LastInteraction) / 1000), ("flags", ClientFlags(c)),
            ("db", c.DbIndex), ("sub", c.SubscribedChannels), ("psub", c.SubscribedPatterns), ("ssub", 0), ("multi", c.Transaction is { InMulti: true } tx ? tx.QueuedCount : -1), ("qbuf", qbuf),
            ("qbuf-free", Math.Max(0, ReadBufferSize - qbuf)), ("argv-mem", argvMem), ("multi-mem", c.Transaction is { InMulti: true } mt ? mt.QueuedBytes : 0),
            ("rbs", ReadBufferSize), ("rbp", ReadBufferSize), ("obl", 0), ("oll", 0), ("omem", omem),
            ("tot-mem", ReadBufferSize + qbuf + argvMem + omem), ("events", omem > 0 ? "rw" : "r"), ("cmd", c.LastCommand),
            ("user", c.User), ("redir", -1), ("resp", (int)c.Protocol), ("lib-name", c.LibName ?? ""), ("lib-ver", c.LibVersion ?? ""),
        };
        return string.Join(' ', fields.Select(f => f.Name + "=" + Convert.ToString(f.Value, CultureInfo.InvariantCulture)));
    }

    private static string ClientFlags(ClientSession c)
    {
        var flags = new StringBuilder();
        if (c.Monitoring)
        {
            flags.Append('O');
        }
        switch (c.Kind)
        {
            case ClientKind.Replica:
                flags.Append('S');
                break;
            case ClientKind.Master:
                flags.Append('M');
                break;
            case ClientKind.PubSub:
                flags.Append('P');
                break;
        }
        if (c.Transaction is { InMulti: true })
        {
            flags.Append('x');
        }
        if (c.Blocked)
        {
            flags.Append('b');
        }
        if (c.Transaction is { CasDirty: true })
        {
            flags.Append('d');
        }
        if (c.CloseRequested)
        {
            flags.Append('c');
        }
        if (c.NoEvict)
        {
            flags.Append('e');
        }
        if (c.NoTouch)
        {
            flags.Append('T');
        }
        return flags.Length == 0 ? "N" : flags.ToString();
    }

    /// <summary>Redis' client type names (CLIENT LIST TYPE, CLIENT KILL TYPE); "slave" is the old name of "replica".</summary>
    private static ClientKind? ParseClientKind(string name) => name.ToLowerInvariant() switch
    {
        "normal" => ClientKind.Normal,
        "slave" or "replica" => ClientKind.Replica,
        "master" => ClientKind.Master,
        "pubsub" => ClientKind.PubSub,
        _ => null,
    };

    /// <summary>
    /// CLIENT KILL addr:port (old form: OK or "No such client", and may kill the caller itself) or CLIENT KILL
    /// with ID/ADDR/LADDR/TYPE/USER/SKIPME filters (new form: the number killed; SKIPME defaults to yes).
    /// The caller, when killed, gets its reply first and is closed after it.
    /// </summary>
    private static void ClientKill(CommandContext ctx)
    {
        long? id = null;
        ClientKind? kind = null;
        string? addr = null, laddr = null, user = null;
        var skipMe = true;
        var oldForm = ctx.Argc == 3;
        if (oldForm)
        {
            addr = ctx.Args.GetString(2);
            skipMe = false;
        }
        for (var i = 2; !oldForm && i < ctx.Argc; i += 2)
        {
            var hasValue = i + 1 < ctx.Argc;
            var value = hasValue ? ctx.Args.GetString(i + 1) : "";
            if (ctx.Args.Is(i, "ID") && hasValue)
            {
                if (!ctx.Args.TryGetLong(i + 1, out var parsed) || parsed < 1)
                {
                    ctx.Writer.WriteError("ERR client-id should be greater than 0");
                    return;
                }
                id = parsed;
            }
            else if (ctx.Args.Is(i, "TYPE") && hasValue)
            {
                kind = ParseClientKind(value);
                if (kind is null)
                {
                    ctx.Writer.WriteError($"ERR Unknown client type '{value}'");
                    return;
                }
            }
            else if (ctx.Args.Is(i, "ADDR") && hasValue)
            {
                addr = value;
            }
            else if (ctx.Args.Is(i, "LADDR") && hasValue)
            {
                laddr = value;
            }
            else if (ctx.Args.Is(i, "USER") && hasValue)
            {
                if (value != "default")
                {
                    ctx.Writer.WriteError($"ERR No such user '{value}'"); // "default" is the only user
                    return;
                }
                user = value;
            }
            else if (ctx.Args.Is(i, "SKIPME") && hasValue && (ctx.Args.Is(i + 1, "YES") || ctx.Args.Is(i + 1, "NO")))
            {
                skipMe = ctx.Args.Is(i + 1, "YES");
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var victims = ctx.Server.Clients.All.Where(c =>
            (id is null || c.Id == id) && (kind is null || c.Kind == kind) && (addr is null || c.Address == addr)
            && (laddr is null || c.LocalAddress == laddr) && (user is null || c.User == user)
            && !(skipMe && c == ctx.Session)).ToList();
        foreach (var victim in victims)
        {
            if (victim == ctx.Session)
            {
                victim.CloseRequested = true;
            }
            else
            {
                victim.Kill();
            }
        }
        if (!oldForm)
        {
            ctx.Writer.WriteInteger(victims.Count);
        }
        else if (victims.Count == 0)
        {
            ctx.Writer.WriteError("ERR No such client");
        }
        else
        {
            ctx.Writer.WriteOk();
        }
    }

    private static void ClientNoEvict(CommandContext ctx)
    {
        if (TryParseOnOff(ctx, 2) is { } on)
        {
            ctx.Session.NoEvict = on;
            ctx.Writer.WriteOk();
        }
    }

    private static void ClientNoTouch(CommandContext ctx)
    {
        if (TryParseOnOff(ctx, 2) is { } on)
        {
            ctx.Session.NoTouch = on;
            ctx.Writer.WriteOk();
        }
    }

    private static bool? TryParseOnOff(CommandContext ctx, int index)
    {
        if (ctx.Args.Is(index, "ON"))
        {
            return true;
        }
        if (ctx.Args.Is(index, "OFF"))
        {
            return false;
        }
        ctx.SyntaxError();
        return null;
    }

    /// <summary>
    /// CLIENT REPLY: ON answers OK; OFF and SKIP answer nothing (their own reply is the first one dropped).
    /// See <see cref="ClientReplyMode"/>.
    /// </summary>
    private static void ClientReply(CommandContext ctx)
    {
        if (ctx.Args.Is(2, "ON"))
        {
            ClientReplyMode.On(ctx);
            ctx.Writer.WriteOk();
        }
        else if (ctx.Args.Is(2, "OFF"))
        {
            ClientReplyMode.Off(ctx);
        }
        else if (ctx.Args.Is(2, "SKIP"))
        {
            ClientReplyMode.Skip(ctx);
        }
        else
        {
            ctx.SyntaxError();
        }
    }

    private static void ClientPause(CommandContext ctx)
    {
        if (ctx.Argc > 4)
        {
            ctx.Writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{ctx.Args.GetString(1)}'. Try CLIENT HELP.");
            return;
        }
        var mode = PauseMode.All;
        if (ctx.Argc == 4)
        {
            if (ctx.Args.Is(3, "WRITE"))
            {
                mode = PauseMode.Write;
            }
            else if (!ctx.Args.Is(3, "ALL"))
            {
                ctx.Writer.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        if (!ctx.Args.TryGetLong(2, out var milliseconds))
        {
            ctx.Writer.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (milliseconds < 0)
        {
            ctx.Writer.WriteError("ERR timeout is negative");
            return;
        }
        ctx.Server.Pause.Pause(milliseconds, mode);
        ctx.Writer.WriteOk();
    }

    private static void ClientUnpause(CommandContext ctx)
    {
        ctx.Server.Pause.Unpause();
        ctx.Writer.WriteOk();
    }

    private static void ClientHelp(CommandContext ctx) => ContainerCommand.WriteHelp(ctx,
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.");

    private const CommandFlags ClientAdmin = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags ClientPlain = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    /// <summary>CLIENT's subcommands, with Redis 7.0's arities and flags.</summary>
    private static CommandDescriptor[] ClientSubcommands() =>
    [
        new("CLIENT|ID", 2, ClientPlain, 0, 0, 0, ClientId, "connection"),
        new("CLIENT|SETNAME", 3, ClientPlain, 0, 0, 0, ClientSetName, "connection"),
        new("CLIENT|GETNAME", 2, ClientPlain, 0, 0, 0, ClientGetName, "connection"),
        new("CLIENT|SETINFO", 4, ClientPlain, 0, 0, 0, ClientSetInfo, "connection"),
        new("CLIENT|INFO", 2, ClientPlain, 0, 0, 0, ClientInfo, "connection"),
        new("CLIENT|LIST", -2, ClientAdmin, 0, 0, 0, ClientList, "connection"),
        new("CLIENT|KILL", -3, ClientAdmin, 0, 0, 0, ClientKill, "connection"),
        new("CLIENT|NO-EVICT", 3, ClientAdmin, 0, 0, 0, ClientNoEvict, "connection"),
        new("CLIENT|NO-TOUCH", 3, ClientPlain, 0, 0, 0, ClientNoTouch, "connection"),
        new("CLIENT|REPLY", 3, ClientPlain, 0, 0, 0, ClientReply, "connection"),
        new("CLIENT|PAUSE", -3, ClientAdmin, 0, 0, 0, ClientPause, "connection"),
        new("CLIENT|UNPAUSE", 2, ClientAdmin, 0, 0, 0, ClientUnpause, "connection"),
        new("CLIENT|HELP", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, ClientHelp, "connection"),
    ];
}
