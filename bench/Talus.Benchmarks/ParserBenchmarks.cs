using System.Buffers;
using BenchmarkDotNet.Attributes;
using Talus.Protocol;

namespace Talus.Benchmarks;

/// <summary>RespParser on redis-benchmark frames: one command, and a 16-deep pipeline in one buffer (per command).</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private const int Depth = 16;
    private readonly RespLimits _limits = new();
    private CommandArgs _args = null!;
    private byte[] _get = null!;
    private byte[] _set = null!;
    private byte[] _getPipeline = null!;
    private byte[] _setPipeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        _args = new CommandArgs();
        _get = RespFrames.Gets(1);
        _set = RespFrames.Sets(1);
        _getPipeline = RespFrames.Gets(Depth);
        _setPipeline = RespFrames.Sets(Depth);
    }

    [GlobalCleanup]
    public void Cleanup() => _args.Dispose();

    [Benchmark]
    public int ParseGet() => ParseAll(_get);

    [Benchmark]
    public int ParseSet() => ParseAll(_set);

    [Benchmark(OperationsPerInvoke = Depth)]
    public int ParseGetPipelined() => ParseAll(_getPipeline);

    [Benchmark(OperationsPerInvoke = Depth)]
    public int ParseSetPipelined() => ParseAll(_setPipeline);

    private int ParseAll(byte[] frames)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frames));
        var total = 0;
        while (RespParser.TryParse(ref reader, _args, _limits) == ParseStatus.Complete)
        {
            total += _args.Count;
        }
        return total;
    }
}
