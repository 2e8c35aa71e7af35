namespace Talus.Server.Blocking;

/// <summary>A key in one logical database, as the blocking registry indexes it (compared by content).</summary>
public readonly struct WaitKey : IEquatable<WaitKey>
{
    public WaitKey(int db, byte[] key)
    {
        Db = db;
        Key = key;
    }

    public int Db { get; }

    public byte[] Key { get; }

    public bool Equals(WaitKey other) => Db == other.Db && Key.AsSpan().SequenceEqual(other.Key);

    public override bool Equals(object? obj) => obj is WaitKey other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Db);
        hash.AddBytes(Key);
        return hash.ToHashCode();
    }

    public static bool operator ==(WaitKey left, WaitKey right) => left.Equals(right);

    public static bool operator !=(WaitKey left, WaitKey right) => !left.Equals(right);
}
