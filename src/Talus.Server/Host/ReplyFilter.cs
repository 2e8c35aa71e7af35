using System.Buffers;
using Talus.Protocol;

namespace Talus.Server.Host;

/// <summary>
/// Stands in for a client's output while CLIENT REPLY OFF or SKIP is in force. OFF discards everything.
/// SKIP discards exactly the next complete reply, whatever command or gate writes it, found by following the
/// RESP framing of the bytes written; then it forwards the rest and hands the writer its real output back.
/// </summary>
public sealed class ReplyFilter : IBufferWriter<byte>
{
    private const int ScratchSize = 64 * 1024;

    private readonly RespWriter _writer;
    private readonly bool _skipOne;
    private byte[] _scratch = new byte[ScratchSize];
    private readonly List<byte> _line = [];
    private long _pendingValues = 1; // values still to come before the skipped reply is complete
    private long _bulkRemaining;     // payload bytes (plus CRLF) of the bulk string being skipped
    private bool _done;

    public ReplyFilter(RespWriter writer, IBufferWriter<byte> inner, bool skipOne)
    {
        _writer = writer;
        Inner = inner;
        _skipOne = skipOne;
    }

    /// <summary>The client's real output.</summary>
    public IBufferWriter<byte> Inner { get; }

    /// <summary>True for SKIP (drop one reply), false for OFF (drop everything).</summary>
    public bool SkipsOne => _skipOne;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        // RespWriter copies payloads larger than the span it gets in pieces, so huge replies need no huge buffer.
        if (sizeHint > _scratch.Length && sizeHint <= 1024 * 1024)
        {
            _scratch = new byte[sizeHint];
        }
        return _scratch;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count)
    {
        if (!_skipOne)
        {
            return;
        }
        if (_done)
        {
            // A writer that kept this filter after the skip (one copying held replies) still reaches the client.
            Forward(_scratch.AsSpan(0, count));
            return;
        }
        var consumed = Scan(_scratch.AsSpan(0, count));
        if (!_done)
        {
            return;
        }
        Forward(_scratch.AsSpan(consumed, count - consumed));
        if (ReferenceEquals(_writer.Output, this))
        {
            _writer.Output = Inner;
        }
    }

    private void Forward(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0)
        {
            bytes.CopyTo(Inner.GetSpan(bytes.Length));
            Inner.Advance(bytes.Length);
        }
    }

    /// <summary>Follows the framing of <paramref name="bytes"/>; returns how many belong to the skipped reply.</summary>
    private int Scan(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length && !_done)
        {
            if (_bulkRemaining > 0)
            {
                var n = (int)Math.Min(_bulkRemaining, bytes.Length - i);
                _bulkRemaining -= n;
                i += n;
                if (_bulkRemaining == 0)
                {
                    ValueDone();
                }
                continue;
            }
            var b = bytes[i++];
            _line.Add(b);
            if (b == (byte)'\n')
            {
                HeaderLine();
                _line.Clear();
            }
        }
        return i;
    }

    /// <summary>A complete header line ("+OK", "$5", "*3", ...) arrived.</summary>
    private void HeaderLine()
    {
        var type = (char)_line[0];
        var count = 0L;
        if (type is '$' or '=' or '!' or '*' or '~' or '>' or '%' or '|')
        {
            var digits = System.Text.Encoding.ASCII.GetString(_line.ToArray(), 1, _line.Count - 3);
            count = long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        }
        switch (type)
        {
            case '$' or '=' or '!' when count >= 0:
                _bulkRemaining = count + 2;
                break;
            case '*' or '~' or '>' when count > 0:
                _pendingValues += count - 1;
                break;
            case '%' when count > 0:
                _pendingValues += (2 * count) - 1;
                break;
            case '|':
                _pendingValues += 2 * count; // attributes precede the value they describe
                break;
            default:
                ValueDone();
                break;
        }
    }

    private void ValueDone()
    {
        if (--_pendingValues == 0)
        {
            _done = true;
        }
    }
}
