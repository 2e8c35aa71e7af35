using System.Collections.Concurrent;
using Talus.Protocol;

namespace Talus.Server.Host;

/// <summary>
/// A connection's queue of out-of-band frames (pub/sub messages, MONITOR lines), filled from any thread and
/// drained only by the connection's own loop, which is the one thread that writes to its socket pipe. So a
/// publisher never touches another client's PipeWriter and never waits on its socket: it appends a frame,
/// and wakes the loop when the queue turns non-empty. Frames are shared, immutable byte arrays (one per
/// message and protocol), never modified after they are queued.
/// Queued bytes (plus drained bytes not yet flushed) are the client's output buffer for the
/// client-output-buffer-limit check, made by <see cref="OutputBufferGuard"/> on every append.
/// </summary>
public sealed class ClientOutbox
{
    private readonly ConcurrentQueue<byte[]> _frames = new();
    private readonly OutputBufferGuard _guard;
    private long _queuedBytes;
    private long _inFlight;      // drained into the pipe, not yet flushed (owner thread only)
    private int _wakePending;    // 1 while a wake-up is requested and not yet consumed by the loop
    private long _softLimitSince; // Environment.TickCount64 when the soft limit was first exceeded; 0 = under it
    private volatile bool _dropped;
    private Action? _wake;

    public ClientOutbox(ClientSession session, OutputBufferGuard guard)
    {
        Session = session;
        _guard = guard;
    }

    public ClientSession Session { get; }

    /// <summary>Bytes queued or drained but not yet flushed: the part of CLIENT LIST omem pushes account for.</summary>
    public long PendingBytes => Interlocked.Read(ref _queuedBytes) + Volatile.Read(ref _inFlight);

    /// <summary>True when frames wait to be drained (a volatile read; cheap enough to check before every command).</summary>
    public bool HasFrames => Interlocked.Read(ref _queuedBytes) > 0;

    /// <summary>Set by the connection: makes its loop come back from a pending read to drain the queue.</summary>
    internal void OnWake(Action wake) => _wake = wake;

    /// <summary>
    /// Appends a frame; false when the client is (being) dropped. Over the output buffer limit the client is
    /// disconnected and its queue discarded, so memory stays bounded whatever the publishers do.
    /// </summary>
    public bool Enqueue(byte[] frame)
    {
        if (_dropped)
        {
            return false;
        }
        var queued = Interlocked.Add(ref _queuedBytes, frame.Length);
        _frames.Enqueue(frame);
        if (_guard.IsOverLimit(Session, queued + Volatile.Read(ref _inFlight), ref _softLimitSince))
        {
            Drop();
            return false;
        }
        RequestWake();
        return true;
    }

    /// <summary>Asks the connection's loop to drain (once per batch of appends, not once per frame).</summary>
    internal void RequestWake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            _wake?.Invoke();
        }
    }

    /// <summary>Called by the loop before it drains, so appends after this point wake it again.</summary>
    internal void ConsumeWake() => Interlocked.Exchange(ref _wakePending, 0);

    /// <summary>
    /// Moves queued frames into <paramref name="writer"/> (owner thread only), whole frames, until at least
    /// <paramref name="maxBytes"/> were written or the queue is empty. Returns the bytes written.
    /// </summary>
    public long DrainTo(RespWriter writer, long maxBytes = long.MaxValue)
    {
        long written = 0;
        while (written < maxBytes && _frames.TryDequeue(out var frame))
        {
            writer.WriteRaw(frame);
            written += frame.Length;
        }
        if (written > 0)
        {
            // In flight before the queue shrinks, so a concurrent limit check never sees the bytes vanish.
            Volatile.Write(ref _inFlight, _inFlight + written);
            Interlocked.Add(ref _queuedBytes, -written);
        }
        return written;
    }

    /// <summary>The connection flushed everything drained so far.</summary>
    public void Flushed()
    {
        if (_inFlight != 0)
        {
            Volatile.Write(ref _inFlight, 0);
        }
    }

    /// <summary>Stops queueing and frees what is queued (disconnect over the limit, or the connection closed).</summary>
    public void Drop()
    {
        _dropped = true;
        while (_frames.TryDequeue(out var frame))
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
        }
    }
}
