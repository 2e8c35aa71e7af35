using System.Diagnostics;

namespace Talus.TestKit;

/// <summary>
/// A size-limited tmpfs mounted at a directory, to fill a server's disk on purpose. Mounting needs root (or
/// sudo without a password); <see cref="TryMount"/> says why it could not.
/// </summary>
public sealed class SmallFilesystem : IDisposable
{
    private SmallFilesystem(string path) => Path = path;

    public string Path { get; }

    /// <summary>Mounts <paramref name="megabytes"/> MB at <paramref name="path"/> (created if missing); null and the reason when that fails.</summary>
    public static SmallFilesystem? TryMount(string path, int megabytes, out string error)
    {
        Directory.CreateDirectory(path);
        error = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        return error.Length == 0 ? new SmallFilesystem(path) : null;
    }

    /// <summary>Gives the filesystem a new size (more room: the disk is no longer full).</summary>
    public void Resize(int megabytes)
    {
        var error = Run("mount", "-o", $"remount,size={megabytes}m", Path);
        if (error.Length > 0)
        {
            throw new InvalidOperationException("remount failed: " + error);
        }
    }

    public void Dispose() => Run("umount", "-l", Path);

    /// <summary>Runs the command (through sudo -n when not root); returns "" on success, else what it printed.</summary>
    private static string Run(string command, params string[] args)
    {
        var asRoot = Environment.UserName == "root";
        var start = new ProcessStartInfo(asRoot ? command : "sudo") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (!asRoot)
        {
            start.ArgumentList.Add("-n");
            start.ArgumentList.Add(command);
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? "" : $"{command} exited {process.ExitCode}: {output.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{command}: {ex.Message}";
        }
    }
}
