namespace Talus.Storage.Util;

/// <summary>
/// Values read for one reply, copied back to back into one per-thread buffer instead of one array each (LRANGE
/// of 100 elements would otherwise allocate 100 arrays). Valid until the same thread takes the buffer again:
/// take it, fill it, write the reply, in that order.
/// </summary>
public sealed class ValueBuffer
{
    private const int KeepBytes = 1024 * 1024;

    [ThreadStatic]
    private static ValueBuffer? t_current;

    private byte[] _bytes;
    private int[] _ends;
    private int _length;

    private ValueBuffer(byte[] bytes, int[] ends, int length, int count)
    {
        _bytes = bytes;
        _ends = ends;
        _length = length;
        Count = count;
    }

    /// <summary>The calling thread's buffer, emptied (and shrunk after a reply of over 1 MB).</summary>
    public static ValueBuffer Take()
    {
        var buffer = t_current ??= new ValueBuffer(new byte[4096], new int[128], 0, 0);
        if (buffer._bytes.Length > KeepBytes)
        {
            buffer._bytes = new byte[4096];
        }
        if (buffer._ends.Length > KeepBytes / 4)
        {
            buffer._ends = new int[128];
        }
        buffer.Count = 0;
        buffer._length = 0;
        return buffer;
    }

    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index] =>
        _bytes.AsSpan(index == 0 ? 0 : _ends[index - 1], _ends[index] - (index == 0 ? 0 : _ends[index - 1]));

    public void Add(ReadOnlySpan<byte> value)
    {
        if (_length + value.Length > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + value.Length));
        }
        if (Count == _ends.Length)
        {
            Array.Resize(ref _ends, _ends.Length * 2);
        }
        value.CopyTo(_bytes.AsSpan(_length));
        _length += value.Length;
        _ends[Count++] = _length;
    }

    /// <summary>Bytes of all values together.</summary>
    public int ByteCount => _length;

    /// <summary>A buffer of its own holding the same values in arrays of their exact size, for a caller that keeps them (the list cache).</summary>
    public ValueBuffer Copy() => new(_bytes.AsSpan(0, _length).ToArray(), _ends.AsSpan(0, Count).ToArray(), _length, Count);

    /// <summary>The values as arrays of their own, for callers that keep them.</summary>
    public List<byte[]> ToList()
    {
        var list = new List<byte[]>(Count);
        for (var i = 0; i < Count; i++)
        {
            list.Add(this[i].ToArray());
        }
        return list;
    }
}
