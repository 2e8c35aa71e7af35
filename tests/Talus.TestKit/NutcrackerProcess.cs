using System.Diagnostics;
using System.Globalization;

namespace Talus.TestKit;

/// <summary>A real twemproxy (nutcracker, Debian's package) on a loopback port, with its own stats port and log.</summary>
public sealed class NutcrackerProcess : ServerProcess
{
    private readonly string _config;
    private readonly int _statsPort;

    private NutcrackerProcess(string directory, int port, string config, int statsPort) : base(directory, port)
    {
        _config = config;
        _statsPort = statsPort;
    }

    public const string Binary = "/usr/sbin/nutcracker";

    public static bool IsAvailable => File.Exists(Binary);

    protected override string FileName => Binary;

    public override string LogPath => Path.Combine(Directory, "nutcracker.log");

    protected override IEnumerable<string> Arguments() =>
        ["-c", _config, "-o", LogPath, "-s", _statsPort.ToString(CultureInfo.InvariantCulture), "-a", "127.0.0.1", "-p", Path.Combine(Directory, "nutcracker.pid")];

    /// <summary>nutcracker --test-conf: null when the file is valid, otherwise what nutcracker said.</summary>
    public static string? TestConfig(string config)
    {
        var psi = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--test-conf", "-c", config })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start nutcracker");
        var output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            return "nutcracker --test-conf did not exit";
        }
        return p.ExitCode == 0 && output.Contains("syntax is ok", StringComparison.Ordinal) ? null : output;
    }

    /// <summary>Starts nutcracker with <paramref name="config"/>, listening on <paramref name="port"/> (the port in the config).</summary>
    public static async Task<NutcrackerProcess> LaunchAsync(string directory, int port, string config)
    {
        var proxy = new NutcrackerProcess(directory, port, config, FreePort.Next());
        await proxy.StartAsync().ConfigureAwait(false);
        return proxy;
    }
}
