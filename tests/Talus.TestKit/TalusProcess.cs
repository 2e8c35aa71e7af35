namespace Talus.TestKit;

/// <summary>A real talus server process in its own temp directory on a free loopback port.</summary>
public sealed class TalusProcess : ServerProcess
{
    private readonly TempDirectory? _owned;
    private readonly List<string> _extra;

    private TalusProcess(string directory, int port, TempDirectory? owned, IEnumerable<string> extra) : base(directory, port)
    {
        _owned = owned;
        _extra = extra.ToList();
    }

    /// <summary>Path of the built server, from TALUS_BIN or the repository's .build/bin/talus (built by ./talus or ./test).</summary>
    public static string BinaryPath
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("TALUS_BIN");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return fromEnv;
            }
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Talus.slnx")))
            {
                dir = dir.Parent;
            }
            var path = dir is null ? null : Path.Combine(dir.FullName, ".build", "bin", "talus");
            if (path is null || !File.Exists(path))
            {
                throw new FileNotFoundException("talus binary not found: run ./talus --version (builds it) or set TALUS_BIN");
            }
            return path;
        }
    }

    protected override string FileName => BinaryPath;

    public override string LogPath => Path.Combine(Directory, "talus.log");

    /// <summary>The command-line settings besides port, dir and logfile (replace with <see cref="SetArguments"/> before a restart).</summary>
    public IReadOnlyList<string> ExtraArguments => _extra;

    public string? RequirePass { get; set; }

    protected override string? Password => RequirePass;

    public void SetArguments(IEnumerable<string> extra)
    {
        _extra.Clear();
        _extra.AddRange(extra);
    }

    protected override IEnumerable<string> Arguments() =>
        new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", Path.Combine(Directory, "data"), "--logfile", LogPath }
            .Concat(_extra);

    /// <summary>Starts a server with extra "--name value" arguments (a new temp dir and port unless given).</summary>
    public static async Task<TalusProcess> LaunchAsync(params string[] extra)
    {
        var dir = new TempDirectory("talus");
        var server = new TalusProcess(dir.Path, FreePort.Next(), dir, extra);
        var pass = Array.IndexOf(extra, "--requirepass");
        if (pass >= 0 && pass + 1 < extra.Length)
        {
            server.RequirePass = extra[pass + 1];
        }
        await server.StartAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>A server object for <paramref name="directory"/> and <paramref name="port"/>, not started (restart scenarios).</summary>
    public static TalusProcess Create(string directory, int port, params string[] extra) => new(directory, port, null, extra);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        _owned?.Dispose();
    }
}
