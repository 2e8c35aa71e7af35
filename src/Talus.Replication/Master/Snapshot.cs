using Talus.Replication.Binlog;
using Talus.Replication.DbSync;

namespace Talus.Replication.Master;

/// <summary>
/// An immutable checkpoint served to replicas (rule 4): its own directory, a unique id, the manifest with
/// its exact lineage, the binlog pin taken before it was made (rule 5), and a count of the sessions reading it.
/// </summary>
public sealed class Snapshot
{
    private int _readers;

    internal Snapshot(string id, string directory, SnapshotManifest manifest, BinlogPins.Pin pin)
    {
        Id = id;
        Directory = directory;
        Manifest = manifest;
        Pin = pin;
        CreatedAt = DateTime.UtcNow;
        LastReleased = CreatedAt;
    }

    public string Id { get; }

    public string Directory { get; }

    public SnapshotManifest Manifest { get; }

    internal BinlogPins.Pin Pin { get; }

    public DateTime CreatedAt { get; }

    internal DateTime LastReleased { get; set; }

    /// <summary>True once a newer snapshot exists; it is deleted when its last reader leaves.</summary>
    public bool Superseded { get; internal set; }

    /// <summary>True once the directory is gone; never handed out again.</summary>
    public bool Deleted { get; internal set; }

    public int Readers => Volatile.Read(ref _readers);

    internal void AddReader() => Interlocked.Increment(ref _readers);

    internal int RemoveReader() => Interlocked.Decrement(ref _readers);

    /// <summary>Full path of a manifest file; null unless the name is in this snapshot's manifest (rule 11).</summary>
    public string? PathOf(string name) =>
        SnapshotManifest.IsSafeName(name) && Manifest.Files.Any(f => f.Name == name) ? Path.Combine(Directory, name) : null;
}
