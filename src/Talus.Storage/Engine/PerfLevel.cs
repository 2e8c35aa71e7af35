using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// RocksDB's per-thread perf context. Its level starts at "count" on every thread, so each read, each iterator
/// step and each write adds to thread-local counters that Talus never reads. A thread turns that off once,
/// before its first call into the engine.
/// </summary>
internal static class PerfLevel
{
    private const int Disable = 1;

    [ThreadStatic] private static bool t_off;

    public static void OffForThisThread()
    {
        if (!t_off)
        {
            Native.Instance.rocksdb_set_perf_level(Disable);
            t_off = true;
        }
    }
}
