using System.Net.Sockets;
using System.Text;

namespace Talus.TestKit;

/// <summary>
/// A minimal RESP client over a raw socket: sends argv as multibulk (or raw bytes) and reads whole replies
/// with their exact bytes. For protocol tests and differential comparisons with redis-server.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _input;

    public RespClient(int port, string host = "127.0.0.1", int timeoutMs = 10_000)
    {
        _tcp = new TcpClient(host, port) { NoDelay = true, ReceiveTimeout = timeoutMs, SendTimeout = timeoutMs };
        _stream = _tcp.GetStream();
        _input = new BufferedStream(_stream, 64 * 1024);
    }

    public static byte[] Encode(IReadOnlyList<byte[]> args)
    {
        using var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"*{args.Count}\r\n"));
        foreach (var a in args)
        {
            ms.Write(Encoding.ASCII.GetBytes($"${a.Length}\r\n"));
            ms.Write(a);
            ms.Write("\r\n"u8);
        }
        return ms.ToArray();
    }

    public void SendRaw(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

    public void Send(params string[] args) => SendRaw(Encode(args.Select(Encoding.UTF8.GetBytes).ToArray()));

    public void Send(IReadOnlyList<byte[]> args) => SendRaw(Encode(args));

    public RespReply Call(params string[] args)
    {
        Send(args);
        return Read();
    }

    public RespReply Call(IReadOnlyList<byte[]> args)
    {
        Send(args);
        return Read();
    }

    /// <summary>Sends every command in one write (a pipeline), then reads one reply per command.</summary>
    public List<RespReply> CallPipelined(IReadOnlyList<string[]> commands)
    {
        SendRaw(commands.SelectMany(args => Encode(args.Select(Encoding.UTF8.GetBytes).ToArray())).ToArray());
        return commands.Select(_ => Read()).ToList();
    }

    /// <summary>Reads one complete reply; throws IOException if the server closed the connection.</summary>
    public RespReply Read()
    {
        using var raw = new MemoryStream();
        return ReadInto(raw);
    }

    private RespReply ReadInto(MemoryStream raw)
    {
        var start = raw.Length;
        var type = (char)ReadByte(raw);
        var line = ReadLine(raw);
        RespReply Done(string? text = null, byte[]? bytes = null, long integer = 0, List<RespReply>? items = null) =>
            new() { Type = type, Text = text, Bytes = bytes, Integer = integer, Items = items, Raw = raw.ToArray()[(int)start..] };
        switch (type)
        {
            case '+' or '-' or ',' or '(' or '#':
                return Done(line);
            case ':':
                return Done(line, integer: long.Parse(line, System.Globalization.CultureInfo.InvariantCulture));
            case '_':
                return Done();
            case '$' or '=' or '!':
            {
                var n = int.Parse(line, System.Globalization.CultureInfo.InvariantCulture);
                if (n < 0)
                {
                    return Done();
                }
                var data = new byte[n];
                ReadExactly(data);
                raw.Write(data);
                var crlf = new byte[2];
                ReadExactly(crlf);
                raw.Write(crlf);
                return Done(Encoding.UTF8.GetString(data), data);
            }
            case '*' or '~' or '>' or '%':
            {
                var n = int.Parse(line, System.Globalization.CultureInfo.InvariantCulture);
                if (n < 0)
                {
                    return Done();
                }
                var count = type == '%' ? n * 2 : n;
                var items = new List<RespReply>(count);
                for (var i = 0; i < count; i++)
                {
                    items.Add(ReadInto(raw));
                }
                return Done(items: items);
            }
            default:
                throw new InvalidDataException($"unexpected RESP type byte '{type}'");
        }
    }

    private int ReadByte(MemoryStream raw)
    {
        var b = _input.ReadByte();
        if (b < 0)
        {
            throw new IOException("connection closed by server");
        }
        raw.WriteByte((byte)b);
        return b;
    }

    private string ReadLine(MemoryStream raw)
    {
        var sb = new StringBuilder();
        while (true)
        {
            var b = ReadByte(raw);
            if (b == '\r')
            {
                ReadByte(raw);
                return sb.ToString();
            }
            sb.Append((char)b);
        }
    }

    private void ReadExactly(byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = _input.Read(buffer, read, buffer.Length - read);
            if (n <= 0)
            {
                throw new IOException("connection closed by server");
            }
            read += n;
        }
    }

    /// <summary>
    /// Waits (up to the receive timeout) for the server to close the connection: true on end of stream or a
    /// reset, false when a byte arrives or the wait times out.
    /// </summary>
    public bool IsClosedByServer()
    {
        try
        {
            return _input.ReadByte() < 0;
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        _input.Dispose();
        _tcp.Dispose();
    }
}
