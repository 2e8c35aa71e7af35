using System.Buffers;
using System.Text;
using Talus.Protocol;

namespace Talus.Server.Host;

/// <summary>
/// The replies of a connection's commands whose writes wait in a group commit (the plain SETs of a
/// <see cref="Storage.Engine.WriteGroup"/>, the commands of a <see cref="PipelineGroup"/>), held until the group
/// is written. While any are held the reply writer's output is a buffer here, so whatever else is written
/// meanwhile (an error before a command runs, a push) keeps its place. When the group is written everything
/// goes out as it was written, with +OK for each held SET; when writing it failed, each held reply is replaced
/// by the storage error (nothing it promised happened) and the connection goes on being served. No allocation
/// once the buffers have grown.
/// </summary>
public sealed class HeldReplies
{
    private static readonly byte[] Ok = "+OK\r\n"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _held = new();
    // A held reply: the bytes [Start, End) of _held, or, with End = -1, a +OK not written yet that belongs at Start.
    private readonly List<(int Start, int End)> _replies = [];
    private IBufferWriter<byte>? _real;
    private int _open = -1;

    /// <summary>Number of replies held.</summary>
    public int Count => _replies.Count;

    /// <summary>Holds a +OK at the current position of <paramref name="writer"/>'s output (a grouped SET's reply).</summary>
    public void HoldOk(RespWriter writer)
    {
        Hold(writer);
        _replies.Add((_held.WrittenCount, -1));
    }

    /// <summary>Marks the start of a grouped command's reply, which <paramref name="writer"/> writes next.</summary>
    public void BeginReply(RespWriter writer)
    {
        Hold(writer);
        _open = _held.WrittenCount;
    }

    /// <summary>Marks the end of the reply begun by <see cref="BeginReply"/>.</summary>
    public void EndReply()
    {
        if (_open >= 0)
        {
            _replies.Add((_open, _held.WrittenCount));
            _open = -1;
        }
    }

    /// <summary>
    /// Sends everything held to the real output: as written (each held SET's +OK in its place), or with each
    /// held reply replaced by <paramref name="error"/> (an error message, without "-") when the group failed.
    /// </summary>
    public void Release(RespWriter writer, string? error = null)
    {
        if (_real is not { } real)
        {
            return;
        }
        writer.Output = real;
        _real = null;
        var failed = error is null ? null : Encoding.UTF8.GetBytes("-" + error + "\r\n");
        var written = _held.WrittenSpan;
        var from = 0;
        // Through writer.Output each time: a CLIENT REPLY SKIP filter hands the real output back once it has
        // dropped its one reply.
        foreach (var (start, end) in _replies)
        {
            Copy(writer.Output, written[from..start]);
            if (failed is not null)
            {
                Copy(writer.Output, failed);
            }
            else
            {
                Copy(writer.Output, end < 0 ? Ok : written[start..end]);
            }
            from = end < 0 ? start : end;
        }
        Copy(writer.Output, written[from..]);
        _replies.Clear();
        _open = -1;
        _held.ResetWrittenCount();
    }

    private void Hold(RespWriter writer)
    {
        if (_real is null)
        {
            _real = writer.Output;
            writer.Output = _held;
        }
    }

    private static void Copy(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = output.GetSpan(1);
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            output.Advance(n);
            bytes = bytes[n..];
        }
    }
}
