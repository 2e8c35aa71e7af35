using System.Globalization;

namespace Talus.TestKit;

/// <summary>
/// A background writer of every data type (strings, counters, hashes, lists, sets, sorted sets, TTLs, deletes)
/// over two databases, pipelined in small batches at a bounded rate, from a fixed seed. Bounded in time and
/// count. Connection failures (a master killed on purpose) are counted and followed by a reconnect; replies
/// that are errors are counted separately, since the load never sends a command that should fail.
/// </summary>
public sealed class MixedWriteLoad : IAsyncDisposable
{
    private const int Batch = 20;

    private readonly ServerProcess _server;
    private readonly int _opsPerSecond;
    private readonly long _maxOps;
    private readonly TimeSpan _maxDuration;
    private readonly Random _random;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _acknowledged;
    private long _replyErrors;
    private long _connectionFailures;

    private MixedWriteLoad(ServerProcess server, int seed, int opsPerSecond, long maxOps, TimeSpan maxDuration)
    {
        _server = server;
        _opsPerSecond = Math.Max(Batch, opsPerSecond);
        _maxOps = maxOps;
        _maxDuration = maxDuration;
        _random = new Random(seed);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Starts writing to <paramref name="server"/>; stop with <see cref="StopAsync"/>.</summary>
    public static MixedWriteLoad Start(ServerProcess server, int seed, int opsPerSecond = 2000, long maxOps = 5_000_000, TimeSpan? maxDuration = null) =>
        new(server, seed, opsPerSecond, maxOps, maxDuration ?? TimeSpan.FromMinutes(5));

    /// <summary>Writes the server acknowledged with a non-error reply.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Replies that were errors (none expected).</summary>
    public long ReplyErrors => Interlocked.Read(ref _replyErrors);

    /// <summary>Times the connection failed and was reopened.</summary>
    public long ConnectionFailures => Interlocked.Read(ref _connectionFailures);

    /// <summary>The last error reply seen, for failure messages.</summary>
    public string LastReplyError { get; private set; } = "";

    /// <summary>The longest of the short TTLs the load sets.</summary>
    public static readonly TimeSpan LongestShortTtl = TimeSpan.FromMilliseconds(600);

    /// <summary>
    /// Stops the writer, waits for the batch in flight, then lets the short TTLs it set run out, so a key-by-key
    /// comparison that follows cannot race a key expiring between reading one node and the other. Returns the
    /// number of acknowledged writes.
    /// </summary>
    public async Task<long> StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            await Task.Delay(LongestShortTtl).ConfigureAwait(false);
        }
        return Acknowledged;
    }

    private async Task RunAsync()
    {
        var started = DateTime.UtcNow;
        var deadline = started + _maxDuration;
        long sent = 0;
        while (!_stop.IsCancellationRequested && sent < _maxOps && DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = _server.Client();
                while (!_stop.IsCancellationRequested && sent < _maxOps && DateTime.UtcNow < deadline)
                {
                    client.Call("SELECT", _random.Next(4) == 0 ? "1" : "0");
                    for (var i = 0; i < Batch; i++)
                    {
                        client.Send(NextCommand());
                    }
                    for (var i = 0; i < Batch; i++)
                    {
                        var reply = client.Read();
                        if (reply.IsError)
                        {
                            Interlocked.Increment(ref _replyErrors);
                            LastReplyError = reply.Text ?? "";
                        }
                        else
                        {
                            Interlocked.Increment(ref _acknowledged);
                        }
                    }
                    sent += Batch;
                    var due = started + TimeSpan.FromSeconds((double)sent / _opsPerSecond);
                    if (due > DateTime.UtcNow)
                    {
                        await Task.Delay(due - DateTime.UtcNow, _stop.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                Interlocked.Increment(ref _connectionFailures);
                try
                {
                    await Task.Delay(100, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private string[] NextCommand()
    {
        var r = _random;
        var k = r.Next(2000).ToString(CultureInfo.InvariantCulture);
        var c = r.Next(100).ToString(CultureInfo.InvariantCulture);
        var v = r.Next(1_000_000).ToString(CultureInfo.InvariantCulture);
        return r.Next(20) switch
        {
            0 or 1 or 2 => ["SET", "s:" + k, "v" + v],
            3 => ["SET", "s:" + k, "t" + v, "EX", "3600"],
            4 => ["SET", "s:" + k, "short" + v, "PX", (50 + r.Next((int)LongestShortTtl.TotalMilliseconds - 100)).ToString(CultureInfo.InvariantCulture)],
            5 => ["APPEND", "s:" + k, "+"],
            6 => ["DEL", "s:" + k],
            7 => ["INCRBY", "n:" + c, v],
            8 or 9 => ["HSET", "h:" + c, "f" + k, v],
            10 => ["HDEL", "h:" + c, "f" + k],
            11 => ["RPUSH", "l:" + c, v, k],
            12 => ["LPOP", "l:" + c],
            13 => ["SADD", "set:" + c, "m" + k],
            14 => ["SPOP", "set:" + c],
            15 => ["SREM", "set:" + c, "m" + k],
            16 => ["ZADD", "z:" + c, (r.Next(20000) / 4.0).ToString(CultureInfo.InvariantCulture), "m" + k],
            17 => ["ZREM", "z:" + c, "m" + k],
            18 => ["EXPIRE", "h:" + c, "3600"],
            _ => ["PERSIST", "h:" + c],
        };
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
