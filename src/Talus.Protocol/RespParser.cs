using System.Buffers;

namespace Talus.Protocol;

/// <summary>What one call to <see cref="RespParser.TryParse"/> found.</summary>
public enum ParseStatus
{
    Incomplete, // the buffer ends inside a command; wait for more bytes
    Complete,   // one command parsed into the args (Count may be 0 for "*0" or an empty inline line)
}

/// <summary>
/// Parses one client command from a byte sequence: RESP multibulk (<c>*2\r\n$3\r\nGET\r\n$1\r\nk\r\n</c>) or an
/// inline line (<c>GET k\r\n</c>). A framing error throws <see cref="RespProtocolException"/> carrying Redis'
/// exact error text; the connection must then be closed. The parser holds no state between calls: an
/// incomplete command is parsed again from its start once more bytes arrive.
/// </summary>
public static class RespParser
{
    public static ParseStatus TryParse(ref SequenceReader<byte> reader, CommandArgs args, RespLimits limits)
    {
        args.Reset();
        if (!reader.TryPeek(out var first))
        {
            return ParseStatus.Incomplete;
        }
        var start = reader.Position;
        var status = first == (byte)'*'
            ? ParseMultiBulk(ref reader, args, limits)
            : ParseInline(ref reader, args, limits);
        if (status == ParseStatus.Incomplete)
        {
            reader = new SequenceReader<byte>(reader.Sequence.Slice(start));
            args.Reset();
        }
        return status;
    }

    private static ParseStatus ParseMultiBulk(ref SequenceReader<byte> reader, CommandArgs args, RespLimits limits)
    {
        reader.Advance(1);
        if (!TryReadLengthLine(ref reader, limits, "ERR Protocol error: too big mbulk count string", out var countLine))
        {
            return ParseStatus.Incomplete;
        }
        if (!CommandArgs.TryParseLong(countLine, out var count) || count > limits.MaxArguments)
        {
            throw new RespProtocolException("ERR Protocol error: invalid multibulk length");
        }
        for (long i = 0; i < count; i++)
        {
            if (!reader.TryRead(out var dollar))
            {
                return ParseStatus.Incomplete;
            }
            if (dollar != (byte)'$')
            {
                throw new RespProtocolException($"ERR Protocol error: expected '$', got '{(char)dollar}'");
            }
            if (!TryReadLengthLine(ref reader, limits, "ERR Protocol error: too big bulk count string", out var lenLine))
            {
                return ParseStatus.Incomplete;
            }
            if (!CommandArgs.TryParseLong(lenLine, out var len) || len < 0 || len > limits.MaxBulkLength || len > int.MaxValue - 2)
            {
                throw new RespProtocolException("ERR Protocol error: invalid bulk length");
            }
            // Only claim arena space once the whole payload is buffered, so a lying length header costs nothing.
            if (reader.Remaining < len + 2)
            {
                return ParseStatus.Incomplete;
            }
            reader.TryCopyTo(args.Append((int)len));
            reader.Advance(len + 2); // Redis skips the trailing CRLF without checking it
        }
        return ParseStatus.Complete;
    }

    private static bool TryReadLengthLine(ref SequenceReader<byte> reader, RespLimits limits, string tooBig, out ReadOnlySpan<byte> line)
    {
        if (reader.TryReadTo(out ReadOnlySequence<byte> seq, (byte)'\r', advancePastDelimiter: false))
        {
            if (seq.Length > limits.MaxInlineLength)
            {
                throw new RespProtocolException(tooBig);
            }
            if (reader.Remaining < 2)
            {
                line = default;
                return false;
            }
            reader.Advance(2);
            line = seq.IsSingleSegment ? seq.FirstSpan : seq.ToArray();
            return true;
        }
        if (reader.Remaining > limits.MaxInlineLength)
        {
            throw new RespProtocolException(tooBig);
        }
        line = default;
        return false;
    }

    private static ParseStatus ParseInline(ref SequenceReader<byte> reader, CommandArgs args, RespLimits limits)
    {
        if (!reader.TryReadTo(out ReadOnlySequence<byte> lineSeq, (byte)'\n', advancePastDelimiter: true))
        {
            if (reader.Remaining > limits.MaxInlineLength)
            {
                throw new RespProtocolException("ERR Protocol error: too big inline request");
            }
            return ParseStatus.Incomplete;
        }
        if (lineSeq.Length > limits.MaxInlineLength)
        {
            throw new RespProtocolException("ERR Protocol error: too big inline request");
        }
        ReadOnlySpan<byte> line = lineSeq.IsSingleSegment ? lineSeq.FirstSpan : lineSeq.ToArray();
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }
        if (!InlineSplitter.TrySplit(line, args))
        {
            throw new RespProtocolException("ERR Protocol error: unbalanced quotes in request");
        }
        if (args.Count > limits.MaxArguments)
        {
            throw new RespProtocolException("ERR Protocol error: invalid multibulk length");
        }
        return ParseStatus.Complete;
    }
}
