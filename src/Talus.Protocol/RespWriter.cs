using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Talus.Protocol;

/// <summary>
/// Encodes replies onto an <see cref="IBufferWriter{T}"/> in RESP2 or RESP3. Shapes that differ between the
/// two (null, map, set, double, boolean, push) are chosen here from <see cref="Version"/>, so command code
/// writes each reply once.
/// </summary>
public sealed class RespWriter
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    // The longest "prefix, decimal of a long, CRLF" line: 1 + 20 + 2.
    private const int LineMax = 23;

    // Bulk strings up to this long are written with one span of the output; longer ones piece by piece.
    private const int OneSpanBulkMax = 1024;
    private IBufferWriter<byte> _output;

    public RespWriter(IBufferWriter<byte> output) => _output = output;

    public RespVersion Version { get; set; } = RespVersion.Resp2;

    /// <summary>Bytes written since the counter was last reset (output-buffer accounting).</summary>
    public long BytesWritten { get; private set; }

    public void ResetCounter() => BytesWritten = 0;

    /// <summary>Redirects output, for example into a MULTI reply buffer.</summary>
    public IBufferWriter<byte> Output { get => _output; set => _output = value; }

    public void WriteSimpleString(string s)
    {
        WriteByte((byte)'+');
        WriteAscii(s);
        WriteCrlf();
    }

    public void WriteSimpleString(ReadOnlySpan<byte> s)
    {
        WriteByte((byte)'+');
        WriteRaw(s);
        WriteCrlf();
    }

    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    /// <summary>Writes an error; the text must carry its code ("ERR ...", "WRONGTYPE ...").</summary>
    public void WriteError(string message)
    {
        WriteByte((byte)'-');
        // An error line must not contain CR or LF; Redis replaces them with spaces.
        foreach (var c in message)
        {
            WriteByte(c is '\r' or '\n' ? (byte)' ' : (byte)c);
        }
        WriteCrlf();
    }

    /// <summary>
    /// Writes an error given as raw bytes, for texts that quote client arguments (which may hold any byte);
    /// CR and LF become spaces, as Redis does.
    /// </summary>
    public void WriteError(ReadOnlySpan<byte> message)
    {
        WriteByte((byte)'-');
        var span = _output.GetSpan(message.Length);
        for (var i = 0; i < message.Length; i++)
        {
            span[i] = message[i] is (byte)'\r' or (byte)'\n' ? (byte)' ' : message[i];
        }
        _output.Advance(message.Length);
        BytesWritten += message.Length;
        WriteCrlf();
    }

    public void WriteInteger(long value)
    {
        WriteLine((byte)':', value);
    }

    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        if (value.Length <= OneSpanBulkMax)
        {
            // "$<length>\r\n<value>\r\n" in one span of the output: one GetSpan and one Advance, not five.
            var span = _output.GetSpan(value.Length + LineMax + 2);
            var at = WriteLine(span, (byte)'$', value.Length);
            value.CopyTo(span[at..]);
            at += value.Length;
            span[at] = (byte)'\r';
            span[at + 1] = (byte)'\n';
            at += 2;
            _output.Advance(at);
            BytesWritten += at;
            return;
        }
        WriteByte((byte)'$');
        WriteDecimal(value.Length);
        WriteCrlf();
        WriteRaw(value);
        WriteCrlf();
    }

    public void WriteBulk(string value) => WriteBulk(Encoding.UTF8.GetBytes(value));

    /// <summary>A bulk string holding the decimal form of <paramref name="value"/> (INCRBYFLOAT, ZSCORE in RESP2).</summary>
    public void WriteBulkLong(long value)
    {
        Span<byte> tmp = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, tmp, out var n);
        WriteBulk(tmp[..n]);
    }

    /// <summary>The null bulk string: $-1 in RESP2, _ in RESP3.</summary>
    public void WriteNull()
    {
        if (Version == RespVersion.Resp3)
        {
            WriteRaw("_\r\n"u8);
        }
        else
        {
            WriteRaw("$-1\r\n"u8);
        }
    }

    /// <summary>The null array: *-1 in RESP2, _ in RESP3.</summary>
    public void WriteNullArray()
    {
        if (Version == RespVersion.Resp3)
        {
            WriteRaw("_\r\n"u8);
        }
        else
        {
            WriteRaw("*-1\r\n"u8);
        }
    }

    public void WriteArrayHeader(long count)
    {
        WriteLine((byte)'*', count);
    }

    /// <summary>A map of <paramref name="pairs"/> entries: %n in RESP3, a flat array of 2n in RESP2.</summary>
    public void WriteMapHeader(long pairs)
    {
        if (Version == RespVersion.Resp3)
        {
            WriteLine((byte)'%', pairs);
        }
        else
        {
            WriteArrayHeader(pairs * 2);
        }
    }

    /// <summary>A set: ~n in RESP3, an array in RESP2.</summary>
    public void WriteSetHeader(long count)
    {
        if (Version == RespVersion.Resp3)
        {
            WriteLine((byte)'~', count);
        }
        else
        {
            WriteArrayHeader(count);
        }
    }

    /// <summary>An out-of-band push (pub/sub, MONITOR): &gt;n in RESP3, an array in RESP2.</summary>
    public void WritePushHeader(long count)
    {
        if (Version == RespVersion.Resp3)
        {
            WriteLine((byte)'>', count);
        }
        else
        {
            WriteArrayHeader(count);
        }
    }

    /// <summary>A double: ,d in RESP3, a bulk string in RESP2, formatted as Redis does (inf, -inf, 17 significant digits).</summary>
    public void WriteDouble(double value)
    {
        var text = FormatDouble(value);
        if (Version == RespVersion.Resp3)
        {
            WriteByte((byte)',');
            WriteAscii(text);
            WriteCrlf();
        }
        else
        {
            WriteBulk(Encoding.ASCII.GetBytes(text));
        }
    }

    /// <summary>A boolean: #t/#f in RESP3, :1/:0 in RESP2.</summary>
    public void WriteBoolean(bool value)
    {
        if (Version == RespVersion.Resp3)
        {
            WriteRaw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        }
        else
        {
            WriteInteger(value ? 1 : 0);
        }
    }

    /// <summary>A verbatim string (=) in RESP3 such as INFO's reply; a bulk string in RESP2.</summary>
    public void WriteVerbatim(string text)
    {
        if (Version != RespVersion.Resp3)
        {
            WriteBulk(text);
            return;
        }
        var payload = Encoding.UTF8.GetBytes(text);
        WriteByte((byte)'=');
        WriteDecimal(payload.Length + 4);
        WriteCrlf();
        WriteRaw("txt:"u8);
        WriteRaw(payload);
        WriteCrlf();
    }

    /// <summary>Formats a double as Redis 7.0's addReplyDouble does (%.17g, inf, -inf).</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "inf";
        }
        if (double.IsNegativeInfinity(value))
        {
            return "-inf";
        }
        return value.ToString("G17", CultureInfo.InvariantCulture).Replace('E', 'e');
    }

    /// <summary>Formats a double the way INCRBYFLOAT and HINCRBYFLOAT store it: shortest round-trip, no exponent.</summary>
    public static string FormatHumanDouble(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "inf";
        }
        if (double.IsNegativeInfinity(value))
        {
            return "-inf";
        }
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E'))
        {
            s = Math.Abs(value) < 1e28 && Math.Abs(value) > 1e-28
                ? ((decimal)value).ToString(CultureInfo.InvariantCulture)
                : s.Replace('E', 'e');
        }
        return s == "-0" ? "0" : s;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        var span = _output.GetSpan(bytes.Length);
        if (span.Length >= bytes.Length)
        {
            bytes.CopyTo(span);
            _output.Advance(bytes.Length);
        }
        else
        {
            // Very large payloads: copy in pieces the writer can take.
            var rest = bytes;
            while (rest.Length > 0)
            {
                span = _output.GetSpan(1);
                var n = Math.Min(span.Length, rest.Length);
                rest[..n].CopyTo(span);
                _output.Advance(n);
                rest = rest[n..];
            }
        }
        BytesWritten += bytes.Length;
    }

    /// <summary>A type byte, a decimal and CRLF (an integer reply, a header) in one span of the output.</summary>
    private void WriteLine(byte prefix, long value)
    {
        var n = WriteLine(_output.GetSpan(LineMax), prefix, value);
        _output.Advance(n);
        BytesWritten += n;
    }

    /// <summary>Formats "prefix value CRLF" at the start of <paramref name="span"/> (at least <see cref="LineMax"/> long).</summary>
    private static int WriteLine(Span<byte> span, byte prefix, long value)
    {
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out var digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        return 3 + digits;
    }

    private void WriteByte(byte b)
    {
        var span = _output.GetSpan(1);
        span[0] = b;
        _output.Advance(1);
        BytesWritten++;
    }

    private void WriteCrlf() => WriteRaw(Crlf);

    private void WriteAscii(string s)
    {
        var span = _output.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        var n = Encoding.UTF8.GetBytes(s, span);
        _output.Advance(n);
        BytesWritten += n;
    }

    private void WriteDecimal(long value)
    {
        var span = _output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var n);
        _output.Advance(n);
        BytesWritten += n;
    }
}
