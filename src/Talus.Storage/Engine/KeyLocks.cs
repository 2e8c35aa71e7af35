namespace Talus.Storage.Engine;

/// <summary>
/// Striped locks that serialise read-modify-write commands on the same key (INCR, APPEND, HSET, LPUSH ...)
/// while commands on other keys run in parallel on all cores. Multi-key commands take their stripes in
/// ascending order, so two of them can never wait on each other in a cycle. Reads take no lock: RocksDB
/// gives each read a consistent view.
/// </summary>
public sealed class KeyLocks
{
    private const int StripeCount = 1024;
    private readonly object[] _stripes;

    public KeyLocks()
    {
        _stripes = new object[StripeCount];
        for (var i = 0; i < StripeCount; i++)
        {
            _stripes[i] = new object();
        }
    }

    public static int StripeOf(int db, ReadOnlySpan<byte> key)
    {
        // FNV-1a: cheap, and good enough to spread keys over stripes.
        var hash = 2166136261u ^ (uint)db;
        foreach (var b in key)
        {
            hash = (hash ^ b) * 16777619u;
        }
        return (int)(hash % StripeCount);
    }

    /// <summary>Locks the stripe of one key until the returned scope is disposed.</summary>
    public Scope Lock(int db, ReadOnlySpan<byte> key)
    {
        var stripe = _stripes[StripeOf(db, key)];
        Monitor.Enter(stripe);
        return new Scope(stripe);
    }

    /// <summary>Locks the stripes of several keys in ascending stripe order.</summary>
    public MultiScope LockMany(int db, IEnumerable<byte[]> keys) => LockMany(keys.Select(k => (db, k)));

    /// <summary>Locks the stripes of keys in several databases (COPY ... DB n) in ascending stripe order.</summary>
    public MultiScope LockMany(IEnumerable<(int Db, byte[] Key)> keys)
    {
        var indices = new SortedSet<int>();
        foreach (var (db, key) in keys)
        {
            indices.Add(StripeOf(db, key));
        }
        var taken = new object[indices.Count];
        var n = 0;
        foreach (var i in indices)
        {
            Monitor.Enter(_stripes[i]);
            taken[n++] = _stripes[i];
        }
        return new MultiScope(taken);
    }

    /// <summary>Enters the given stripes, which must be distinct and in ascending order (a write group's keys).</summary>
    internal void EnterStripes(ReadOnlySpan<int> ascending)
    {
        foreach (var i in ascending)
        {
            Monitor.Enter(_stripes[i]);
        }
    }

    /// <summary>Enters one stripe if no other thread holds it (a pipeline group never waits while it holds stripes).</summary>
    internal bool TryEnterStripe(int stripe) => Monitor.TryEnter(_stripes[stripe]);

    /// <summary>Enters one stripe, waiting for it.</summary>
    internal void EnterStripe(int stripe) => Monitor.Enter(_stripes[stripe]);

    /// <summary>Leaves a stripe taken with <see cref="TryEnterStripe"/> or <see cref="EnterStripe"/>.</summary>
    internal void ExitStripe(int stripe) => Monitor.Exit(_stripes[stripe]);

    /// <summary>Leaves stripes taken with <see cref="EnterStripes"/>.</summary>
    internal void ExitStripes(ReadOnlySpan<int> ascending)
    {
        for (var i = ascending.Length - 1; i >= 0; i--)
        {
            Monitor.Exit(_stripes[ascending[i]]);
        }
    }

    /// <summary>Locks every stripe (FLUSHDB, FLUSHALL, dataset swap): nothing else writes meanwhile.</summary>
    public MultiScope LockAll()
    {
        foreach (var s in _stripes)
        {
            Monitor.Enter(s);
        }
        return new MultiScope(_stripes);
    }

    public readonly struct Scope(object stripe) : IDisposable
    {
        public void Dispose() => Monitor.Exit(stripe);
    }

    public readonly struct MultiScope(object[] stripes) : IDisposable
    {
        public void Dispose()
        {
            for (var i = stripes.Length - 1; i >= 0; i--)
            {
                Monitor.Exit(stripes[i]);
            }
        }
    }
}
