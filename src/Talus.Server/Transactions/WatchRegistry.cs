using System.Runtime.InteropServices;
using Talus.Storage;
using Talus.Storage.Engine;

namespace Talus.Server.Transactions;

/// <summary>
/// Which clients watch which keys: (db, key) → the transactions watching it. Writers call <see cref="Touch"/>
/// for the keys they modified, which marks every watcher CAS-dirty so its EXEC answers a nil array.
/// <see cref="Active"/> is a plain count check, so a server where nobody watches pays one volatile read per
/// write command. Registration and touching share one lock: watching is rare, touching only happens while
/// someone watches.
/// </summary>
public sealed class WatchRegistry
{
    private readonly object _lock = new();
    private readonly Dictionary<(int Db, byte[] Key), List<ClientTransaction>> _byKey = new(KeyComparer.Instance);
    private int _count;
    private long _stamp;

    /// <summary>True while at least one key is watched by some client.</summary>
    public bool Active => Volatile.Read(ref _count) > 0;

    /// <summary>Increases with every registration; a reader that saw the same value saw no new watcher.</summary>
    public long Stamp => Interlocked.Read(ref _stamp);

    /// <summary>Number of watched (client, key) pairs (INFO watching_clients-like counters, tests).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Starts watching <paramref name="key"/> for <paramref name="tx"/> (no-op if already watched).</summary>
    public void Watch(ClientTransaction tx, int db, byte[] key, long expireAtMs)
    {
        lock (_lock)
        {
            foreach (var w in tx.Watched)
            {
                if (w.Db == db && w.Key.AsSpan().SequenceEqual(key))
                {
                    return;
                }
            }
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(_byKey, (db, key), out _);
            list ??= [];
            list.Add(tx);
            tx.Watched.Add(new WatchedKey(db, key, expireAtMs, Interlocked.Increment(ref _stamp)));
            // Full fence (Interlocked): a writer that commits after this point and then reads Active sees it.
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Forgets every key <paramref name="tx"/> watches.</summary>
    public void RemoveAll(ClientTransaction tx)
    {
        lock (_lock)
        {
            foreach (var w in tx.Watched)
            {
                if (_byKey.TryGetValue((w.Db, w.Key), out var list))
                {
                    list.Remove(tx);
                    if (list.Count == 0)
                    {
                        _byKey.Remove((w.Db, w.Key));
                    }
                }
                Interlocked.Decrement(ref _count);
            }
            tx.Watched.Clear();
        }
    }

    /// <summary>A write modified <paramref name="key"/> in <paramref name="db"/>: its watchers become dirty.</summary>
    public void Touch(int db, ReadOnlySpan<byte> key)
    {
        if (!Active)
        {
            return;
        }
        lock (_lock)
        {
            if (_byKey.TryGetValue((db, key.ToArray()), out var list))
            {
                foreach (var tx in list)
                {
                    tx.MarkDirty();
                }
            }
        }
    }

    /// <summary>
    /// FLUSHDB / FLUSHALL, called before the flush: as in Redis 7.0, a watcher becomes dirty only when its key
    /// exists (a watched key that does not exist is not changed by emptying the database).
    /// <paramref name="db"/> null means every database.
    /// </summary>
    public void TouchFlush(Dataset dataset, int? db)
    {
        if (!Active)
        {
            return;
        }
        lock (_lock)
        {
            foreach (var ((keyDb, key), list) in _byKey)
            {
                if ((db is null || keyDb == db) && dataset[keyDb].Keys.Exists(key))
                {
                    list.ForEach(tx => tx.MarkDirty());
                }
            }
        }
    }

    /// <summary>
    /// A replica wrote a batch of its master's (<paramref name="batch"/>, a WriteBatch representation): every key
    /// it changes is touched, as Redis touches the keys of the commands its master sends. An emptied database
    /// (FLUSHDB, FLUSHALL) dirties all of its watchers, existing keys or not, since the batch is already written.
    /// </summary>
    public void TouchBatch(StorageEngine engine, byte[] batch)
    {
        if (!Active)
        {
            return;
        }
        try
        {
            WriteBatchKeys.Visit(engine, batch, Touch, db => TouchDatabase(db < 0 ? null : db));
        }
        catch (InvalidDataException)
        {
            // A record this server cannot read: it may have changed any key.
            TouchDatabase(null);
        }
    }

    /// <summary>Marks dirty every watcher of database <paramref name="db"/> (null: of every database), whatever its key.</summary>
    public void TouchDatabase(int? db)
    {
        if (!Active)
        {
            return;
        }
        lock (_lock)
        {
            foreach (var ((keyDb, _), list) in _byKey)
            {
                if (db is null || keyDb == db)
                {
                    list.ForEach(tx => tx.MarkDirty());
                }
            }
        }
    }

    /// <summary>
    /// Marks dirty every watcher registered after <paramref name="stamp"/>, whatever its key: used when writes
    /// that were not tracked key by key (a group commit that started before anyone watched, a batch applied by
    /// replication) become visible. Conservative: a spurious nil EXEC is allowed, a missed change is not.
    /// </summary>
    public void TouchSince(long stamp)
    {
        if (!Active)
        {
            return;
        }
        lock (_lock)
        {
            foreach (var list in _byKey.Values)
            {
                foreach (var tx in list)
                {
                    if (tx.Watched.Any(w => w.Stamp > stamp))
                    {
                        tx.MarkDirty();
                    }
                }
            }
        }
    }

    private sealed class KeyComparer : IEqualityComparer<(int Db, byte[] Key)>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals((int Db, byte[] Key) x, (int Db, byte[] Key) y) => x.Db == y.Db && x.Key.AsSpan().SequenceEqual(y.Key);

        public int GetHashCode((int Db, byte[] Key) obj)
        {
            var hash = new HashCode();
            hash.Add(obj.Db);
            hash.AddBytes(obj.Key);
            return hash.ToHashCode();
        }
    }
}
