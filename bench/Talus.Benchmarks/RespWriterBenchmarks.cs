using System.Buffers;
using BenchmarkDotNet.Attributes;
using Talus.Protocol;

namespace Talus.Benchmarks;

/// <summary>RespWriter encoding the replies of the hot commands into a reused buffer.</summary>
[MemoryDiagnoser]
public class RespWriterBenchmarks
{
    private const int Replies = 16;
    private readonly byte[] _value = "xxx"u8.ToArray();
    private readonly byte[] _large = new byte[1024];
    private ArrayBufferWriter<byte> _output = null!;
    private RespWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _output = new ArrayBufferWriter<byte>(64 * 1024);
        _writer = new RespWriter(_output);
    }

    [Benchmark(OperationsPerInvoke = Replies)]
    public void WriteOk()
    {
        _output.ResetWrittenCount();
        for (var i = 0; i < Replies; i++)
        {
            _writer.WriteOk();
        }
    }

    [Benchmark(OperationsPerInvoke = Replies)]
    public void WriteBulk3()
    {
        _output.ResetWrittenCount();
        for (var i = 0; i < Replies; i++)
        {
            _writer.WriteBulk(_value);
        }
    }

    [Benchmark(OperationsPerInvoke = Replies)]
    public void WriteBulk1K()
    {
        _output.ResetWrittenCount();
        for (var i = 0; i < Replies; i++)
        {
            _writer.WriteBulk(_large);
        }
    }

    [Benchmark(OperationsPerInvoke = Replies)]
    public void WriteInteger()
    {
        _output.ResetWrittenCount();
        for (var i = 0; i < Replies; i++)
        {
            _writer.WriteInteger(1234567 + i);
        }
    }

    [Benchmark(OperationsPerInvoke = Replies)]
    public void WriteNull()
    {
        _output.ResetWrittenCount();
        for (var i = 0; i < Replies; i++)
        {
            _writer.WriteNull();
        }
    }
}
