using System.Globalization;
using Talus.Replication.Binlog;
using Talus.Replication.DbSync;
using Talus.Replication.Replica;
using static Talus.Replication.Replica.ReplState;

namespace Talus.Replication.Tests;

/// <summary>Full sync (rule 3): every way a transfer can fail ends in Error, wipes staging, swaps nothing, and leaves no lineage.</summary>
public partial class ReplicaWorkerTests
{
    [Fact]
    public async Task DbSync_BEGIN_error_goes_from_WaitDbSync_to_Error_with_the_old_lineage_cleared()
    {
        using var master = MasterDataset.Create(10);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.Begin = _ => FakeMaster.Reply(FakeMaster.Error("ERR snapshot failed: No space left on device"));
        await using var replica = Replica(fake);
        Assert.False(replica.SeedOwnHistory().IsNone);
        replica.Start();

        await ExpectAbortAsync(replica, "No space left on device", Connect, MetaSync, TrySync, WaitDbSync);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(0, replica.Swaps);
    }

    [Fact]
    public async Task Corrupted_file_chunk_goes_from_DbSync_to_Error_and_wipes_staging()
    {
        using var master = MasterDataset.Create();
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.File = r =>
        {
            var data = fake.ReadChunk(r.Args[4], long.Parse(r.Args[5], CultureInfo.InvariantCulture))!;
            if (r.Args[5] == "0")
            {
                data[data.Length / 2] ^= 0x20; // same size, one bit flipped: only the checksum can tell
            }
            return FakeMaster.Reply(FakeMaster.Bulk(data));
        };
        await using var replica = Replica(fake);
        replica.SeedOwnHistory();
        var before = await replica.ContentsAsync();
        replica.Start();

        await ExpectAbortAsync(replica, "does not match the manifest", Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync);
        var first = fake.Snapshot!.Manifest.Files.First(f => f.Size > 0);
        Assert.Contains(first.Name, replica.ReasonOf(Error), StringComparison.Ordinal);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(0, replica.Swaps);
        // The live dataset was never touched by the transfer (only its lineage was cleared).
        Assert.Equal(before, await replica.ContentsAsync());
        Assert.Empty(fake.RequestsOf("TALUS-DBSYNC", "END"));
        Assert.Equal(0, replica.Worker.Progress.BytesDone);
    }

    [Fact]
    public async Task Manifest_lineage_that_the_files_do_not_carry_goes_from_DbSwap_to_Error_without_a_swap()
    {
        using var master = MasterDataset.Create();
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.Manifest = r =>
        {
            var real = fake.Snapshot!.Manifest;
            var forged = new SnapshotManifest { SnapshotId = real.SnapshotId, Lineage = new Lineage(LineageStore.NewReplId(), real.Lineage.Offset), Files = real.Files };
            return FakeMaster.Reply(FakeMaster.Bulk(forged.Serialize()));
        };
        await using var replica = Replica(fake);
        replica.SeedOwnHistory();
        var before = await replica.ContentsAsync();
        replica.Start();

        await ExpectAbortAsync(replica, "received store carries lineage", Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap);
        Assert.Equal(0, replica.Swaps);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(before, await replica.ContentsAsync());
        // Every file had arrived intact: it is the lineage check alone that refused the swap.
        Assert.Single(fake.RequestsOf("TALUS-DBSYNC", "END"));
    }

    [Fact]
    public async Task Connection_dropped_mid_transfer_goes_from_DbSync_to_Error()
    {
        using var master = MasterDataset.Create();
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        var defaultFile = fake.File;
        var served = 0;
        fake.File = r => Interlocked.Increment(ref served) == 3 ? Task.FromResult<byte[]?>(null) : defaultFile(r);
        await using var replica = Replica(fake);
        replica.SeedOwnHistory();
        var before = await replica.ContentsAsync();
        replica.Start();

        await ExpectAbortAsync(replica, "closed the connection", Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(0, replica.Swaps);
        Assert.Equal(before, await replica.ContentsAsync());
        Assert.Equal(0, replica.Worker.Progress.BytesDone);
    }

    [Theory]
    [InlineData("truncated", "truncated")]
    [InlineData("unsafe name", "unsafe file name")]
    [InlineData("other snapshot", "expected")]
    [InlineData("error", "ERR no such snapshot")]
    [InlineData("nil", "master sent no manifest")]
    public async Task Bad_manifest_goes_from_WaitDbSync_to_Error_before_any_file(string kind, string reason)
    {
        using var master = MasterDataset.Create(20);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.Manifest = _ =>
        {
            var real = fake.Snapshot!.Manifest;
            var files = real.Files.ToList();
            files[0] = files[0] with { Name = "../escape" };
            return FakeMaster.Reply(kind switch
            {
                "truncated" => FakeMaster.Bulk(real.Serialize().Replace("end\n", "", StringComparison.Ordinal)),
                "unsafe name" => FakeMaster.Bulk(new SnapshotManifest { SnapshotId = real.SnapshotId, Lineage = real.Lineage, Files = files }.Serialize()),
                "other snapshot" => FakeMaster.Bulk(new SnapshotManifest { SnapshotId = "another-id", Lineage = real.Lineage, Files = real.Files }.Serialize()),
                "error" => FakeMaster.Error("ERR no such snapshot for this replica"),
                _ => "$-1\r\n"u8.ToArray(),
            });
        };
        await using var replica = Replica(fake);
        replica.SeedOwnHistory();
        replica.Start();

        await ExpectAbortAsync(replica, reason, Connect, MetaSync, TrySync, WaitDbSync);
        Assert.Empty(fake.RequestsOf("TALUS-DBSYNC", "FILE"));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(replica.Directories.Live)!, "escape")));
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(0, replica.Swaps);
    }

    [Theory]
    [InlineData("oversized", "does not fit the manifest size")]
    [InlineData("empty", "chunk of 0 bytes")]
    [InlineData("error", "ERR no such file in this replica's snapshot")]
    [InlineData("nil", "master sent no data")]
    [InlineData("END refused", "ERR no transfer in progress")]
    public async Task Bad_transfer_reply_goes_from_DbSync_to_Error(string kind, string reason)
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        var defaultFile = fake.File;
        fake.File = r =>
        {
            var name = r.Args[4];
            var offset = long.Parse(r.Args[5], CultureInfo.InvariantCulture);
            var size = fake.Snapshot!.Manifest.Files.Single(f => f.Name == name).Size;
            return kind switch
            {
                "oversized" => FakeMaster.Reply(FakeMaster.Bulk(new byte[size - offset + 1])),
                "empty" => FakeMaster.Reply(FakeMaster.Bulk([])),
                "error" => FakeMaster.Reply(FakeMaster.Error("ERR no such file in this replica's snapshot")),
                "nil" => FakeMaster.Reply("$-1\r\n"u8.ToArray()),
                _ => defaultFile(r),
            };
        };
        fake.End = _ => FakeMaster.Reply(FakeMaster.Error("ERR no transfer in progress"));
        await using var replica = Replica(fake);
        replica.SeedOwnHistory();
        var before = await replica.ContentsAsync();
        replica.Start();

        await ExpectAbortAsync(replica, reason, Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(0, replica.Swaps);
        Assert.Equal(before, await replica.ContentsAsync());
    }

    [Fact]
    public async Task Master_silent_mid_transfer_goes_from_DbSync_to_Error_after_repl_timeout()
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        var defaultFile = fake.File;
        var served = 0;
        fake.File = async r =>
        {
            if (Interlocked.Increment(ref served) == 2)
            {
                await Task.Delay(Timeout.Infinite, fake.Stopping); // the deliberate stall: never answers
            }
            return await defaultFile(r);
        };
        await using var replica = new ReplicaNode(fake.Port, _output, replTimeout: TimeSpan.FromSeconds(1));
        replica.Start();

        await ExpectAbortAsync(replica, "(repl-timeout)", Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(0, replica.Swaps);
    }
}
