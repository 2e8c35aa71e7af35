using Talus.Replication.Replica;

namespace Talus.Replication.Master;

/// <summary>
/// The file <c>talus.running</c> in the data directory, holding the machine's boot id while the server runs and
/// removed when it closes cleanly. Found at start-up, it says the last run did not close; with another boot id,
/// the machine itself went down under it, and the write-ahead log's last entries, written to the operating
/// system but not yet synced (appendfsync everysec or no), may be gone, while a replica had already streamed
/// them. A master that reused those offsets for new writes would let that replica continue on data it never
/// had (rule 2), so such a master starts a new history first (<see cref="ReplicationManager.StartAsMaster"/>).
/// A process that crashed alone (kill -9) loses nothing the system took, so its history goes on.
/// </summary>
public sealed class RunMarker
{
    public const string FileName = "talus.running";

    private const string BootIdPath = "/proc/sys/kernel/random/boot_id";

    private readonly string _path;

    private RunMarker(string path, string? machineRestart)
    {
        _path = path;
        MachineRestart = machineRestart;
    }

    /// <summary>Why the last run's end may have lost synced-late log entries (the machine restarted under it), or null.</summary>
    public string? MachineRestart { get; }

    /// <summary>Reads what the last run left, then records this run durably.</summary>
    public static RunMarker Begin(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var boot = BootId();
        string? restart = null;
        if (File.Exists(path))
        {
            var last = File.ReadAllText(path).Trim();
            if (boot is null || last != boot)
            {
                restart = boot is null
                    ? $"the last run did not close cleanly, and this machine's boot id is unknown ({BootIdPath} unreadable)"
                    : $"the last run did not close cleanly and the machine has restarted since (boot id {(last.Length == 0 ? "unknown" : last)}, now {boot})";
            }
        }
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using var writer = new StreamWriter(file);
            writer.Write((boot ?? "") + "\n");
            writer.Flush();
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        DatasetDirectories.FsyncDirectory(directory);
        return new RunMarker(path, restart);
    }

    /// <summary>The run closed cleanly (the dataset is closed and its log synced): nothing of it can be lost.</summary>
    public void End()
    {
        File.Delete(_path);
        DatasetDirectories.FsyncDirectory(Path.GetDirectoryName(_path)!);
    }

    private static string? BootId()
    {
        try
        {
            return File.ReadAllText(BootIdPath).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
