using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Talus.Server.Config;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>The sample config, CONFIG GET/SET/REWRITE and the command line, against redis-server where Redis has the same setting.</summary>
public class ConfigTests
{
    /// <summary>
    /// Settings Talus shares with Redis, with Redis' defaults: CONFIG GET must read the same on both (not maxclients,
    /// which Redis lowers to fit the open-file limit).
    /// </summary>
    private static readonly string[] SharedDefaults =
    [
        "timeout", "tcp-keepalive", "databases", "loglevel", "replica-read-only", "slave-read-only", "replica-priority",
        "repl-timeout", "repl-ping-replica-period", "appendfsync", "proto-max-bulk-len", "client-query-buffer-limit",
        "client-output-buffer-limit", "maxmemory", "maxmemory-policy", "slowlog-log-slower-than", "slowlog-max-len", "masterauth",
        "masteruser", "requirepass", "save",
    ];

    private static string SampleConfig => Path.Combine(RepositoryRoot(), "conf", "talus.conf");

    [Fact]
    public void Sample_config_documents_every_key()
    {
        var text = File.ReadAllText(SampleConfig);
        foreach (var entry in ConfigRegistry.Entries)
        {
            Assert.True(Regex.IsMatch(text, $"^(# )?{Regex.Escape(entry.Name)}( |$)", RegexOptions.Multiline),
                $"conf/talus.conf does not show the setting '{entry.Name}' (as a line or a commented example)");
        }
    }

    [Fact]
    public async Task Sample_config_loads_as_is_and_reads_like_redis_defaults()
    {
        using var dir = new TempDirectory("talus-conf");
        var port = FreePort.Next();
        // The documented form: the config file first, then command-line settings that win over it.
        using var process = StartTalus(SampleConfig, "--port", N(port), "--dir", Path.Combine(dir.Path, "data"), "--logfile", Path.Combine(dir.Path, "talus.log"));
        try
        {
            await WaitForPingAsync(port, process, dir.Path);
            await using var redis = await RedisProcess.LaunchAsync();
            using var t = new RespClient(port);
            using var r = redis.Client();
            foreach (var name in SharedDefaults)
            {
                var expected = r.Call("CONFIG", "GET", name);
                var actual = t.Call("CONFIG", "GET", name);
                Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"CONFIG GET {name}\n  redis: {expected}\n  talus: {actual}");
            }
            Assert.Equal("10000", t.Call("CONFIG", "GET", "maxclients").Items![1].Text);
            Assert.Equal("268435456", t.Call("CONFIG", "GET", "rocksdb-block-cache-size").Items![1].Text);
            Assert.Equal(SampleConfig, Info(t)["config_file"]);
            Assert.Equal(N(port), t.Call("CONFIG", "GET", "port").Items![1].Text);
        }
        finally
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    [Fact]
    public async Task Config_get_matches_globs_and_names_like_redis()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        foreach (var pattern in new[] { "*max*", "repl*", "*-read-only", "maxmemory-polic?", "[st]imeout", "*" })
        {
            var names = Names(t.Call("CONFIG", "GET", pattern));
            var regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".").Replace("\\[", "[") + "$");
            var expected = ConfigRegistry.AllNames().Select(n => n.Name).Where(n => regex.IsMatch(n)).Order().ToList();
            Assert.Equal(expected, names.Order().ToList());
            Assert.NotEmpty(names);
        }
        // Exact names answer under the spelling asked for; several patterns merge; unknown names are left out.
        foreach (var command in new[] { new[] { "CONFIG", "GET", "SLAVE-READ-ONLY" }, ["CONFIG", "GET", "MaxClients", "nosuch"], ["CONFIG", "GET", "nosuch"] })
        {
            var expected = r.Call(command);
            var actual = t.Call(command);
            Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"{string.Join(' ', command)}\n  redis: {expected}\n  talus: {actual}");
        }
        var two = t.Call("CONFIG", "GET", "timeout", "maxclients", "time*");
        Assert.Equal(["maxclients", "timeout"], Names(two).Order());
        t.Call("HELLO", "3");
        var map = t.Call("CONFIG", "GET", "maxclients");
        Assert.Equal('%', map.Type);
        Assert.Equal("10000", map.Items![1].Text);
    }

    [Fact]
    public async Task Slowlog_subcommands_and_their_errors_reply_as_redis_does()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        const string script = """
            SLOWLOG RESET|SLOWLOG LEN|SLOWLOG GET|SLOWLOG GET -1|SLOWLOG GET 0|SLOWLOG HELP|SLOWLOG help|SLOWLOG GET x
            SLOWLOG GET -2|SLOWLOG GET 1 2|SLOWLOG get 1 2|SLOWLOG LEN 1|SLOWLOG RESET now|SLOWLOG HELP me|SLOWLOG FOO|SLOWLOG
            """;
        Assert.Equal(16, Differential.RunScript(redis, talus, script));
    }

    [Fact]
    public async Task Config_set_changes_settings_at_runtime_and_is_all_or_nothing()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        string[][] commands =
        [
            ["CONFIG", "SET", "databases", "8"], ["CONFIG", "SET", "nosuch", "1"], ["CONFIG", "SET", "maxclients", "abc"],
            ["CONFIG", "SET", "timeout", "-1"], ["CONFIG", "SET", "appendonly", "maybe"], ["CONFIG", "SET", "appendfsync", "sometimes"],
            ["CONFIG", "SET", "maxmemory-policy", "lru"], ["CONFIG", "SET", "maxmemory", "lots"], ["CONFIG", "SET", "save", "abc"],
            ["CONFIG", "SET", "save", "3600"], ["CONFIG", "SET", "proto-max-bulk-len", "1000"], ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
            ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"], ["CONFIG", "SET", "client-output-buffer-limit", "nobody 1 2 3"],
            ["CONFIG", "SET", "slave-read-only", "perhaps"], ["CONFIG", "SET", "timeout", "10", "timeout", "20"],
            ["CONFIG", "SET", "timeout", "10", "maxclients", "abc"], ["CONFIG", "GET", "timeout"], ["CONFIG", "SET", "timeout"],
            ["CONFIG", "SET", "timeout", "1", "maxclients"], ["CONFIG", "SET", "replicaof", "127.0.0.1 1"],
            ["CONFIG", "SET", "timeout", "77", "appendfsync", "ALWAYS", "maxmemory", "1gb", "save", "3600 1 300 100"],
            ["CONFIG", "GET", "timeout"], ["CONFIG", "GET", "appendfsync"], ["CONFIG", "GET", "maxmemory"], ["CONFIG", "GET", "save"],
            ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 2mb 3"], ["CONFIG", "GET", "client-output-buffer-limit"],
            ["CONFIG", "SET", "slave-priority", "7"], ["CONFIG", "GET", "replica-priority"],
        ];
        foreach (var command in commands)
        {
            var expected = r.Call(command);
            var actual = t.Call(command);
            Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"{string.Join(' ', command)}\n  redis: {expected}\n  talus: {actual}");
        }

        // The new values take effect: the slow log records everything, the client limit turns a third client away.
        Assert.Equal("OK", t.Call("CONFIG", "SET", "slowlog-log-slower-than", "0").Text);
        t.Call("SLOWLOG", "RESET");
        t.Call("PING");
        Assert.True(t.Call("SLOWLOG", "LEN").Integer > 0);
        Assert.Equal("OK", t.Call("CONFIG", "SET", "maxclients", "2").Text);
        using var second = talus.Client();
        Assert.Equal("PONG", second.Call("PING").Text);
        using var third = talus.Client();
        Assert.Equal("ERR max number of clients reached", third.Read().Text);
    }

    [Fact]
    public async Task Config_rewrite_keeps_comments_and_the_file_loads_back_to_the_same_values()
    {
        using var dir = new TempDirectory("talus-rewrite");
        var config = Path.Combine(dir.Path, "talus.conf");
        File.Copy(SampleConfig, config);
        var original = File.ReadAllLines(config);
        Dictionary<string, string> before;
        await using (var first = await TalusProcess.LaunchAsync("--config", config))
        {
            using var c = first.Client();
            Assert.Equal("OK", c.Call("CONFIG", "SET", "maxclients", "1234", "timeout", "5", "save", "900 1", "replica-announced", "no").Text);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb 3", "requirepass", "s3cret word").Text);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "proto-max-bulk-len", "64mb", "loglevel", "warning").Text);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "maxmemory", "3000", "full-sync-chunk-size", "1536kb").Text);
            Assert.Equal("67108864", c.Call("CONFIG", "GET", "proto-max-bulk-len").Items![1].Text);
            Assert.Equal("OK", c.Call("CONFIG", "REWRITE").Text);
            before = Settings(c);
        }
        var rewritten = File.ReadAllLines(config);
        Assert.Equal(original.Where(l => l.StartsWith('#') || l.Length == 0), rewritten.Where(l => l.StartsWith('#') || l.Length == 0));
        Assert.Contains("maxclients 1234", rewritten);
        Assert.Contains("timeout 5", rewritten);
        Assert.Contains("replica-announced no", rewritten);
        // Byte counts in the largest whole unit, as Redis writes them; the sample's own values keep their form.
        Assert.Contains("proto-max-bulk-len 64mb", rewritten);
        Assert.Contains("maxmemory 3000", rewritten);
        Assert.Contains("full-sync-chunk-size 1536kb", rewritten);
        Assert.Contains("list-cache-size 32mb", rewritten);
        // Each setting stays where the sample file put it.
        Assert.True(Array.FindIndex(rewritten, l => l.StartsWith("maxclients ", StringComparison.Ordinal))
            < Array.FindIndex(rewritten, l => l.StartsWith("dir ", StringComparison.Ordinal)));

        await using var second = await TalusProcess.LaunchAsync("--config", config, "--requirepass", "s3cret word");
        using var again = second.Client();
        Assert.Equal("OK", again.Call("AUTH", "s3cret word").Text);
        var after = Settings(again);
        foreach (var (name, value) in before.Where(kv => kv.Key is not ("port" or "dir" or "logfile")))
        {
            Assert.True(after[name] == value, $"{name}: before rewrite '{value}', after reload '{after[name]}'");
        }
        Assert.Equal("1234", after["maxclients"]);
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1000L, "1000")]
    [InlineData(1024L, "1kb")]
    [InlineData(1572864L, "1536kb")]
    [InlineData(33554432L, "32mb")]
    [InlineData(3221225472L, "3gb")]
    [InlineData(1073741825L, "1073741825")]
    public void Byte_counts_are_rewritten_in_the_largest_whole_unit_and_read_back(long bytes, string text)
    {
        Assert.Equal(text, ConfigValue.FormatMemory(bytes));
        Assert.True(ConfigValue.TryParseMemory(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Fact]
    public async Task Writable_replicas_are_refused_with_the_reason_at_runtime_and_at_start_up()
    {
        await using (var talus = await TalusProcess.LaunchAsync())
        {
            using var c = talus.Client();
            var refused = c.Call("CONFIG", "SET", "replica-read-only", "no");
            Assert.True(refused.IsError, refused.ToString());
            Assert.Contains("Talus replicas are always read-only", refused.Text, StringComparison.Ordinal);
            Assert.Equal("OK", c.Call("CONFIG", "SET", "slave-read-only", "yes").Text);
            Assert.Equal("yes", c.Call("CONFIG", "GET", "replica-read-only").Items![1].Text);
        }
        using var dir = new TempDirectory("talus-dir");
        var (exitCode, output) = RunToExit("--port", N(FreePort.Next()), "--dir", dir.Path, "--replica-read-only", "no");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("*** FATAL CONFIG FILE ERROR ***", output, StringComparison.Ordinal);
        Assert.Contains("Talus replicas are always read-only", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_rewrite_needs_a_config_file()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        Assert.Equal(r.Call("CONFIG", "REWRITE").Text, t.Call("CONFIG", "REWRITE").Text);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Replicaof_takes_one_quoted_argument_or_two(bool quoted)
    {
        // Nobody listens on the master's port: this only checks the setting as read, not replication.
        var masterPort = N(FreePort.Next());
        string[] args = quoted ? ["--replicaof", "127.0.0.1 " + masterPort] : ["--replicaof", "127.0.0.1", masterPort];
        await using var talus = await TalusProcess.LaunchAsync(args);
        using var c = talus.Client();
        var reply = c.Call("CONFIG", "GET", "replicaof");
        Assert.Equal("127.0.0.1 " + masterPort, reply.Items![1].Text);
        Assert.Equal("127.0.0.1 " + masterPort, c.Call("CONFIG", "GET", "slaveof").Items![1].Text);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("-v")]
    public void Version_prints_one_line_and_exits_zero(string flag)
    {
        var (exitCode, output) = RunToExit(flag);
        Assert.Equal(0, exitCode);
        Assert.Matches(@"^Talus server v=\d+\.\d+\.\d+ rocksdb=\S+ dotnet=\S+ bits=64\n$", output);
    }

    [Fact]
    public void A_taken_port_stops_the_server_with_a_clear_message()
    {
        using var dir = new TempDirectory("talus-port");
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var (exitCode, output) = RunToExit("--port", N(port), "--dir", Path.Combine(dir.Path, "data"), "--logfile", Path.Combine(dir.Path, "talus.log"));
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"Could not create server TCP listening socket 127.0.0.1:{port}: Address already in use", output);
        Assert.Contains("Address already in use", File.ReadAllText(Path.Combine(dir.Path, "talus.log")));
    }

    [Fact]
    public void An_unusable_data_directory_stops_the_server_with_a_clear_message()
    {
        using var dir = new TempDirectory("talus-dir");
        var file = Path.Combine(dir.Path, "not-a-dir");
        File.WriteAllText(file, "x");
        var (exitCode, output) = RunToExit("--port", N(FreePort.Next()), "--dir", file);
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"Can't open the data directory {file}: a file is in the way, not a directory", output);

        // The run marker cannot be written: the same kind of stop, naming the file.
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(Path.Combine(data, "talus.running"));
        (exitCode, output) = RunToExit("--port", N(FreePort.Next()), "--dir", data);
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"Can't write {Path.Combine(data, "talus.running")}", output);
    }

    [Fact]
    public async Task The_pidfile_is_written_at_start_and_removed_on_sigterm()
    {
        using var dir = new TempDirectory("talus-pid");
        var pidFile = Path.Combine(dir.Path, "talus.pid");
        await using var talus = await TalusProcess.LaunchAsync("--pidfile", pidFile);
        await Wait.UntilAsync(() => File.Exists(pidFile), TimeSpan.FromSeconds(10), "the pidfile");
        Assert.Equal(N(talus.Pid), File.ReadAllText(pidFile).Trim());
        Assert.Equal(0, talus.Stop());
        Assert.False(File.Exists(pidFile));
    }

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static List<string> Names(RespReply map) => map.Items!.Where((_, i) => i % 2 == 0).Select(i => i.Text!).ToList();

    private static Dictionary<string, string> Settings(RespClient c)
    {
        var all = c.Call("CONFIG", "GET", "*").Items!;
        return Enumerable.Range(0, all.Count / 2).ToDictionary(i => all[2 * i].Text!, i => all[(2 * i) + 1].Text!);
    }

    private static Dictionary<string, string> Info(RespClient c) =>
        c.Call("INFO", "server").Text!.Split("\r\n").Where(l => l.Contains(':')).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1]);

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Talus.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new DirectoryNotFoundException("repository root (Talus.slnx) not found above " + AppContext.BaseDirectory);
    }

    private static Process StartTalus(params string[] args)
    {
        var psi = new ProcessStartInfo(TalusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForPingAsync(int port, Process process, string dir)
    {
        await Wait.UntilAsync(() =>
        {
            Assert.False(process.HasExited, "talus exited at start: " + string.Join('\n', Directory.GetFiles(dir).Select(File.ReadAllText)));
            try
            {
                using var probe = new RespClient(port, timeoutMs: 1000);
                return probe.Call("PING").Text == "PONG";
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "talus to answer PING");
    }

    /// <summary>Runs talus with <paramref name="args"/> to its exit (it must exit within 30 s); returns the code and stdout+stderr.</summary>
    private static (int ExitCode, string Output) RunToExit(params string[] args)
    {
        var psi = new ProcessStartInfo(TalusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            Assert.Fail($"talus {string.Join(' ', args)} did not exit");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
