using System.Buffers.Text;
using Talus.Protocol;

namespace Talus.Server.PubSub;

/// <summary>
/// Encodes the out-of-band frames a subscriber receives ("message", "pmessage"): an array of bulk strings in
/// RESP2, the same with the push type (&gt;) in RESP3. Both forms differ only in their first byte.
/// </summary>
public static class PushFrame
{
    /// <summary>[kind, channel, payload] as RESP2 bytes ("message").</summary>
    public static byte[] Message(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[Header + BulkSize(kind) + BulkSize(channel) + BulkSize(payload)];
        var n = Array(buffer, 3);
        n += Bulk(buffer.AsSpan(n), kind);
        n += Bulk(buffer.AsSpan(n), channel);
        n += Bulk(buffer.AsSpan(n), payload);
        return buffer[..n];
    }

    /// <summary>[kind, pattern, channel, payload] as RESP2 bytes ("pmessage").</summary>
    public static byte[] PatternMessage(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[Header + BulkSize(kind) + BulkSize(pattern) + BulkSize(channel) + BulkSize(payload)];
        var n = Array(buffer, 4);
        n += Bulk(buffer.AsSpan(n), kind);
        n += Bulk(buffer.AsSpan(n), pattern);
        n += Bulk(buffer.AsSpan(n), channel);
        n += Bulk(buffer.AsSpan(n), payload);
        return buffer[..n];
    }

    /// <summary>Picks the frame for a subscriber's protocol, making the RESP3 form on first use.</summary>
    public static byte[] For(RespVersion version, byte[] resp2Frame, ref byte[]? resp3Frame)
    {
        if (version != RespVersion.Resp3)
        {
            return resp2Frame;
        }
        if (resp3Frame is null)
        {
            resp3Frame = (byte[])resp2Frame.Clone();
            resp3Frame[0] = (byte)'>';
        }
        return resp3Frame;
    }

    private const int Header = 1 + 20 + 2;

    private static int BulkSize(ReadOnlySpan<byte> value) => Header + value.Length + 2;

    private static int Array(Span<byte> span, int count)
    {
        span[0] = (byte)'*';
        return 1 + Number(span[1..], count);
    }

    private static int Bulk(Span<byte> span, ReadOnlySpan<byte> value)
    {
        span[0] = (byte)'$';
        var n = 1 + Number(span[1..], value.Length);
        value.CopyTo(span[n..]);
        n += value.Length;
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        return n;
    }

    private static int Number(Span<byte> span, long value)
    {
        Utf8Formatter.TryFormat(value, span, out var n);
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        return n;
    }
}
