using Microsoft.Extensions.Logging;
using Talus.Storage.Engine;
using Talus.Storage.Util;

namespace Talus.Storage;

/// <summary>
/// The whole keyspace of a server: one storage engine holding <see cref="StorageOptions.Databases"/> logical
/// databases, the key locks they share, and the SCAN cursor table. The engine can be replaced as a whole
/// (a replica's full sync) while no command runs.
/// </summary>
public sealed class Dataset : IDisposable
{
    private readonly Database[] _databases;
    private StorageEngine _engine;

    public Dataset(StorageEngine engine)
    {
        _engine = engine;
        Commits = new CommitQueue(this);
        _databases = new Database[engine.Options.Databases];
        for (var i = 0; i < _databases.Length; i++)
        {
            _databases[i] = new Database(this, i);
        }
    }

    public static Dataset Open(StorageOptions options, ILogger logger) => new(StorageEngine.Open(options, logger));

    public StorageEngine Engine => _engine;

    public KeyLocks Locks { get; } = new();

    /// <summary>Writes the write groups connections queue (<see cref="WriteGroup.Queue"/>), in order.</summary>
    public CommitQueue Commits { get; }

    public ScanCursors Cursors { get; } = new();

    public int DatabaseCount => _databases.Length;

    public Database this[int index] => _databases[index];

    /// <summary>
    /// Swaps in another engine and returns the old one (not disposed). The caller guarantees that no
    /// command and no background reader uses the dataset meanwhile.
    /// </summary>
    public StorageEngine ReplaceEngine(StorageEngine replacement)
    {
        var old = _engine;
        _engine = replacement;
        return old;
    }

    /// <summary>Writes what is queued, then closes the engine.</summary>
    public void Dispose()
    {
        Commits.Dispose();
        _engine.Dispose();
    }
}
