using System.Text;
using BenchmarkDotNet.Attributes;

namespace Talus.Benchmarks;

/// <summary>
/// GET and SET through the whole server path (parser, dispatcher, RocksDB, RespWriter) with no sockets, one
/// command per call and a 16-deep pipeline per call, reported per command. Allocated must stay 0 B.
/// </summary>
[MemoryDiagnoser]
public class CommandPathBenchmarks
{
    private const int Depth = 16;
    private const int KeySpace = 4096;
    private EmbeddedServer _server = null!;
    private byte[][] _getPipelines = null!;
    private byte[][] _setPipelines = null!;
    private byte[][] _gets = null!;
    private byte[][] _sets = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        // Slowlog off: on a loaded machine a command preempted for over 10 ms lands in the slowlog, whose entry
        // (argument strings) is allocated then; that is the slowlog's cost, not the command path's.
        _server = new EmbeddedServer(slowlogMicros: -1);
        // Distinct keys per call, as redis-benchmark -r spreads them; all GET keys exist.
        _setPipelines = Enumerable.Range(0, KeySpace / Depth).Select(i => RespFrames.Sets(Depth, i * Depth)).ToArray();
        _getPipelines = Enumerable.Range(0, KeySpace / Depth).Select(i => RespFrames.Gets(Depth, i * Depth)).ToArray();
        _sets = Enumerable.Range(0, KeySpace).Select(i => RespFrames.Sets(1, i)).ToArray();
        _gets = Enumerable.Range(0, KeySpace).Select(i => RespFrames.Gets(1, i)).ToArray();
        foreach (var p in _setPipelines)
        {
            _server.Run(p);
        }
        _server.Run(_gets[0]);
        if (!_server.Output.SequenceEqual("$3\r\nxxx\r\n"u8))
        {
            throw new InvalidOperationException("unexpected GET reply: " + Encoding.UTF8.GetString(_server.Output));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark]
    public int Get() => _server.Run(_gets[Next(_gets.Length)]);

    [Benchmark]
    public int Set() => _server.Run(_sets[Next(_sets.Length)]);

    [Benchmark(OperationsPerInvoke = Depth)]
    public int GetPipelined() => _server.Run(_getPipelines[Next(_getPipelines.Length)]);

    [Benchmark(OperationsPerInvoke = Depth)]
    public int SetPipelined() => _server.Run(_setPipelines[Next(_setPipelines.Length)]);

    private int Next(int length)
    {
        var i = _next;
        _next = i + 1 == length ? 0 : i + 1;
        return i;
    }
}
