using Microsoft.Extensions.Logging.Abstractions;
using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>A dataset on a fresh temp directory, removed on dispose.</summary>
public sealed class StorageFixture : IDisposable
{
    public StorageFixture(FsyncPolicy fsync = FsyncPolicy.No)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "talus-storage-" + Guid.NewGuid().ToString("N"));
        Dataset = Dataset.Open(new StorageOptions { Path = Path, Fsync = fsync, BlockCacheBytes = 8 << 20, WriteBufferBytes = 4 << 20 }, NullLogger.Instance);
    }

    public string Path { get; }

    public Dataset Dataset { get; }

    public Database Db => Dataset[0];

    public void Dispose()
    {
        Dataset.Dispose();
        try
        {
            Directory.Delete(Path, true);
        }
        catch (IOException)
        {
        }
    }
}
