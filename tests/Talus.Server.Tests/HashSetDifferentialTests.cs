using System.Diagnostics;
using System.Globalization;
using Talus.Server.Tests.HashSetDifferential;
using Talus.TestKit;
using Xunit.Abstractions;

namespace Talus.Server.Tests;

/// <summary>
/// Talus against redis-server 7.0, reply by reply, on seeded random streams of hash and set commands (see
/// HashSetDifferential/). Set TALUS_DIFF_SEED to replay a failing seed.
/// </summary>
public class HashSetDifferentialTests(ITestOutputHelper output)
{
    private const int Operations = 100_000;
    private const int BatchSize = 500;

    private static int Seed(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("TALUS_DIFF_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : fallback;

    [Fact]
    public Task Hash_commands_answer_like_redis() => RunAsync(Seed(20_250_611), seed => new HashWorkload(new Random(seed)));

    [Fact]
    public Task Set_commands_answer_like_redis() => RunAsync(Seed(20_250_612), seed => new SetWorkload(new Random(seed)));

    private async Task RunAsync(int seed, Func<int, Workload> workload)
    {
        Assert.True(RedisProcess.IsAvailable, "redis-server is not installed at /usr/bin/redis-server");
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var runner = new DifferentialRunner(talus, redis, seed);
        var watch = Stopwatch.StartNew();
        await runner.RunAsync(workload(seed), Operations, BatchSize);
        output.WriteLine($"seed {seed}: {runner.CommandsRun} commands compared in {watch.Elapsed.TotalSeconds:0.0}s, {runner.Reconciliations} SPOP reconciliations");
        output.WriteLine("replies by command and kind: " + runner.Coverage);
        Assert.True(runner.CommandsRun >= Operations);
    }
}
