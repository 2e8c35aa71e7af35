using System.Diagnostics;

namespace Talus.Benchmarks;

/// <summary>
/// <c>--loop get|set SECONDS [PRELOAD]</c>: like redis-benchmark -r 1000000 -P 16 against one embedded client. It
/// first SETs PRELOAD random keys (default 600000, about what 1M random SETs leave), then runs 16-deep pipelines
/// of the command on random keys for SECONDS and prints the rate, so a profiler (dotnet-trace, perf) can be
/// attached to a steady state without sockets or BenchmarkDotNet.
/// </summary>
public static class ProfileLoop
{
    private const int Depth = 16;
    private const int KeyRange = 1_000_000;

    public static void Run(string command, double seconds, int preload)
    {
        using var server = new EmbeddedServer();
        var random = new Random(42);
        for (var done = 0; done < preload; done += Depth)
        {
            server.Run(RespFrames.Pipeline(Depth, _ => RespFrames.Command("SET", RespFrames.Key(random.Next(KeyRange)), "xxx")));
        }
        var name = command.ToUpperInvariant();
        var requests = Enumerable.Range(0, 4096)
            .Select(_ => RespFrames.Pipeline(Depth, _ => name == "SET"
                ? RespFrames.Command("SET", RespFrames.Key(random.Next(KeyRange)), "xxx")
                : RespFrames.Command(name, RespFrames.Key(random.Next(KeyRange)))))
            .ToArray();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long commands = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            foreach (var request in requests)
            {
                server.Run(request);
            }
            commands += requests.Length * Depth;
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        // On a shared machine the wall-clock rate depends on the neighbours; CPU time per command does much less.
        Console.WriteLine($"{command}: {commands / clock.Elapsed.TotalSeconds:F0} commands/s, {cpu.TotalMicroseconds / commands:F2} µs CPU per command (after {preload} SETs), {(double)allocated / commands:F2} B allocated per command");
    }
}
