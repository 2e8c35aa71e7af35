using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Talus.Storage;
using Talus.Storage.Engine;

namespace Talus.Benchmarks;

/// <summary>The storage half of GET and SET on its own: RocksDB point reads and writes through the Talus wrappers.</summary>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    private const int KeySpace = 4096;
    private const int GroupSize = 16;
    private string _dir = null!;
    private Dataset _dataset = null!;
    private Database _db = null!;
    private WriteGroup _group = null!;
    private byte[][] _keys = null!;
    private readonly byte[] _value = "xxx"u8.ToArray();
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "talus-bench-" + Guid.NewGuid().ToString("N"));
        _dataset = Dataset.Open(new StorageOptions { Path = _dir }, NullLogger.Instance);
        _db = _dataset[0];
        _group = new WriteGroup();
        _keys = Enumerable.Range(0, KeySpace).Select(i => System.Text.Encoding.ASCII.GetBytes(RespFrames.Key(i))).ToArray();
        foreach (var key in _keys)
        {
            _db.Strings.Set(key, _value);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _group.Dispose();
        _dataset.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public bool EngineTryGet() => _dataset.Engine.TryGet(_dataset.Engine.Meta, _db.MetaKeySpan(NextKey()), out _);

    [Benchmark]
    public KeyLookup StringGet() => _db.Strings.Get(NextKey(), out _);

    [Benchmark]
    public void StringSet() => _db.Strings.Set(NextKey(), _value);

    [Benchmark(OperationsPerInvoke = GroupSize)]
    public void StringSetGrouped()
    {
        for (var i = 0; i < GroupSize; i++)
        {
            _db.Strings.Set(NextKey(), _value, 0, _group);
        }
        _group.Commit(_dataset);
    }

    private byte[] NextKey()
    {
        var i = _next;
        _next = i + 1 == KeySpace ? 0 : i + 1;
        return _keys[i];
    }
}
