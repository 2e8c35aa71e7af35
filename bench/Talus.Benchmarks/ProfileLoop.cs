using System.Diagnostics;
using System.Globalization;

namespace Talus.Benchmarks;

/// <summary>
/// <c>--loop TEST SECONDS [PRELOAD]</c>: like redis-benchmark -r 1000000 -P 16 against one embedded client. It
/// first SETs PRELOAD random keys (default 600000, about what 1M random SETs leave), then runs 16-deep pipelines
/// of the test's command for SECONDS and prints the rate, so a profiler (dotnet-trace, perf) can be attached to
/// a steady state without sockets or BenchmarkDotNet. TEST is one of redis-benchmark's test names:
/// get, set, incr, lpush, lpop, sadd, hset, zadd, lrange_100 — with the commands redis-benchmark sends for it
/// (the collection tests all work on one key, as redis-benchmark's do). lpop and lrange_100 first LPUSH
/// PRELOAD elements, as redis-benchmark's "LPUSH (needed to benchmark LRANGE)" run does.
/// </summary>
public static class ProfileLoop
{
    private const int Depth = 16;
    private const int KeyRange = 1_000_000;

    public static void Run(string test, double seconds, int preload)
    {
        using var server = new EmbeddedServer();
        var random = new Random(42);
        test = test.ToLowerInvariant();
        if (test is "lpop" or "lrange_100")
        {
            for (var done = 0; done < preload; done += Depth)
            {
                server.Run(RespFrames.Pipeline(Depth, _ => RespFrames.Command("LPUSH", "mylist", "xxx")));
            }
        }
        else
        {
            for (var done = 0; done < preload; done += Depth)
            {
                server.Run(RespFrames.Pipeline(Depth, _ => RespFrames.Command("SET", RespFrames.Key(random.Next(KeyRange)), "xxx")));
            }
        }
        var requests = Enumerable.Range(0, 4096)
            .Select(_ => RespFrames.Pipeline(Depth, _ => CommandOf(test, random)))
            .ToArray();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long commands = 0;
        long refilledAt = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var allocatedTotal = GC.GetTotalAllocatedBytes(precise: true);
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            foreach (var request in requests)
            {
                if (test == "lpop" && commands - refilledAt >= preload / 2)
                {
                    // Keep the list from running dry; the refill's CPU time is not the test's.
                    var before = Process.GetCurrentProcess().TotalProcessorTime;
                    RefillList(server, preload / 2);
                    cpu += Process.GetCurrentProcess().TotalProcessorTime - before;
                    refilledAt = commands;
                }
                server.Run(request);
                commands += Depth;
            }
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        allocatedTotal = GC.GetTotalAllocatedBytes(precise: true) - allocatedTotal;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        // On a shared machine the wall-clock rate depends on the neighbours; CPU time per command does much less.
        Console.WriteLine($"{test}: {commands / clock.Elapsed.TotalSeconds:F0} commands/s, {cpu.TotalMicroseconds / commands:F2} µs CPU per command (after {preload} preloaded), {(double)allocated / commands:F2} B allocated per command on the command thread, {(double)allocatedTotal / commands:F2} B in the whole process");
    }

    /// <summary>The command redis-benchmark 7.0 sends for <paramref name="test"/>, with -r 1000000.</summary>
    private static byte[] CommandOf(string test, Random random)
    {
        var n = random.Next(KeyRange).ToString("D12", CultureInfo.InvariantCulture);
        return test switch
        {
            "get" => RespFrames.Command("GET", "key:" + n),
            "set" => RespFrames.Command("SET", "key:" + n, "xxx"),
            "incr" => RespFrames.Command("INCR", "counter:" + n),
            "lpush" => RespFrames.Command("LPUSH", "mylist", "xxx"),
            "lpop" => RespFrames.Command("LPOP", "mylist"),
            "sadd" => RespFrames.Command("SADD", "myset", "element:" + n),
            "hset" => RespFrames.Command("HSET", "myhash", "element:" + n, "xxx"),
            "zadd" => RespFrames.Command("ZADD", "myzset", random.Next(KeyRange).ToString(CultureInfo.InvariantCulture), "element:" + n),
            "lrange_100" => RespFrames.Command("LRANGE", "mylist", "0", "99"),
            _ => throw new ArgumentException($"unknown test '{test}' (get, set, incr, lpush, lpop, sadd, hset, zadd, lrange_100)"),
        };
    }

    private static void RefillList(EmbeddedServer server, int count)
    {
        for (var done = 0; done < count; done += Depth)
        {
            server.Run(RespFrames.Pipeline(Depth, _ => RespFrames.Command("LPUSH", "mylist", "xxx")));
        }
    }
}
