using RocksDbSharp;

namespace Talus.Storage.Util;

/// <summary>
/// Per-thread scratch objects for the hot write path: one WriteBatch and one value buffer per thread,
/// cleared before each use, so a SET allocates nothing on the managed heap. A batch rented here must be
/// written before the same thread rents it again.
/// </summary>
internal static class ThreadBuffers
{
    [ThreadStatic]
    private static WriteBatch? _batch;

    [ThreadStatic]
    private static byte[]? _value;

    public static WriteBatch Batch()
    {
        var batch = _batch ??= new WriteBatch();
        batch.Clear();
        return batch;
    }

    /// <summary>A buffer of at least <paramref name="size"/> bytes; contents undefined.</summary>
    public static byte[] Value(int size)
    {
        var buffer = _value;
        if (buffer is null || buffer.Length < size || (buffer.Length > 4 * 1024 * 1024 && size < 64 * 1024))
        {
            buffer = _value = new byte[Math.Max(size, 1024)];
        }
        return buffer;
    }
}
