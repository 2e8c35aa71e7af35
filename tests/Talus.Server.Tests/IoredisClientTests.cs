using System.Diagnostics;
using System.Globalization;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>
/// The real ioredis (Node.js) against talus: tests/clients/ioredis/check.js drives a server through the calls
/// applications make (pipelines, MULTI, WATCH, scan streams, pub/sub, blocking pops, RESP3 maps, AUTH) and prints
/// one line per step. It runs against a real redis-server too, and every line must be the same.
/// </summary>
public class IoredisClientTests
{
    private const string Password = "s3cret word";

    private static string ScriptDirectory => Path.Combine(ExampleConfig.RepositoryRoot, "tests", "clients", "ioredis");

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public async Task Every_step_prints_what_it_prints_against_redis(int protocol, bool withPassword)
    {
        Assert.True(RedisProcess.IsAvailable, "redis-server is not installed (./test installs it)");
        Assert.True(File.Exists(Path.Combine(ScriptDirectory, "node_modules", "ioredis", "package.json")),
            "ioredis is not installed under tests/clients/ioredis (./test runs npm ci there)");
        string[] serverArgs = withPassword ? ["--requirepass", Password] : [];
        await using var talus = await TalusProcess.LaunchAsync(serverArgs);
        await using var redis = await RedisProcess.LaunchAsync(serverArgs);

        var expected = await RunAsync(redis.Port, protocol, withPassword);
        var actual = await RunAsync(talus.Port, protocol, withPassword);

        Assert.True(expected.ExitCode == 0, $"against redis-server: {expected}");
        Assert.True(actual.ExitCode == 0, $"against talus: {actual}");
        var expectedLines = Lines(expected.StdOut);
        var actualLines = Lines(actual.StdOut);
        Assert.True(expectedLines.Length >= 30, $"the script ran only {expectedLines.Length} steps against redis-server: {expected}");
        for (var i = 0; i < expectedLines.Length; i++)
        {
            Assert.True(i < actualLines.Length, $"talus stopped after {actualLines.Length} steps; redis went on with: {expectedLines[i]}");
            Assert.Equal(expectedLines[i], actualLines[i]);
        }
        Assert.Equal(expectedLines.Length, actualLines.Length);
        // The RESP version asked for is the one the connection speaks.
        Assert.Contains(actualLines, l => l.StartsWith("client-name\t", StringComparison.Ordinal) && l.EndsWith($",\"{protocol}\"]", StringComparison.Ordinal));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Task<ExternalProgram.Result> RunAsync(int port, int protocol, bool withPassword)
    {
        var psi = new ProcessStartInfo("node") { WorkingDirectory = ScriptDirectory };
        psi.ArgumentList.Add("check.js");
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("--protocol");
        psi.ArgumentList.Add(protocol.ToString(CultureInfo.InvariantCulture));
        if (withPassword)
        {
            psi.ArgumentList.Add("--password");
            psi.ArgumentList.Add(Password);
        }
        return ExternalProgram.RunAsync(psi, timeout: TimeSpan.FromSeconds(90));
    }
}
