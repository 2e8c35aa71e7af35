using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Talus.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Talus.Server.Tests;

/// <summary>
/// A collection far larger than the server's caches, end to end: a sorted set of a million members is built,
/// read by rank and by score, deleted in O(1), and its space is reclaimed by COMPACT — while the server's
/// resident memory is sampled throughout and must stay well below the size of the collection.
/// </summary>
public sealed class LargeCollectionTests(ITestOutputHelper output)
{
    private const int Members = 1_000_000;
    private const int PerCommand = 1_000;
    private const int Window = 20;

    [Fact]
    public async Task A_million_member_sorted_set_is_read_by_range_deleted_and_reclaimed_with_bounded_memory()
    {
        // Small caches, so that the collection is several times what the server may keep in memory.
        await using var talus = await TalusProcess.LaunchAsync(
            "--rocksdb-block-cache-size", "16mb", "--subkey-cache-size", "16mb", "--rocksdb-write-buffer-size", "8mb",
            "--rocksdb-max-write-buffer-number", "2");
        using var c = new RespClient(talus.Port, timeoutMs: 120_000);
        var baseline = RawExchange.ResidentBytes(talus.Pid);
        using var sampler = new RssSampler(talus.Pid);

        Fill(c, 0, Members / 2);
        var halfway = sampler.Peak;
        Fill(c, Members / 2, Members);
        var filled = sampler.Peak;
        Assert.Equal(Members, c.Call("ZCARD", "big").Integer);
        var byRank = c.Call("ZRANGE", "big", "500000", "500002", "WITHSCORES");
        Assert.Equal([Member(500000), "500000", Member(500001), "500001", Member(500002), "500002"], Texts(byRank));
        var byScore = c.Call("ZRANGEBYSCORE", "big", "999998", "+inf");
        Assert.Equal([Member(999998), Member(999999)], Texts(byScore));
        Assert.Equal(123456, c.Call("ZRANK", "big", Member(123456)).Integer);
        Assert.Equal(Members - 1 - 42, c.Call("ZREVRANK", "big", Member(42)).Integer);

        var full = await CompactAsync(talus, c);
        Assert.True(full > 48L << 20, $"the collection should take over 48 MB on disk, took {full >> 20} MB (peak RSS {sampler.Peak >> 20} MB)");
        Assert.Equal(1, c.Call("DEL", "big").Integer);
        Assert.Equal(0, c.Call("EXISTS", "big").Integer);
        var reclaimed = await CompactAsync(talus, c);
        var growth = sampler.Peak - baseline;
        output.WriteLine($"SST bytes: {full >> 20} MB full, {reclaimed >> 10} KB after DEL and COMPACT; " +
            $"RSS {baseline >> 20} MB at start, peak {halfway >> 20} MB after half the members, {filled >> 20} MB after all, {sampler.Peak >> 20} MB overall");
        Assert.True(reclaimed < full / 20, $"COMPACT after DEL left {reclaimed} of {full} SST bytes");
        // Memory that tracked the collection would grow with the second half of the members; the server's caches
        // are full by then, so a bounded server stays level. And the whole run stays below the collection's size.
        Assert.True(filled - halfway < full / 3, $"RSS grew from {halfway >> 20} MB to {filled >> 20} MB while the second half of a {full >> 20} MB collection was added");
        Assert.True(growth < full, $"RSS grew by {growth >> 20} MB (from {baseline >> 20} MB) for a {full >> 20} MB collection");
        Assert.Equal("PONG", c.Call("PING").Text);
    }

    /// <summary>Adds members [from, to) with ZADDs of <see cref="PerCommand"/> members, at most <see cref="Window"/> in flight.</summary>
    private static void Fill(RespClient c, int from, int to)
    {
        var sent = from / PerCommand;
        var received = sent;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (received < to / PerCommand)
        {
            Assert.True(DateTime.UtcNow < deadline, "filling the sorted set took over 3 minutes");
            while (sent < to / PerCommand && sent - received < Window)
            {
                var args = new List<byte[]>(2 + 2 * PerCommand) { "ZADD"u8.ToArray(), "big"u8.ToArray() };
                for (var i = sent * PerCommand; i < (sent + 1) * PerCommand; i++)
                {
                    args.Add(Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)));
                    args.Add(Encoding.ASCII.GetBytes(Member(i)));
                }
                c.Send(args);
                sent++;
            }
            var reply = c.Read();
            Assert.Equal(PerCommand, reply.Integer);
            received++;
        }
    }

    private static async Task<long> CompactAsync(TalusProcess talus, RespClient c)
    {
        var before = long.Parse(talus.Info("persistence")["talus_compactions"], CultureInfo.InvariantCulture);
        Assert.Equal("Background compaction started", c.Call("COMPACT").Text);
        await Wait.UntilAsync(
            () => long.Parse(talus.Info("persistence")["talus_compactions"], CultureInfo.InvariantCulture) > before,
            TimeSpan.FromMinutes(3), "COMPACT to finish");
        var info = talus.Info("persistence");
        Assert.Equal("ok", info["talus_last_compaction_status"]);
        Assert.Equal("0", info["talus_compaction_in_progress"]);
        return long.Parse(talus.Info("memory")["talus_disk_sst_bytes"], CultureInfo.InvariantCulture);
    }

    // 64 bytes per member, hex of a hash so that compression cannot shrink a million of them below the caches.
    private static string Member(int i) =>
        i.ToString("D10", CultureInfo.InvariantCulture) + ":" + Convert.ToHexString(SHA256.HashData(BitConverter.GetBytes(i)))[..53];

    private static string[] Texts(RespReply reply) => reply.Items!.Select(r => r.Text ?? "(nil)").ToArray();

    /// <summary>Samples a process's VmRSS every 50 ms on a background task and keeps the peak.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _task;
        private long _peak;

        public RssSampler(int pid)
        {
            _task = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var rss = RawExchange.ResidentBytes(pid);
                    if (rss > Interlocked.Read(ref _peak))
                    {
                        Interlocked.Exchange(ref _peak, rss);
                    }
                    try
                    {
                        await Task.Delay(50, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            });
        }

        public long Peak => Math.Max(Interlocked.Read(ref _peak), 1);

        public void Dispose()
        {
            _stop.Cancel();
            _task.Wait();
            _stop.Dispose();
        }
    }
}
