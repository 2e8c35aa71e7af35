using System.Diagnostics;
using System.Runtime.InteropServices;
using StackExchange.Redis;

namespace Talus.TestKit;

/// <summary>
/// A real server process (talus or redis-server) on a loopback port, in its own directory. Start waits until
/// it answers PING; <see cref="Kill"/> is kill -9; <see cref="Stop"/> is SIGTERM and a wait for exit.
/// </summary>
public abstract class ServerProcess : IAsyncDisposable
{
    private Process? _process;
    private ConnectionMultiplexer? _mux;

    protected ServerProcess(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public int Pid => _process?.Id ?? 0;

    public bool IsRunning => _process is { HasExited: false };

    public string Endpoint => $"127.0.0.1:{Port}";

    protected abstract string FileName { get; }

    protected abstract IEnumerable<string> Arguments();

    /// <summary>Where the server writes its log (shown in failure messages).</summary>
    public abstract string LogPath { get; }

    public string ReadLog() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var a in Arguments())
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {FileName}");
        var output = new StreamWriter(Path.Combine(Directory, "stdout.log"), append: true) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.WriteLine(e.Data); } } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.WriteLine(e.Data); } } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{FileName} exited with {_process.ExitCode} during start:\n{ReadLog()}\n{StdOut()}");
            }
            try
            {
                using var probe = new RespClient(Port, timeoutMs: 1000);
                if (probe.Call("PING") is { IsError: false } or { Text: not null } )
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
            {
                // not listening yet
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{FileName} did not answer PING on port {Port}:\n{ReadLog()}");
            }
            await Task.Delay(25).ConfigureAwait(false);
        }
    }

    public string StdOut()
    {
        var path = Path.Combine(Directory, "stdout.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    /// <summary>A StackExchange.Redis connection (admin commands allowed), created once.</summary>
    public ConnectionMultiplexer Connection => _mux ??= ConnectionMultiplexer.Connect(new ConfigurationOptions
    {
        EndPoints = { Endpoint },
        AllowAdmin = true,
        AbortOnConnectFail = false,
        ConnectTimeout = 10_000,
        SyncTimeout = 30_000,
        AsyncTimeout = 30_000,
        Password = Password,
    });

    protected virtual string? Password => null;

    public IDatabase Db(int index = 0) => Connection.GetDatabase(index);

    public RespClient Client() => new(Port);

    /// <summary>INFO of one section as a field → value map.</summary>
    public Dictionary<string, string> Info(string section = "all")
    {
        using var client = Client();
        if (Password is { } pass)
        {
            client.Call("AUTH", pass);
        }
        var reply = client.Call("INFO", section);
        return reply.Text!.Split("\r\n")
            .Where(l => l.Contains(':') && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0], p => p[1]);
    }

    /// <summary>kill -9: no chance to flush or clean up.</summary>
    public void Kill()
    {
        DropConnection();
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM, then waits for a clean exit; returns the exit code.</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        DropConnection();
        if (_process is null || _process.HasExited)
        {
            return _process?.ExitCode ?? 0;
        }
        _ = SysKill(_process.Id, 15);
        if (!_process.WaitForExit((int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds))
        {
            _process.Kill();
            throw new TimeoutException($"{FileName} did not exit after SIGTERM:\n{ReadLog()}");
        }
        return _process.ExitCode;
    }

    public bool WaitForExit(TimeSpan timeout) => _process is null || _process.WaitForExit((int)timeout.TotalMilliseconds);

    public int ExitCode => _process?.ExitCode ?? 0;

    private void DropConnection()
    {
        _mux?.Dispose();
        _mux = null;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    public virtual ValueTask DisposeAsync()
    {
        Kill();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
