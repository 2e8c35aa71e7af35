using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace Talus.Benchmarks;

/// <summary>What the clocks the command path reads cost on this machine (each GET reads one or more).</summary>
[MemoryDiagnoser]
public class ClockBenchmarks
{
    [Benchmark]
    public long StopwatchTimestamp() => Stopwatch.GetTimestamp();

    [Benchmark]
    public long TickCount64() => Environment.TickCount64;

    [Benchmark]
    public long UtcNowUnixMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
