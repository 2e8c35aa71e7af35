using BenchmarkDotNet.Running;

namespace Talus.Benchmarks;

/// <summary>
/// Entry point: BenchmarkDotNet's switcher, so <c>--filter</c>, <c>--job</c> and the rest work as documented;
/// or <c>--loop TEST SECONDS [PRELOAD]</c> (<see cref="ProfileLoop"/>) for attaching a profiler.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length is 3 or 4 && args[0] == "--loop")
        {
            var preload = args.Length == 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 600_000;
            ProfileLoop.Run(args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), preload);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
