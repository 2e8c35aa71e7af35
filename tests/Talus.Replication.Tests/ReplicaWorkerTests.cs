using System.Globalization;
using Talus.Replication.Binlog;
using Talus.Replication.DbSync;
using Talus.Replication.Replica;
using Talus.Storage.Engine;
using Talus.TestKit;
using Xunit.Abstractions;
using static Talus.Replication.Replica.ReplState;

namespace Talus.Replication.Tests;

/// <summary>
/// The replica side of replication against a scripted master (<see cref="FakeMaster"/>) serving a real
/// master dataset: every path through the replica's state machine, the exact states it went through, and
/// what it left in its dataset and lineage — in particular that no abort leaves a dataset claiming a
/// lineage it does not have (rules 3 and 7 of the replication rules).
/// </summary>
public partial class ReplicaWorkerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly ITestOutputHelper _output;

    public ReplicaWorkerTests(ITestOutputHelper output) => _output = output;

    private ReplicaNode Replica(FakeMaster fake, string? masterAuth = null, Action<string>? prepare = null) =>
        new(fake.Port, _output, masterAuth, prepare);

    /// <summary>A replica whose dataset is a checkpoint of the master: it holds the master's lineage.</summary>
    private ReplicaNode ReplicaWithMastersLineage(FakeMaster fake) => Replica(fake, prepare: live => fake.Master.Engine.Checkpoint(live));

    private static async Task AssertSameKeyspaceAsync(MasterDataset master, ReplicaNode replica)
    {
        var expected = MasterDataset.Contents(master.Engine);
        var actual = await replica.ContentsAsync();
        Assert.True(expected.Count > 0);
        Assert.Equal(expected, actual);
        Assert.Equal(master.Lineage, await replica.LineageAsync());
    }

    private static async Task WaitForAcksAsync(FakeMaster fake, int count) =>
        await Wait.UntilAsync(() => fake.Acks.Count >= count, Patience, $"{count} acknowledgements (got {string.Join(",", fake.Acks)})");

    /// <summary>
    /// Waits for an abort: the states before it, then Error (with a reason containing
    /// <paramref name="reason"/>), then Connect after the back-off, then MetaSync of the retried link,
    /// which the fake master leaves unanswered so nothing changes the dataset while the test inspects it.
    /// </summary>
    private static async Task ExpectAbortAsync(ReplicaNode replica, string reason, params ReplState[] before)
    {
        await replica.ExpectStatesAsync([.. before, Error, Connect, MetaSync]);
        var error = replica.ReasonOf(Error);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Equal(error, replica.Worker.Machine.LastError);
        Assert.False(Directory.Exists(replica.Directories.Staging), "an abort wipes the staging area");
        Assert.False(File.Exists(replica.Directories.SwapMarker), "an abort leaves no swap marker");
    }

    [Fact]
    public async Task Full_sync_then_binlog_stream_makes_the_replica_equal_to_the_master()
    {
        using var master = MasterDataset.Create();
        await using var fake = FakeMaster.Start(master);
        fake.Password = "s3cret-pass";
        var defaultEnd = fake.End;
        // The master keeps taking writes while the replica transfers: they reach it through the binlog.
        fake.End = r =>
        {
            master.WriteKeys("during", 50);
            return defaultEnd(r);
        };
        await using var replica = Replica(fake, masterAuth: "s3cret-pass");
        replica.Start();

        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap, TrySync, BinlogSync);
        var snapshot = fake.Snapshot!.Manifest;
        Assert.Equal(snapshot.Lineage, await replica.LineageAsync());
        Assert.Equal(1, replica.Swaps);
        Assert.Equal(2, fake.RequestsOf("AUTH").Count);
        var trySyncs = fake.RequestsOf("TALUS-TRYSYNC");
        Assert.Equal(["?", "0"], trySyncs[0][2..]);
        Assert.Equal([snapshot.Lineage.ReplId, snapshot.Lineage.Offset.ToString(CultureInfo.InvariantCulture)], trySyncs[1][2..]);
        // Every file was fetched chunk by chunk, in manifest order, each chunk at the offset the last one ended.
        var files = fake.RequestsOf("TALUS-DBSYNC", "FILE");
        Assert.Equal(snapshot.Files.Sum(f => (f.Size + fake.ChunkSize - 1) / fake.ChunkSize), files.Count);
        Assert.Equal(snapshot.Files.Where(f => f.Size > 0).Select(f => f.Name), files.Select(f => f[4]).Distinct());
        foreach (var file in snapshot.Files)
        {
            var offsets = files.Where(r => r[4] == file.Name).Select(r => long.Parse(r[5], CultureInfo.InvariantCulture));
            var count = (int)((file.Size + fake.ChunkSize - 1) / fake.ChunkSize);
            Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i * fake.ChunkSize), offsets);
        }
        Assert.Single(fake.RequestsOf("TALUS-DBSYNC", "END"));

        master.Set(0, "k:0:1", "changed after the snapshot");
        master.Delete(1, "k:1:2");
        master.Set(2, "expiring", "x", Talus.Storage.Database.NowMs + 600_000);
        var chunks = master.ChunksFrom(snapshot.Lineage.Offset + 1);
        Assert.True(chunks.Count > 0);
        foreach (var chunk in chunks)
        {
            await fake.PushAsync(chunk);
        }
        await fake.PingAsync(master.Engine.LatestSequence);

        // Acknowledged: the snapshot's offset on entering BinlogSync, then each chunk's last offset, then the ping.
        List<ulong> expectedAcks = [snapshot.Lineage.Offset, .. chunks.Select(c => c.Next - 1), chunks[^1].Next - 1];
        await WaitForAcksAsync(fake, expectedAcks.Count);
        Assert.Equal(expectedAcks, fake.Acks);
        await AssertSameKeyspaceAsync(master, replica);
        Assert.Equal("changed after the snapshot", await replica.ReadAsync(d => System.Text.Encoding.UTF8.GetString(d[0].Strings.GetCopy("k:0:1"u8, out _)!)));
        Assert.Equal(1, replica.Worker.Progress.FullSyncs);
        Assert.Equal(master.Engine.LatestSequence, replica.Worker.Progress.AppliedOffset);
        Assert.Equal([Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap, TrySync, BinlogSync], replica.States);
        Assert.DoesNotContain(replica.Log.Lines, l => l.Text.Contains("s3cret-pass", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Waiting_in_the_queue_and_for_the_snapshot_is_a_state_with_visible_progress()
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        foreach (var reply in new[] { "QUEUED 2", "QUEUED 1", "MAKING" })
        {
            fake.BeginReplies.Enqueue(reply);
        }
        await using var replica = Replica(fake);
        // What the replica reports while it polls, seen by the master as each BEGIN arrives.
        var seen = new List<(ReplState State, int Position, bool Making)>();
        var defaultBegin = fake.Begin;
        fake.Begin = r =>
        {
            var p = replica.Worker.Progress;
            lock (seen)
            {
                seen.Add((replica.Worker.Machine.State, p.QueuePosition, p.WaitingForSnapshot));
            }
            return defaultBegin(r);
        };
        replica.Start();

        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap, TrySync, BinlogSync);
        Assert.Equal(
            [(WaitDbSync, 0, false), (WaitDbSync, 2, false), (WaitDbSync, 1, false), (WaitDbSync, 0, true)],
            seen);
        // Waiting is not an error: one full sync, no Error on the way, progress reset after it.
        Assert.Equal([Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap, TrySync, BinlogSync], replica.States);
        Assert.Equal(1, replica.Worker.Progress.FullSyncs);
        Assert.Equal(0, replica.Worker.Progress.QueuePosition);
        Assert.False(replica.Worker.Progress.WaitingForSnapshot);
        await AssertSameKeyspaceAsync(master, replica);
    }

    [Fact]
    public async Task Replica_with_the_masters_lineage_continues_with_a_partial_sync()
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        await using var replica = ReplicaWithMastersLineage(fake);
        var lineage = await replica.LineageAsync();
        Assert.Equal(master.Lineage, lineage);
        master.WriteKeys("later", 30);
        replica.Start();

        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync);
        var trySync = Assert.Single(fake.RequestsOf("TALUS-TRYSYNC"));
        Assert.Equal([lineage.ReplId, lineage.Offset.ToString(CultureInfo.InvariantCulture)], trySync[2..]);
        var chunks = master.ChunksFrom(lineage.Offset + 1);
        foreach (var chunk in chunks)
        {
            await fake.PushAsync(chunk);
        }
        await WaitForAcksAsync(fake, 1 + chunks.Count);
        Assert.Equal([lineage.Offset, .. chunks.Select(c => c.Next - 1)], fake.Acks);
        await AssertSameKeyspaceAsync(master, replica);
        Assert.Empty(fake.RequestsOf("TALUS-DBSYNC"));
        Assert.Equal(0, replica.Swaps);
        Assert.Equal(1, replica.Worker.Progress.PartialSyncs);
        Assert.Equal(0, replica.Worker.Progress.FullSyncs);
        Assert.Equal([Connect, MetaSync, TrySync, BinlogSync], replica.States);
    }

    [Fact]
    public async Task Connection_refused_goes_from_Connect_to_Error_and_retries()
    {
        await using var replica = new ReplicaNode(FreePort.Next(), _output);
        var before = await replica.ContentsAsync();
        replica.Start();

        await replica.ExpectStatesAsync(Connect, Error, Connect, Error, Connect, Error, Connect, Error);
        Assert.Contains("refused", replica.ReasonOf(Error), StringComparison.OrdinalIgnoreCase);
        // Rule 9: retries back off (100 ms doubling, ±50 % jitter) rather than hammering the master. Only lower
        // bounds are checked: a loaded machine can only make the waits longer.
        var t = replica.Transitions;
        for (var retry = 1; retry <= 3; retry++)
        {
            var error = t[(2 * retry) - 1];
            var connect = t[2 * retry];
            Assert.Equal((Error, Connect), (error.To, connect.To));
            Assert.StartsWith($"retry #{retry} ", connect.Reason, StringComparison.Ordinal);
            var minimum = 50 << (retry - 1);
            Assert.True(connect.Ticks - error.Ticks >= minimum, $"retry #{retry} came {connect.Ticks - error.Ticks} ms after the error, expected at least {minimum} ms");
        }
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(before, await replica.ContentsAsync());
    }

    [Fact]
    public async Task Refused_masterauth_is_an_error_that_never_shows_the_password()
    {
        using var master = MasterDataset.Create(10);
        await using var fake = FakeMaster.Start(master);
        fake.Password = "the-right-one";
        const string Wrong = "wrong-pass-5f1c9a";
        await using var replica = Replica(fake, masterAuth: Wrong);
        var lineage = replica.SeedOwnHistory();
        replica.Start();

        await replica.ExpectStatesAsync(Connect, MetaSync, Error, Connect, MetaSync, Error);
        var reason = replica.ReasonOf(Error);
        Assert.StartsWith("master refused masterauth", reason, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", reason, StringComparison.Ordinal);
        Assert.Equal(Wrong, fake.RequestsOf("AUTH")[0][1]);
        Assert.DoesNotContain(Wrong, reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Wrong, replica.Worker.Machine.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain(replica.Log.Lines, l => l.Text.Contains(Wrong, StringComparison.Ordinal));
        Assert.Empty(fake.RequestsOf("TALUS-METASYNC"));
        // Nothing was decided: the dataset is as it was.
        Assert.Equal(lineage, await replica.LineageAsync());
    }

    [Fact]
    public async Task MetaSync_refusal_goes_from_MetaSync_to_Error()
    {
        using var master = MasterDataset.Create(10);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.MetaSync = _ => FakeMaster.Reply(FakeMaster.Error("ERR MetaSync refused: incompatible databases (master 16, replica 4)"));
        await using var replica = Replica(fake);
        var lineage = replica.SeedOwnHistory();
        replica.Start();

        await ExpectAbortAsync(replica, "incompatible databases", Connect, MetaSync);
        Assert.Empty(fake.RequestsOf("TALUS-CONTROL"));
        Assert.Empty(fake.RequestsOf("TALUS-TRYSYNC"));
        Assert.Equal(lineage, await replica.LineageAsync());
    }

    [Theory]
    [InlineData("+PARTIAL 5\r\n")]
    [InlineData("+CONTINUE\r\n")]
    [InlineData("+CONTINUE feedfacefeedfacefeedfacefeedfacefeedface many\r\n")]
    [InlineData(":1\r\n")]
    [InlineData("$8\r\nCONTINUE\r\n")]
    [InlineData(":not-a-number\r\n")]
    [InlineData("$bad\r\n")]
    [InlineData("$2147483647\r\n")]
    [InlineData("*99999999999\r\n")]
    [InlineData("!weird\r\n")]
    public async Task Malformed_TrySync_reply_goes_from_TrySync_to_Error(string raw)
    {
        using var master = MasterDataset.Create(10);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.TrySync = _ => FakeMaster.Reply(System.Text.Encoding.ASCII.GetBytes(raw));
        await using var replica = Replica(fake);
        var before = await replica.ContentsAsync();
        replica.Start();

        await ExpectAbortAsync(replica, "", Connect, MetaSync, TrySync);
        Assert.NotEmpty(replica.ReasonOf(Error));
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Equal(before, await replica.ContentsAsync());
        Assert.Empty(fake.RequestsOf("TALUS-DBSYNC"));
    }

    [Theory]
    [InlineData(2UL)] // a gap: the master would skip an entry
    [InlineData(0UL)] // a duplicate: the master would resend the last applied entry
    public async Task Continue_from_the_wrong_offset_goes_from_TrySync_to_Error(ulong from)
    {
        using var master = MasterDataset.Create(10);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.TrySync = r => FakeMaster.Reply(FakeMaster.Simple($"CONTINUE {r.Args[2]} {ulong.Parse(r.Args[3], CultureInfo.InvariantCulture) + from}"));
        await using var replica = ReplicaWithMastersLineage(fake);
        var lineage = await replica.LineageAsync();
        replica.Start();

        await ExpectAbortAsync(replica, "master offered to continue from", Connect, MetaSync, TrySync);
        // The dataset is untouched and still truly is the master's data at its lineage.
        Assert.Equal(lineage, await replica.LineageAsync());
        Assert.Equal(MasterDataset.Contents(master.Engine), await replica.ContentsAsync());
        Assert.Empty(fake.Acks);
    }

    [Fact]
    public async Task Continue_offered_to_a_replica_without_lineage_goes_from_TrySync_to_Error()
    {
        using var master = MasterDataset.Create(10);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.TrySync = _ => FakeMaster.Reply(FakeMaster.Simple($"CONTINUE {master.Lineage.ReplId} 1"));
        await using var replica = Replica(fake);
        replica.Start();

        await ExpectAbortAsync(replica, "this dataset's lineage is none", Connect, MetaSync, TrySync);
        Assert.True((await replica.LineageAsync()).IsNone);
        Assert.Empty(fake.Acks);
    }

    [Fact]
    public async Task FullResync_right_after_a_completed_full_sync_goes_from_TrySync_to_Error()
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        fake.TrySync = _ => FakeMaster.Reply(FakeMaster.Simple($"FULLRESYNC {master.Lineage.ReplId} offset 9 is no longer in the binlog"));
        await using var replica = Replica(fake);
        replica.Start();

        await ExpectAbortAsync(replica, "refused to continue right after a full sync", Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap, TrySync);
        Assert.Single(fake.RequestsOf("TALUS-DBSYNC", "BEGIN"));
        Assert.Equal(1, replica.Swaps);
        // The completed full sync stands: the dataset is the snapshot, and its lineage says exactly that.
        Assert.Equal(fake.Snapshot!.Manifest.Lineage, await replica.LineageAsync());
        await AssertSameKeyspaceAsync(master, replica);
    }

    [Fact]
    public async Task Full_sync_clears_the_old_lineage_durably_before_the_first_file_byte()
    {
        using var master = MasterDataset.Create();
        await using var fake = FakeMaster.Start(master);
        var firstFileAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var defaultFile = fake.File;
        fake.File = async r =>
        {
            if (firstFileAsked.TrySetResult())
            {
                await release.Task.WaitAsync(Patience, fake.Stopping); // the deliberate stall: the master sits on the first FILE request
            }
            return await defaultFile(r);
        };
        await using var replica = Replica(fake);
        var old = replica.SeedOwnHistory();
        Assert.False(old.IsNone);
        replica.Start();

        await firstFileAsked.Task.WaitAsync(Patience);
        try
        {
            Assert.Equal(ReplState.DbSync, replica.Worker.Machine.State);
            Assert.True((await replica.LineageAsync()).IsNone, "the old lineage must be gone before any file byte");
            // Durably: what is on disk (opened read-only beside the live engine, WAL replayed) has no lineage either.
            using (var onDisk = ReadOnlyDataset.Open(replica.Directories.Live))
            {
                Assert.True(LineageStore.Read(onDisk).IsNone);
            }
            Assert.Equal(fake.Snapshot!.Id, replica.Worker.Progress.SnapshotId);
            Assert.Equal(fake.Snapshot.Manifest.Files.Count, replica.Worker.Progress.FilesTotal);
            Assert.Equal(0, replica.Worker.Progress.BytesDone);
        }
        finally
        {
            release.TrySetResult();
        }

        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync, DbSwap, TrySync, BinlogSync);
        Assert.Equal(fake.Snapshot.Manifest.Lineage, await replica.LineageAsync());
        await AssertSameKeyspaceAsync(master, replica);
    }

    [Theory]
    [InlineData("MetaSync")]
    [InlineData("DbSync")]
    [InlineData("BinlogSync")]
    public async Task Stopping_the_link_goes_to_None_without_an_error(string where)
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        var fileAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var defaultFile = fake.File;
        fake.File = async r =>
        {
            fileAsked.TrySetResult();
            await Task.Delay(Timeout.Infinite, fake.Stopping); // the deliberate stall: the transfer is in progress when the link stops
            return await defaultFile(r);
        };
        ReplState[] path;
        ReplicaNode replica;
        switch (where)
        {
            case "MetaSync":
                fake.ServeLinks = 0;
                replica = Replica(fake);
                replica.SeedOwnHistory();
                path = [Connect, MetaSync];
                break;
            case "DbSync":
                replica = Replica(fake);
                replica.SeedOwnHistory();
                path = [Connect, MetaSync, TrySync, WaitDbSync, ReplState.DbSync];
                break;
            default:
                replica = ReplicaWithMastersLineage(fake);
                path = [Connect, MetaSync, TrySync, BinlogSync];
                break;
        }
        await using (replica)
        {
            var lineage = await replica.LineageAsync();
            replica.Start();
            await replica.ExpectStatesAsync(path);
            if (where == "DbSync")
            {
                await fileAsked.Task.WaitAsync(Patience);
            }
            else if (where == "MetaSync")
            {
                await Wait.UntilAsync(() => fake.Links == 1, Patience, "the held METASYNC");
            }

            await replica.StopAsync();

            Assert.Equal([.. path, None], replica.States);
            // Only a stream has a position to report: the offset its dataset was applied through.
            Assert.Equal(where == "BinlogSync" ? $"replication stopped; applied through offset {lineage.Offset}" : "replication stopped",
                replica.ReasonOf(None));
            Assert.False(Directory.Exists(replica.Directories.Staging));
            Assert.Equal(where == "DbSync" ? Lineage.None : lineage, await replica.LineageAsync());
        }
    }
}
