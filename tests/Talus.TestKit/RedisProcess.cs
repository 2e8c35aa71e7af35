namespace Talus.TestKit;

/// <summary>A real redis-server (Debian's package) for side-by-side comparisons, in its own temp directory.</summary>
public sealed class RedisProcess : ServerProcess
{
    private readonly TempDirectory _dir;
    private readonly string[] _extra;

    private RedisProcess(TempDirectory dir, int port, string[] extra) : base(dir.Path, port)
    {
        _dir = dir;
        _extra = extra;
    }

    public static bool IsAvailable => File.Exists("/usr/bin/redis-server");

    protected override string FileName => "/usr/bin/redis-server";

    public override string LogPath => Path.Combine(Directory, "redis.log");

    protected override IEnumerable<string> Arguments() =>
        new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory, "--logfile", LogPath, "--save", "", "--appendonly", "no", "--daemonize", "no" }
            .Concat(_extra);

    public static async Task<RedisProcess> LaunchAsync(params string[] extra)
    {
        var server = new RedisProcess(new TempDirectory("redis"), FreePort.Next(), extra);
        await server.StartAsync().ConfigureAwait(false);
        return server;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        _dir.Dispose();
    }
}
