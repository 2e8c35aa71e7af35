namespace Talus.Replication.Replica;

/// <summary>
/// The directories of a node's dataset and the crash-safe swap of a received full sync:
/// <code>
/// dir/db            the live dataset
/// dir/db.staging    a full sync being received (wiped on abort and on start-up)
/// dir/db.swap       marker: staging is verified and is to replace db
/// dir/db.old        the dataset being replaced (deleted after the swap)
/// </code>
/// The marker is written (and synced) only after every file was verified and the staging store's lineage
/// matched the manifest. On start-up <see cref="Recover"/> finishes a swap the marker announces, or throws
/// away a staging area without one, so a kill -9 at any instant leaves either the old dataset (whose
/// lineage was cleared before the transfer began) or the complete new one.
/// </summary>
public sealed class DatasetDirectories
{
    public DatasetDirectories(string dataDir)
    {
        Live = Path.Combine(dataDir, "db");
        Staging = Path.Combine(dataDir, "db.staging");
        SwapMarker = Path.Combine(dataDir, "db.swap");
        Old = Path.Combine(dataDir, "db.old");
    }

    public string Live { get; }

    public string Staging { get; }

    public string SwapMarker { get; }

    public string Old { get; }

    /// <summary>Completes or discards an interrupted swap. Call before opening the live dataset.</summary>
    public void Recover()
    {
        if (File.Exists(SwapMarker) && Directory.Exists(Staging))
        {
            if (Directory.Exists(Live))
            {
                DeleteIfExists(Old);
                Directory.Move(Live, Old);
            }
            Directory.Move(Staging, Live);
        }
        if (File.Exists(SwapMarker))
        {
            File.Delete(SwapMarker);
        }
        DeleteIfExists(Staging);
        DeleteIfExists(Old);
    }

    /// <summary>Wipes the staging area (every abort, rule 3) and makes it empty.</summary>
    public void ResetStaging()
    {
        DeleteIfExists(Staging);
        Directory.CreateDirectory(Staging);
    }

    public void DiscardStaging() => DeleteIfExists(Staging);

    /// <summary>Declares staging verified: from here on a restart finishes the swap.</summary>
    public void MarkSwapReady()
    {
        using (var marker = new FileStream(SwapMarker, FileMode.Create, FileAccess.Write))
        {
            marker.Write("staging verified\n"u8);
            marker.Flush(flushToDisk: true);
        }
        FsyncDirectory(Path.GetDirectoryName(SwapMarker)!);
    }

    /// <summary>
    /// With the live dataset closed: staging becomes live, the old one is removed. <paramref name="pauseMidway"/>
    /// (testing only) is slept between the two renames, the instant with no live dataset at all.
    /// </summary>
    public void SwapClosed(TimeSpan pauseMidway = default)
    {
        DeleteIfExists(Old);
        if (Directory.Exists(Live))
        {
            Directory.Move(Live, Old);
        }
        if (pauseMidway > TimeSpan.Zero)
        {
            Thread.Sleep(pauseMidway);
        }
        Directory.Move(Staging, Live);
        FsyncDirectory(Path.GetDirectoryName(Live)!);
        File.Delete(SwapMarker);
        DeleteIfExists(Old);
    }

    private static void DeleteIfExists(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>Makes renames in a directory durable (fsync of the directory itself).</summary>
    internal static void FsyncDirectory(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // Not every filesystem lets a directory be opened for flush; the rename is still atomic.
        }
    }
}
