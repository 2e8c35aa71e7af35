using System.Text;
using Talus.TestKit;

namespace Talus.Server.Tests.Transactions;

/// <summary>
/// Fixed transaction scripts, run on redis-server and on Talus and compared reply by reply (raw bytes). A step
/// names the connection it is sent on, so a second client can write between WATCH and EXEC.
/// </summary>
public class TransactionScriptTests
{
    /// <summary>Connection 0 runs the transaction; connection 1 is another client.</summary>
    private static readonly (int Conn, string[] Command)[][] Scripts =
    [
        // Nesting, EXEC/DISCARD without MULTI, WATCH inside MULTI: errors that do not doom the transaction.
        [(0, ["EXEC"]), (0, ["DISCARD"]), (0, ["MULTI"]), (0, ["MULTI"]), (0, ["WATCH", "a"]), (0, ["SET", "a", "1"]), (0, ["EXEC"]), (0, ["GET", "a"])],
        // Queue-time errors: unknown command, wrong arity, unknown subcommand, subcommand arity, not allowed in MULTI.
        [(0, ["MULTI"]), (0, ["SET", "a", "1"]), (0, ["NOSUCH", "x"]), (0, ["EXEC"]), (0, ["GET", "a"])],
        [(0, ["MULTI"]), (0, ["SET", "a", "1"]), (0, ["GET"]), (0, ["EXEC"]), (0, ["EXISTS", "a"])],
        [(0, ["MULTI"]), (0, ["CLIENT", "NOSUCH"]), (0, ["EXEC"])],
        [(0, ["MULTI"]), (0, ["CONFIG", "GET"]), (0, ["EXEC"])],
        [(0, ["MULTI"]), (0, ["SHUTDOWN"]), (0, ["PING"]), (0, ["EXEC"])],
        // Runtime errors are elements of the reply; the other commands still run.
        [(0, ["MULTI"]), (0, ["SET", "a", "1"]), (0, ["INCR", "a"]), (0, ["LPUSH", "a", "x"]), (0, ["INCR", "a"]), (0, ["INCRBY", "a", "x"]), (0, ["GET", "a"]), (0, ["EXEC"])],
        // Later commands see earlier ones' writes, across types.
        [(0, ["MULTI"]), (0, ["RPUSH", "l", "a", "b", "c"]), (0, ["LPOP", "l"]), (0, ["LRANGE", "l", "0", "-1"]), (0, ["HSET", "h", "f", "1"]),
            (0, ["HINCRBY", "h", "f", "5"]), (0, ["SADD", "s", "x", "y"]), (0, ["SCARD", "s"]), (0, ["ZADD", "z", "1", "m"]), (0, ["ZINCRBY", "z", "2", "m"]),
            (0, ["DEL", "l"]), (0, ["EXISTS", "l"]), (0, ["RENAME", "h", "h2"]), (0, ["HGETALL", "h2"]), (0, ["DBSIZE"]), (0, ["EXEC"])],
        // Blocking commands answer at once inside EXEC.
        [(0, ["MULTI"]), (0, ["BLPOP", "nolist", "0"]), (0, ["BRPOPLPUSH", "nolist", "x", "0"]), (0, ["BLMOVE", "nolist", "x", "LEFT", "RIGHT", "0"]), (0, ["EXEC"])],
        [(0, ["RPUSH", "q", "1"]), (0, ["MULTI"]), (0, ["BLPOP", "q", "0"]), (0, ["BLPOP", "q", "0"]), (0, ["EXEC"])],
        // DISCARD drops the queue; an empty transaction answers an empty array.
        [(0, ["MULTI"]), (0, ["SET", "a", "1"]), (0, ["DISCARD"]), (0, ["GET", "a"]), (0, ["MULTI"]), (0, ["EXEC"])],
        // SELECT inside a transaction; FLUSHDB inside a transaction.
        [(0, ["SET", "a", "0"]), (0, ["MULTI"]), (0, ["SELECT", "1"]), (0, ["SET", "a", "1"]), (0, ["SELECT", "0"]), (0, ["GET", "a"]), (0, ["EXEC"]), (0, ["SELECT", "1"]), (0, ["GET", "a"]), (0, ["FLUSHDB"])],
        [(0, ["SET", "a", "0"]), (0, ["RPUSH", "l", "1", "2"]), (0, ["MULTI"]), (0, ["FLUSHDB"]), (0, ["GET", "a"]), (0, ["LLEN", "l"]), (0, ["SET", "b", "1"]), (0, ["DBSIZE"]), (0, ["EXEC"]), (0, ["KEYS", "*"])],
        // Queued commands are not run by another client's EXEC, and MULTI of one client does not affect another.
        [(0, ["MULTI"]), (1, ["SET", "a", "1"]), (0, ["GET", "a"]), (1, ["GET", "a"]), (0, ["EXEC"])],
        // RESP3 shapes.
        [(0, ["HELLO", "3"]), (0, ["MULTI"]), (0, ["HSET", "h", "a", "1"]), (0, ["HGETALL", "h"]), (0, ["SMEMBERS", "nos"]), (0, ["GET", "nokey"]), (0, ["EXEC"])],
        // WATCH: another client's write, our own write, writes that change nothing, unrelated keys, UNWATCH.
        [(0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["SET", "b", "1"]), (0, ["EXEC"]), (0, ["GET", "b"])],
        [(0, ["WATCH", "a"]), (0, ["MULTI"]), (0, ["SET", "a", "2"]), (0, ["EXEC"]), (0, ["GET", "a"])],
        [(0, ["WATCH", "a"]), (1, ["SET", "x", "1"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "a"]), (0, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["SET", "a", "2", "NX"]), (1, ["DEL", "zz"]), (1, ["INCR", "b"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "a"]), (1, ["DEL", "a"]), (1, ["EXPIRE", "a", "10"]), (1, ["LPOP", "a"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["DEL", "a"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["EXPIRE", "a", "100"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (0, ["UNWATCH"]), (1, ["SET", "a", "2"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SADD", "s", "x"]), (0, ["WATCH", "s"]), (1, ["SADD", "s", "x"]), (1, ["HDEL", "s", "f"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SADD", "s", "x"]), (0, ["WATCH", "s"]), (1, ["SADD", "s", "y"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        // HSET of the value a field already holds writes nothing in Talus, and still touches the key, as in Redis.
        [(0, ["HSET", "h", "f", "v"]), (0, ["WATCH", "h"]), (1, ["HSET", "h", "f", "v"]), (0, ["MULTI"]), (0, ["HGET", "h", "f"]), (0, ["EXEC"])],
        [(0, ["HSET", "h", "f", "v"]), (0, ["WATCH", "h"]), (1, ["HMSET", "h", "f", "v"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        // MOVE touches its key in both databases, and nothing when it moves nothing; inside MULTI it moves at EXEC.
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["MOVE", "a", "1"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SELECT", "1"]), (0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (1, ["MOVE", "a", "1"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "a"]), (1, ["MOVE", "a", "1"]), (1, ["SET", "b", "1"]), (1, ["MOVE", "b", "0"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["MULTI"]), (0, ["RPUSH", "m", "1", "2"]), (0, ["EXPIREAT", "m", "4000000000"]), (0, ["MOVE", "m", "2"]), (0, ["EXISTS", "m"]),
            (0, ["SELECT", "2"]), (0, ["LRANGE", "m", "0", "-1"]), (0, ["EXPIRETIME", "m"]), (0, ["MOVE", "m", "0"]), (0, ["EXEC"])],
        // RENAME touches source and destination; BITOP and the STORE family only their destination.
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["RENAME", "a", "b"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "b"]), (1, ["RENAME", "a", "b"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["BITOP", "AND", "d", "a"]), (1, ["SUNIONSTORE", "d2", "a2"]), (1, ["COPY", "a", "c"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "d"]), (1, ["SET", "a", "1"]), (1, ["COPY", "a", "d"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        // FLUSHDB/FLUSHALL touch watched keys that exist, in the flushed databases only.
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a", "nokey"]), (1, ["SELECT", "1"]), (1, ["FLUSHDB"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "nokey"]), (1, ["FLUSHDB"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["FLUSHDB"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1"]), (0, ["WATCH", "a"]), (1, ["SELECT", "1"]), (1, ["FLUSHALL"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        // Watching a key of another database; EXEC unwatches even when it fails; queue errors beat a dirty watch.
        [(0, ["SELECT", "2"]), (0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["EXEC"]), (1, ["SET", "a", "2"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["NOSUCH"]), (0, ["EXEC"])],
        [(0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["DISCARD"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        // Expiry: a key live at WATCH whose TTL passes counts as modified; one already expired does not.
        [(0, ["SET", "a", "1", "PX", "200"]), (0, ["WATCH", "a"]), (0, ["__SLEEP", "400"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["SET", "a", "1", "PX", "1"]), (0, ["__SLEEP", "20"]), (0, ["WATCH", "a"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        [(0, ["HELLO", "3"]), (0, ["WATCH", "a"]), (1, ["SET", "a", "1"]), (0, ["MULTI"]), (0, ["PING"]), (0, ["EXEC"])],
        // RESET ends MULTI.
        [(0, ["MULTI"]), (0, ["SET", "a", "1"]), (0, ["RESET"]), (0, ["EXEC"]), (0, ["GET", "a"])],
    ];

    [Fact]
    public async Task Scripts_match_redis()
    {
        await using var talus = await TalusProcess.LaunchAsync();
        await using var redis = await RedisProcess.LaunchAsync();
        for (var s = 0; s < Scripts.Length; s++)
        {
            RunScript(redis, talus, s, Scripts[s]);
        }
    }

    internal static void RunScript(ServerProcess redis, ServerProcess talus, int index, (int Conn, string[] Command)[] script)
    {
        var r = new[] { redis.Client(), redis.Client() };
        var t = new[] { talus.Client(), talus.Client() };
        try
        {
            var log = new StringBuilder();
            foreach (var (conn, command) in script)
            {
                log.Append(CultureInfo(conn)).Append(string.Join(' ', command)).Append('\n');
                if (command[0] == "__SLEEP")
                {
                    Thread.Sleep(int.Parse(command[1], System.Globalization.CultureInfo.InvariantCulture));
                    continue;
                }
                if (command[0] == "HELLO")
                {
                    r[conn].Call(command);
                    t[conn].Call(command);
                    continue; // its reply names the connection id
                }
                var expected = r[conn].Call(command);
                var actual = t[conn].Call(command);
                Assert.True(expected.Raw.AsSpan().SequenceEqual(actual.Raw),
                    $"script {index}, step {string.Join(' ', command)}\n  redis: {Differential.Escape(expected.Raw)}\n  talus: {Differential.Escape(actual.Raw)}\n{log}");
            }
            r[0].Call("FLUSHALL");
            t[0].Call("FLUSHALL");
        }
        finally
        {
            foreach (var c in r.Concat(t))
            {
                c.Dispose();
            }
        }
    }

    private static string CultureInfo(int conn) => conn == 0 ? "  " : "  [other] ";
}
