using System.Globalization;
using System.Text;
using Talus.Server.Commands;
using Talus.Server.Host;

namespace Talus.Server.PubSub;

/// <summary>
/// MONITOR: every command a client runs is sent, once it has run, to every monitoring client as Redis' line
/// <c>+1700000000.123456 [0 127.0.0.1:50000] "set" "k" "v"</c> (arguments quoted as sdscatrepr does; AUTH and
/// HELLO AUTH credentials shown as "(redacted)"). Admin and skip-monitor commands are not shown. Lines travel
/// through each monitor's <see cref="ClientOutbox"/>, under the "normal" output buffer limit class. With no
/// monitor the whole cost is one volatile read per command (<see cref="Active"/>).
/// </summary>
public sealed class MonitorFeed
{
    private readonly object _gate = new();
    private volatile ClientOutbox[] _monitors = [];

    /// <summary>True while at least one client monitors.</summary>
    public bool Active => _monitors.Length > 0;

    public int Count => _monitors.Length;

    public void Add(ClientOutbox monitor)
    {
        lock (_gate)
        {
            _monitors = [.. _monitors, monitor];
        }
    }

    public void Remove(ClientOutbox monitor)
    {
        lock (_gate)
        {
            _monitors = Array.FindAll(_monitors, m => m != monitor);
        }
    }

    /// <summary>Sends the line of the command <paramref name="ctx"/> just ran, unless Redis would hide it.</summary>
    public void Feed(CommandContext ctx)
    {
        var command = ctx.Command;
        if ((command.Flags & (CommandFlags.Admin | CommandFlags.SkipMonitor)) != 0 || command.Subcommands.Count > 0)
        {
            return; // a container whose subcommand was not found is not shown either
        }
        var monitors = _monitors;
        if (monitors.Length == 0)
        {
            return;
        }
        var line = Line(ctx);
        foreach (var monitor in monitors)
        {
            monitor.Enqueue(line);
        }
    }

    private static byte[] Line(CommandContext ctx)
    {
        var now = DateTimeOffset.UtcNow;
        var micros = now.ToUnixTimeMilliseconds() * 1000 + (now.Ticks / 10 % 1000);
        var text = new StringBuilder(64);
        text.Append('+').Append((micros / 1_000_000).ToString(CultureInfo.InvariantCulture)).Append('.')
            .Append((micros % 1_000_000).ToString("000000", CultureInfo.InvariantCulture))
            .Append(" [").Append(ctx.Session.DbIndex.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(ctx.Session.Address).Append("] ");
        var bytes = new List<byte>(text.Length + 64);
        bytes.AddRange(Encoding.ASCII.GetBytes(text.ToString()));
        var redactFrom = RedactedFrom(ctx);
        for (var i = 0; i < ctx.Argc; i++)
        {
            if (i > 0)
            {
                bytes.Add((byte)' ');
            }
            AppendRepr(bytes, redactFrom(i) ? "(redacted)"u8 : ctx.Args[i]);
        }
        bytes.Add((byte)'\r');
        bytes.Add((byte)'\n');
        return [.. bytes];
    }

    /// <summary>Which arguments Redis 7.0 redacts: all of AUTH's, and the user and password after HELLO's AUTH.</summary>
    private static Func<int, bool> RedactedFrom(CommandContext ctx)
    {
        switch (ctx.Command.FullName)
        {
            case "auth":
                return i => i > 0;
            case "hello":
                var redacted = new HashSet<int>();
                for (var i = 2; i < ctx.Argc; i++)
                {
                    if (ctx.Args.Is(i, "AUTH") && i + 2 < ctx.Argc)
                    {
                        redacted.Add(i + 1);
                        redacted.Add(i + 2);
                        i += 2;
                    }
                    else if (ctx.Args.Is(i, "SETNAME") && i + 1 < ctx.Argc)
                    {
                        i++;
                    }
                }
                return redacted.Contains;
            default:
                return static _ => false;
        }
    }

    /// <summary>Redis' sdscatrepr: a double-quoted string with C escapes and \xHH for other unprintable bytes.</summary>
    private static void AppendRepr(List<byte> output, ReadOnlySpan<byte> value)
    {
        output.Add((byte)'"');
        foreach (var b in value)
        {
            switch (b)
            {
                case (byte)'\\' or (byte)'"':
                    output.Add((byte)'\\');
                    output.Add(b);
                    break;
                case (byte)'\n': output.AddRange("\\n"u8); break;
                case (byte)'\r': output.AddRange("\\r"u8); break;
                case (byte)'\t': output.AddRange("\\t"u8); break;
                case 7: output.AddRange("\\a"u8); break;
                case 8: output.AddRange("\\b"u8); break;
                case >= 0x20 and <= 0x7e: output.Add(b); break;
                default:
                    output.AddRange(Encoding.ASCII.GetBytes("\\x" + b.ToString("x2", CultureInfo.InvariantCulture)));
                    break;
            }
        }
        output.Add((byte)'"');
    }
}
