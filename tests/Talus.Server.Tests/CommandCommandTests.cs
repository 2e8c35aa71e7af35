using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;
using Talus.TestKit;

namespace Talus.Server.Tests;

/// <summary>COMMAND and its subcommands against redis-server, and real clients (StackExchange.Redis, redis-cli) on top.</summary>
public class CommandCommandTests
{
    /// <summary>
    /// Commands whose whole COMMAND INFO entry Talus derives like Redis, so it must match byte for byte (not BITOP,
    /// to which Redis gives two key specs, nor containers, whose subcommands Redis lists in hash order).
    /// </summary>
    private static readonly string[] ExactInfo =
    [
        "get", "mget", "setbit", "getbit", "bitcount", "bitpos", "config|get", "config|set", "config|rewrite",
        "config|resetstat", "config|help", "client|id", "client|setname", "client|getname", "client|info", "client|list", "client|kill",
        "client|no-evict", "client|reply", "client|pause", "client|unpause", "client|help", "command|count", "command|list",
        "command|info", "command|docs", "command|getkeys", "command|getkeysandflags", "command|help", "slowlog|get", "slowlog|len",
        "slowlog|reset", "slowlog|help",
    ];

    [Fact]
    public async Task Info_of_every_command_has_redis_arity_and_key_positions()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var all = Flatten(t.Call("COMMAND").Items!).ToList();
        Assert.Equal(t.Call("COMMAND", "COUNT").Integer, t.Call("COMMAND").Items!.Count);
        var compared = 0;
        foreach (var entry in all)
        {
            Assert.Equal(10, entry.Items!.Count);
            var name = entry.Items[0].Text!;
            var theirs = r.Call("COMMAND", "INFO", name).Items![0];
            if (theirs.IsNull)
            {
                continue; // a Talus-only command or subcommand
            }
            foreach (var (index, field) in new[] { (1, "arity"), (3, "first key"), (4, "last key"), (5, "step") })
            {
                Assert.True(theirs.Items![index].Integer == entry.Items[index].Integer,
                    $"{name} {field}: redis {theirs.Items[index].Integer}, talus {entry.Items[index].Integer}");
            }
            compared++;
        }
        Assert.True(compared >= 50, $"only {compared} commands compared");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Info_docs_and_getkeys_match_redis_byte_for_byte(int protocol)
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        using var t = talus.Client();
        using var r = redis.Client();
        var hello = protocol.ToString(CultureInfo.InvariantCulture);
        t.Call("HELLO", hello);
        r.Call("HELLO", hello);
        List<string[]> commands =
        [
            ["COMMAND", "INFO", .. ExactInfo], ["COMMAND", "INFO", "nosuch", "get"], ["COMMAND", "INFO", "CONFIG|GET", "Client|Kill"],
            ["COMMAND", "DOCS", "nosuch"], ["COMMAND", "COUNT", "x"], ["COMMAND", "nosuch"], ["COMMAND", "HELP"],
            ["COMMAND", "LIST", "FILTERBY"], ["COMMAND", "LIST", "FILTERBY", "foo", "x"], ["COMMAND", "LIST", "foo"],
            ["COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "y"], ["COMMAND", "LIST", "FILTERBY", "MODULE", "x"], ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
            ["COMMAND", "GETKEYS"], ["COMMAND", "GETKEYS", "get"], ["COMMAND", "GETKEYS", "nosuch", "a"], ["COMMAND", "GETKEYS", "get", "a", "b"],
            ["COMMAND", "GETKEYS", "ping", "x"], ["COMMAND", "GETKEYS", "config", "get", "x"], ["COMMAND", "GETKEYS", "config", "nosuch", "x"],
            ["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"], ["COMMAND", "GETKEYS", "bitop", "and", "d", "s1", "s2"],
            ["COMMAND", "GETKEYSANDFLAGS", "get", "a"], ["COMMAND", "GETKEYSANDFLAGS", "setbit", "k", "1", "1"], ["COMMAND", "GETKEYSANDFLAGS", "mget", "a", "b"],
        ];
        // DOCS of every command both know, except containers (Talus documents only the subcommands it has).
        foreach (var entry in Flatten(t.Call("COMMAND").Items!))
        {
            var name = entry.Items![0].Text!;
            var docs = r.Call("COMMAND", "DOCS", name);
            if (docs.Items!.Count > 0 && docs.Raw.AsSpan().IndexOf("$11\r\nsubcommands\r\n"u8) < 0)
            {
                commands.Add(["COMMAND", "DOCS", name]);
            }
        }
        Assert.True(commands.Count > 60);
        foreach (var command in commands)
        {
            var expected = r.Call(command);
            var actual = t.Call(command);
            Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw), $"RESP{protocol} {string.Join(' ', command)}\n  redis: {expected}\n  talus: {actual}");
        }
    }

    [Fact]
    public async Task List_count_and_docs_are_consistent_with_the_table()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        using var c = talus.Client();
        var infos = Flatten(c.Call("COMMAND").Items!).Select(e => e.Items![0].Text!).Order().ToList();
        var listed = c.Call("COMMAND", "LIST").Items!.Select(i => i.Text!).Order().ToList();
        Assert.Equal(infos, listed);
        Assert.Contains("client|kill", listed);
        Assert.Contains("config|get", listed);

        var bitmap = c.Call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "bitmap").Items!.Select(i => i.Text!).Order();
        Assert.Equal(["bitcount", "bitop", "bitpos", "getbit", "setbit"], bitmap);
        var clientSubs = c.Call("COMMAND", "INFO", "client").Items![0].Items![9].Items!.Select(i => i.Items![0].Text!).Order();
        Assert.Equal(clientSubs, c.Call("COMMAND", "LIST", "FILTERBY", "PATTERN", "CLIENT|*").Items!.Select(i => i.Text!).Order());
        Assert.Empty(c.Call("COMMAND", "LIST", "FILTERBY", "MODULE", "json").Items!);

        // DOCS of everything: a map with summary, since and group for every command, Talus-only ones included.
        var docs = c.Call("COMMAND", "DOCS").Items!;
        Assert.Equal(c.Call("COMMAND", "COUNT").Integer * 2, docs.Count);
        var setinfo = c.Call("COMMAND", "DOCS", "client|setinfo").Items!;
        Assert.Equal("client|setinfo", setinfo[0].Text);
        var fields = setinfo[1].Items!.Where((_, i) => i % 2 == 0).Select(f => f.Text).ToList();
        Assert.Equal(["summary", "since", "group"], fields);
    }

    [Fact]
    public async Task StackExchange_Redis_connects_and_works()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        var db = talus.Db();
        Assert.True(await db.StringSetAsync("s", "foobar"));
        Assert.Equal(26, await db.StringBitCountAsync("s"));
        Assert.False(await db.StringSetBitAsync("bits", 7, true));
        Assert.True(await db.StringGetBitAsync("bits", 7));
        Assert.Equal(7, await db.StringBitPositionAsync("bits", true));
        Assert.Equal(6, await db.StringBitOperationAsync(Bitwise.Or, "dest", ["s", "bits"]));
        Assert.Equal("goobar", (string?)await db.StringGetAsync("dest"));

        var server = talus.Connection.GetServer(talus.Endpoint);
        var clients = await server.ClientListAsync();
        // Its handshake named each of its connections (CLIENT SETNAME) and told its library (CLIENT SETINFO).
        Assert.NotEmpty(clients);
        Assert.All(clients, ci =>
        {
            Assert.Equal(talus.Connection.ClientName, ci.Name);
            Assert.StartsWith("SE.Redis", ci.LibraryName);
        });
        var count = (long)await db.ExecuteAsync("COMMAND", "COUNT");
        Assert.True(count > 40);
        Assert.Equal("OK", (string?)await db.ExecuteAsync("CLIENT", "NO-EVICT", "on"));
        var maxclients = await server.ConfigGetAsync("maxclients");
        Assert.Equal("10000", Assert.Single(maxclients).Value);
    }

    [Fact]
    public async Task Redis_cli_runs_commands_and_its_help_reads_command_docs()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        var port = talus.Port.ToString(CultureInfo.InvariantCulture);
        Assert.Equal("0", RunCli(["-p", port, "SETBIT", "bits", "7", "1"]).Trim());
        Assert.Equal("1", RunCli(["-p", port, "BITCOUNT", "bits"]).Trim());
        Assert.Equal("(integer) 7", RunCli(["-p", port, "--no-raw", "BITPOS", "bits", "1"]).Trim());
        using (var c = talus.Client())
        {
            Assert.Equal(c.Call("COMMAND", "COUNT").Integer.ToString(CultureInfo.InvariantCulture), RunCli(["-p", port, "COMMAND", "COUNT"]).Trim());
        }
        Assert.Contains("cmd=client|list", RunCli(["-p", port, "CLIENT", "LIST"]));
        Assert.Equal("OK\nworld", RunCli(["-p", port], "SET hello world\nGET hello\n").Trim());

        // Interactive mode loads COMMAND DOCS at start (and asserts on its shape); TERM=dumb keeps the line editor plain.
        var help = RunCli(["-p", port], "HELP SETBIT\nHELP CLIENT KILL\nquit\n", interactive: true);
        Assert.Contains("SETBIT", help);
        Assert.Contains("key offset value", help);
        Assert.Contains("Sets or clears the bit at offset in the string value stored at key", help);
        Assert.Contains("Kill the connection of a client", help);
    }

    private static IEnumerable<RespReply> Flatten(IEnumerable<RespReply> entries)
    {
        foreach (var entry in entries)
        {
            yield return entry;
            foreach (var sub in Flatten(entry.Items![9].Items ?? []))
            {
                yield return sub;
            }
        }
    }

    private static string RunCli(string[] args, string? input = null, bool interactive = false)
    {
        var psi = interactive
            ? new ProcessStartInfo("script") { ArgumentList = { "-q", "-c", "redis-cli " + string.Join(' ', args), "/dev/null" } }
            : new ProcessStartInfo("redis-cli");
        if (!interactive)
        {
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }
        }
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        psi.Environment["TERM"] = "dumb";
        using var process = Process.Start(psi)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(15_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"redis-cli {string.Join(' ', args)} did not finish: {output.Result}");
        }
        Assert.True(process.ExitCode == 0, $"redis-cli {string.Join(' ', args)} exited {process.ExitCode}: {error.Result}{output.Result}");
        return output.Result.Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
