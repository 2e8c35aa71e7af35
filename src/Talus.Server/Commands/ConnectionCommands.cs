using System.Security.Cryptography;
using System.Text;
using Talus.Protocol;
using Talus.Server.Host;

namespace Talus.Server.Commands;

/// <summary>Connection commands: PING ECHO QUIT SELECT AUTH HELLO RESET, and CLIENT (ConnectionCommands.Client.cs).</summary>
public static partial class ConnectionCommands
{
    /// <summary>The Redis version Talus answers to clients that gate features on it.</summary>
    public const string RedisCompatVersion = "7.0.15";

    private static void Ping(CommandContext ctx)
    {
        if (ctx.Argc > 2)
        {
            ctx.WrongArity();
            return;
        }
        if (ctx.Session.Kind == ClientKind.PubSub && ctx.Session.Protocol == RespVersion.Resp2)
        {
            // In subscribe mode a RESP2 client tells replies from messages by shape: PING answers an array.
            ctx.Writer.WriteArrayHeader(2);
            ctx.Writer.WriteBulk("pong"u8);
            ctx.Writer.WriteBulk(ctx.Argc == 2 ? ctx.Args[1] : default);
            return;
        }
        if (ctx.Argc == 2)
        {
            ctx.Writer.WriteBulk(ctx.Args[1]);
        }
        else
        {
            ctx.Writer.WriteSimpleString("PONG");
        }
    }

    private static void Echo(CommandContext ctx) => ctx.Writer.WriteBulk(ctx.Args[1]);

    private static void Quit(CommandContext ctx)
    {
        ctx.Writer.WriteOk();
        ctx.Session.CloseRequested = true;
    }

    private static void Select(CommandContext ctx)
    {
        if (!ctx.TryGetDbIndex(1, out var index))
        {
            return;
        }
        ctx.Session.DbIndex = index;
        ctx.Writer.WriteOk();
    }

    private static void Auth(CommandContext ctx)
    {
        if (ctx.Argc > 3)
        {
            ctx.SyntaxError();
            return;
        }
        var user = ctx.Argc == 3 ? ctx.Args.GetString(1) : "default";
        var password = ctx.Args[ctx.Argc - 1];
        if (ctx.Argc == 2 && ctx.Server.Options.RequirePass is null)
        {
            ctx.Writer.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        if (!CheckCredentials(ctx.Server, user, password))
        {
            ctx.Writer.WriteError(Errors.InvalidPassword);
            return;
        }
        ctx.Session.Authenticated = true;
        ctx.Session.User = user;
        ctx.Writer.WriteOk();
    }

    /// <summary>Only the "default" user exists; its password is requirepass (none = any password).</summary>
    internal static bool CheckCredentials(ServerContext server, string user, ReadOnlySpan<byte> password)
    {
        if (user != "default")
        {
            return false;
        }
        var required = server.Options.RequirePass;
        if (required is null)
        {
            return true;
        }
        var expected = Encoding.UTF8.GetBytes(required);
        return CryptographicOperations.FixedTimeEquals(expected, password);
    }

    private static void Hello(CommandContext ctx)
    {
        var args = ctx.Args;
        var version = ctx.Session.Protocol;
        var i = 1;
        if (ctx.Argc >= 2)
        {
            if (!args.TryGetLong(1, out var requested))
            {
                ctx.Writer.WriteError("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (requested is < 2 or > 3)
            {
                ctx.Writer.WriteError("NOPROTO unsupported protocol version");
                return;
            }
            version = (RespVersion)requested;
            i = 2;
        }
        string? name = null;
        for (; i < ctx.Argc; i++)
        {
            if (args.Is(i, "AUTH") && i + 2 < ctx.Argc)
            {
                if (!CheckCredentials(ctx.Server, args.GetString(i + 1), args[i + 2]))
                {
                    ctx.Writer.WriteError(Errors.InvalidPassword);
                    return;
                }
                ctx.Session.Authenticated = true;
                ctx.Session.User = args.GetString(i + 1);
                i += 2;
            }
            else if (args.Is(i, "SETNAME") && i + 1 < ctx.Argc)
            {
                name = args.GetString(++i);
                if (!ClientNameIsValid(name))
                {
                    ctx.Writer.WriteError("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            }
            else
            {
                ctx.Writer.WriteError($"ERR Syntax error in HELLO option '{args.GetString(i)}'");
                return;
            }
        }
        if (!ctx.Session.Authenticated)
        {
            ctx.Writer.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (name is not null)
        {
            ctx.Session.Name = name.Length == 0 ? null : name;
        }
        ctx.Session.Protocol = version;
        ctx.Writer.Version = version;
        var w = ctx.Writer;
        w.WriteMapHeader(7);
        w.WriteBulk("server");
        w.WriteBulk("redis");
        w.WriteBulk("version");
        w.WriteBulk(RedisCompatVersion);
        w.WriteBulk("proto");
        w.WriteInteger((int)version);
        w.WriteBulk("id");
        w.WriteInteger(ctx.Session.Id);
        w.WriteBulk("mode");
        w.WriteBulk("standalone");
        w.WriteBulk("role");
        w.WriteBulk(ctx.Server.Replication.IsReplica ? "replica" : "master");
        w.WriteBulk("modules");
        w.WriteArrayHeader(0);
    }

    private static void Reset(CommandContext ctx)
    {
        var session = ctx.Session;
        session.DbIndex = 0;
        session.Name = null;
        session.Protocol = RespVersion.Resp2;
        ctx.Writer.Version = RespVersion.Resp2;
        session.Authenticated = ctx.Server.Options.RequirePass is null;
        session.User = "default";
        session.NoTouch = false;
        foreach (var extension in session.Extensions.Values.OfType<IResettable>())
        {
            extension.Reset(ctx);
        }
        ctx.Writer.WriteSimpleString("RESET");
    }

    /// <summary>Redis rejects client names with spaces, newlines or characters outside '!'..'~'.</summary>
    internal static bool ClientNameIsValid(string name) => name.All(c => c is >= '!' and <= '~');

    private const CommandFlags ConnFlags = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    public static readonly CommandDescriptor[] Table =
    [
        new("PING", -1, ConnFlags, 0, 0, 0, Ping, "connection"),
        new("ECHO", 2, ConnFlags, 0, 0, 0, Echo, "connection"),
        new("QUIT", -1, ConnFlags | CommandFlags.NoAuth, 0, 0, 0, Quit, "connection"),
        new("SELECT", 2, ConnFlags, 0, 0, 0, Select, "connection"),
        new("AUTH", -2, ConnFlags | CommandFlags.NoAuth | CommandFlags.NoScript, 0, 0, 0, Auth, "connection"),
        new("HELLO", -1, ConnFlags | CommandFlags.NoAuth | CommandFlags.NoScript, 0, 0, 0, Hello, "connection"),
        new("RESET", 1, ConnFlags | CommandFlags.NoAuth | CommandFlags.NoScript, 0, 0, 0, Reset, "connection"),
        new("CLIENT", -2, CommandFlags.None, 0, 0, 0, ContainerCommand.Dispatch, "connection") { Subcommands = ClientSubcommands() },
    ];
}

/// <summary>Per-client state that RESET must clear (MULTI queue, subscriptions).</summary>
public interface IResettable
{
    void Reset(CommandContext ctx);
}
