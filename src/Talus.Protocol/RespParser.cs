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
/// exact error text; the connection must then be closed.
/// <para>
/// An incomplete multibulk keeps the arguments it has parsed in <see cref="CommandArgs"/>, with how many
/// bytes they took, and the next call resumes after them: so a command of a million arguments that arrives
/// in thousands of reads is parsed once, not once per read. The contract that makes this safe: after
/// <see cref="ParseStatus.Incomplete"/>, the next call on the same <see cref="CommandArgs"/> must start at the
/// same command (the bytes already seen, plus more); a caller that cannot promise that calls
/// <see cref="CommandArgs.Reset"/> first. Inline lines are at most 64 KB and are simply parsed again.
/// </para>
/// </summary>
public static class RespParser
{
    public static ParseStatus TryParse(ref SequenceReader<byte> reader, CommandArgs args, RespLimits limits)
    {
        var hasFirst = reader.TryPeek(out var first);
        if (args.PartialBytes == 0 || args.PartialBytes > reader.Remaining || first != (byte)'*')
        {
            args.Reset(); // nothing saved, or not the command the saved arguments came from
        }
        if (!hasFirst)
        {
            return ParseStatus.Incomplete;
        }
        var start = reader.Position;
        ParseStatus status;
        try
        {
            status = first == (byte)'*'
                ? ParseMultiBulk(ref reader, args, limits)
                : ParseInline(ref reader, args, limits);
        }
        catch (RespProtocolException)
        {
            args.Reset();
            throw;
        }
        if (status == ParseStatus.Incomplete)
        {
            reader = new SequenceReader<byte>(reader.Sequence.Slice(start));
            if (args.PartialBytes == 0)
            {
                args.Reset();
            }
        }
        return status;
    }

    private static ParseStatus ParseMultiBulk(ref SequenceReader<byte> reader, CommandArgs args, RespLimits limits)
    {
        var startConsumed = reader.Consumed;
        long count;
        if (args.PartialBytes > 0)
        {
            // Resume after the arguments parsed by an earlier call (see the class remarks).
            count = args.PartialCount;
            reader.Advance(args.PartialBytes);
        }
        else
        {
            reader.Advance(1);
            if (!TryReadLengthLine(ref reader, limits, "ERR Protocol error: too big mbulk count string", out var countLine))
            {
                return ParseStatus.Incomplete;
            }
            if (!CommandArgs.TryParseLong(countLine, out count) || count > limits.MaxArguments)
            {
                throw new RespProtocolException("ERR Protocol error: invalid multibulk length");
            }
            if (limits.BeforeAuth && count > RespLimits.UnauthenticatedMaxArguments)
            {
                throw new RespProtocolException("ERR Protocol error: unauthenticated multibulk length");
            }
        }
        for (long i = args.Count; i < count; i++)
        {
            // Everything up to here is whole arguments: remember it in case the rest has not arrived.
            args.SavePartial(count, reader.Consumed - startConsumed);
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
            if (limits.BeforeAuth && len > RespLimits.UnauthenticatedMaxBulkLength)
            {
                throw new RespProtocolException("ERR Protocol error: unauthenticated bulk length");
            }
            // Only claim arena space once the whole payload is buffered, so a lying length header costs nothing.
            if (reader.Remaining < len + 2)
            {
                return ParseStatus.Incomplete;
            }
            reader.TryCopyTo(args.Append((int)len));
            reader.Advance(len + 2); // Redis skips the trailing CRLF without checking it
        }
        args.SavePartial(0, 0);
        return ParseStatus.Complete;
    }

    /// <summary>
    /// Reads a "*n" or "$n" header up to its CR and skips the next byte (unchecked, as Redis does). Redis finds
    /// the CR with strchr, which stops at a NUL byte: a NUL before the CR means "no line yet", so the client
    /// waits (or, past 64 KB, gets the too-big error), and this parser does the same.
    /// </summary>
    private static bool TryReadLengthLine(ref SequenceReader<byte> reader, RespLimits limits, string tooBig, out ReadOnlySpan<byte> line)
    {
        if (TryReadToBeforeNul(ref reader, (byte)'\r', out var seq))
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

    /// <summary>Like TryReadTo without advancing past the delimiter, but a NUL byte before it counts as "not found" (strchr).</summary>
    private static bool TryReadToBeforeNul(ref SequenceReader<byte> reader, byte delimiter, out ReadOnlySequence<byte> before)
    {
        var probe = reader;
        if (probe.TryAdvanceToAny([delimiter, 0], advancePastDelimiter: false) && probe.TryPeek(out var found) && found == delimiter)
        {
            before = reader.Sequence.Slice(reader.Position, probe.Position);
            reader = probe;
            return true;
        }
        before = default;
        return false;
    }

    private static ParseStatus ParseInline(ref SequenceReader<byte> reader, CommandArgs args, RespLimits limits)
    {
        // Redis looks for the LF with strchr too: a NUL byte before it keeps the line incomplete.
        if (!TryReadToBeforeNul(ref reader, (byte)'\n', out var lineSeq))
        {
            if (reader.Remaining > limits.MaxInlineLength)
            {
                throw new RespProtocolException("ERR Protocol error: too big inline request");
            }
            return ParseStatus.Incomplete;
        }
        reader.Advance(1);
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
        return ParseStatus.Complete;
    }
}
