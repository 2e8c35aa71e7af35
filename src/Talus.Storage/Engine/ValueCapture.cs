using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// Receives a value from RocksDB's Get into a per-thread buffer, so point reads allocate nothing.
/// The captured span stays valid until the next read on the same thread.
/// </summary>
internal sealed class ValueCapture : ISpanDeserializer<bool>
{
    [ThreadStatic]
    private static ValueCapture? _current;

    private byte[] _buffer = new byte[256];

    public int Length { get; private set; }

    public static ValueCapture Current => _current ??= new ValueCapture();

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public bool Deserialize(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > _buffer.Length)
        {
            _buffer = new byte[Math.Max(buffer.Length, _buffer.Length * 2)];
        }
        buffer.CopyTo(_buffer);
        Length = buffer.Length;
        if (_buffer.Length > 4 * 1024 * 1024 && Length < 64 * 1024)
        {
            // Don't let one huge value pin megabytes per thread forever.
            var small = new byte[64 * 1024];
            _buffer.AsSpan(0, Length).CopyTo(small);
            _buffer = small;
        }
        return true;
    }
}
