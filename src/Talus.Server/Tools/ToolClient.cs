using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Talus.Server.Tools;

/// <summary>A reply read by <see cref="ToolClient"/>: a string, an error, a number, a byte string (null = nil) or an array.</summary>
public sealed record ToolReply(char Type, string? Text, byte[]? Bytes, long Integer, List<ToolReply>? Items)
{
    public bool IsError => Type == '-';
}

/// <summary>A small synchronous RESP2 client for the command-line tools (talus check).</summary>
public sealed class ToolClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly BufferedStream _input;
    private readonly NetworkStream _stream;

    public ToolClient(string host, int port, string? password)
    {
        _tcp = new TcpClient(host, port) { NoDelay = true, ReceiveTimeout = 60_000, SendTimeout = 60_000 };
        _stream = _tcp.GetStream();
        _input = new BufferedStream(_stream, 64 * 1024);
        Endpoint = $"{host}:{port}";
        if (password is not null)
        {
            var reply = Call("AUTH", password);
            if (reply.IsError)
            {
                throw new InvalidOperationException($"{Endpoint}: AUTH failed: {reply.Text}");
            }
        }
    }

    public string Endpoint { get; }

    /// <summary>Parses "host:port" (or "[v6]:port").</summary>
    public static (string Host, int Port) ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"'{text}' is not HOST:PORT");
        }
        return (text[..colon].Trim('[', ']'), port);
    }

    public ToolReply Call(params object[] args)
    {
        using var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"*{args.Length}\r\n"));
        foreach (var a in args)
        {
            var bytes = a as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(a, CultureInfo.InvariantCulture) ?? "");
            ms.Write(Encoding.ASCII.GetBytes($"${bytes.Length}\r\n"));
            ms.Write(bytes);
            ms.Write("\r\n"u8);
        }
        _stream.Write(ms.ToArray());
        return Read();
    }

    private ToolReply Read()
    {
        var type = (char)ReadByte();
        var line = ReadLine();
        switch (type)
        {
            case '+' or '-':
                return new ToolReply(type, line, null, 0, null);
            case ':':
                return new ToolReply(type, line, null, long.Parse(line, CultureInfo.InvariantCulture), null);
            case '$':
            {
                var n = int.Parse(line, CultureInfo.InvariantCulture);
                if (n < 0)
                {
                    return new ToolReply(type, null, null, 0, null);
                }
                var data = new byte[n];
                _input.ReadExactly(data);
                ReadByte();
                ReadByte();
                return new ToolReply(type, Encoding.UTF8.GetString(data), data, 0, null);
            }
            case '*':
            {
                var n = int.Parse(line, CultureInfo.InvariantCulture);
                if (n < 0)
                {
                    return new ToolReply(type, null, null, 0, null);
                }
                var items = new List<ToolReply>(n);
                for (var i = 0; i < n; i++)
                {
                    items.Add(Read());
                }
                return new ToolReply(type, null, null, 0, items);
            }
            default:
                throw new InvalidDataException($"{Endpoint}: unexpected reply type '{type}'");
        }
    }

    private int ReadByte()
    {
        var b = _input.ReadByte();
        return b < 0 ? throw new IOException($"{Endpoint} closed the connection") : b;
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        for (var b = ReadByte(); b != '\r'; b = ReadByte())
        {
            sb.Append((char)b);
        }
        ReadByte();
        return sb.ToString();
    }

    public void Dispose()
    {
        _input.Dispose();
        _tcp.Dispose();
    }
}
