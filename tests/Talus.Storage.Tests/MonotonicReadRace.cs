namespace Talus.Storage.Tests;

/// <summary>
/// Two writers that only ever raise the values of their keys, racing two readers for four seconds: a reader
/// that sees a key's value below one whose write had already returned reports it. The caches' coherence tests
/// run their write and read paths through it.
/// </summary>
internal static class MonotonicReadRace
{
    private const int Writers = 2;

    /// <summary>
    /// Runs the race over <paramref name="keys"/> keys. <paramref name="write"/> writes the given keys (distinct, at
    /// most <paramref name="keysPerWrite"/>) with the value <c>round</c>; <paramref name="read"/> returns a key's
    /// value, 0 when it has none. Returns what the readers saw go backwards (at most one line per reader) and the
    /// number of reads.
    /// </summary>
    public static (List<string> Failures, long Reads) Run(int keys, int keysPerWrite, Action<int[], long> write, Func<int, long> read)
    {
        var committed = new long[keys];
        var stop = DateTime.UtcNow.AddSeconds(4);
        var failures = new List<string>();
        var reads = 0L;
        var writers = Enumerable.Range(0, Writers).Select(w => new Thread(() =>
        {
            var random = new Random(w);
            for (var round = 1L; round < 2_000_000 && DateTime.UtcNow < stop; round++)
            {
                // This writer owns the keys k with k % Writers == w: their values only grow.
                var written = Enumerable.Range(0, keysPerWrite).Select(_ => random.Next(keys / Writers) * Writers + w).Distinct().ToArray();
                write(written, round);
                foreach (var k in written)
                {
                    Volatile.Write(ref committed[k], round);
                }
            }
        })).ToList();
        var readers = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            var random = new Random(100 + r);
            while (DateTime.UtcNow < stop)
            {
                var k = random.Next(keys);
                var before = Volatile.Read(ref committed[k]);
                var seen = read(k);
                Interlocked.Increment(ref reads);
                if (seen < before)
                {
                    lock (failures)
                    {
                        failures.Add($"key {k}: read {seen} after the write of {before} returned");
                    }
                    return;
                }
            }
        })).ToList();
        writers.ForEach(t => t.Start());
        readers.ForEach(t => t.Start());
        writers.ForEach(t => t.Join());
        readers.ForEach(t => t.Join());
        return (failures, Interlocked.Read(ref reads));
    }
}
