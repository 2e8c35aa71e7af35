using System.Globalization;
using Talus.Replication.Binlog;
using Talus.Replication.DbSync;
using Talus.Replication.Replica;
using Talus.TestKit;
using static Talus.Replication.Replica.ReplState;

namespace Talus.Replication.Tests;

/// <summary>Incremental sync (rule 7): a gap, a duplicate, a silent master or an entry that cannot be applied ends the link.</summary>
public partial class ReplicaWorkerTests
{
    [Fact]
    public async Task Binlog_gap_goes_from_BinlogSync_to_Error_then_resumes_with_a_partial_sync()
    {
        using var master = MasterDataset.Create(50);
        await using var fake = FakeMaster.Start(master);
        await using var replica = ReplicaWithMastersLineage(fake);
        var c1 = master.WriteOneChunk(m => m.Set(0, "a", "1"));
        var c2 = master.WriteOneChunk(m => m.Set(0, "b", "2"));
        var c3 = master.WriteOneChunk(m => m.Delete(0, "a"));
        replica.Start();
        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync);

        await fake.PushAsync(c1);
        await fake.PushAsync(c3);

        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync, Error, Connect, MetaSync, TrySync, BinlogSync);
        Assert.Contains($"binlog gap: got offset {c3.First}, expected {c2.First}", replica.ReasonOf(Error), StringComparison.Ordinal);
        // c1 was applied, c3 was not; the re-handshake continues right after c1.
        var retry = fake.RequestsOf("TALUS-TRYSYNC")[1];
        Assert.Equal((c1.Next - 1).ToString(CultureInfo.InvariantCulture), retry[3]);
        Assert.Equal(new Lineage(master.Lineage.ReplId, c1.Next - 1), await replica.LineageAsync());

        await fake.PushAsync(c2);
        await fake.PushAsync(c3);
        await Wait.UntilAsync(() => fake.Acks.Contains(c3.Next - 1), Patience, "the ack of the last chunk");
        await AssertSameKeyspaceAsync(master, replica);
        Assert.Equal(2, replica.Worker.Progress.PartialSyncs);
    }

    [Fact]
    public async Task A_stream_that_breaks_goes_to_Error_naming_the_offset_the_dataset_was_applied_through()
    {
        using var master = MasterDataset.Create(100);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        await using var replica = ReplicaWithMastersLineage(fake);
        var lineage = await replica.LineageAsync();
        master.WriteKeys("later", 30);
        replica.Start();
        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync);
        var chunks = master.ChunksFrom(lineage.Offset + 1);
        foreach (var chunk in chunks)
        {
            await fake.PushAsync(chunk);
        }
        await WaitForAcksAsync(fake, 1 + chunks.Count);

        fake.DropConnections();

        await ExpectAbortAsync(replica, $"; applied through offset {chunks[^1].Next - 1}", Connect, MetaSync, TrySync, BinlogSync);
        Assert.True(chunks[^1].Next - 1 > lineage.Offset, "the stream moved the dataset on");
        Assert.Equal(chunks[^1].Next - 1, (await replica.LineageAsync()).Offset);
    }

    [Fact]
    public async Task Losing_the_control_connection_while_streaming_ends_the_link_at_once_then_resumes_with_a_partial_sync()
    {
        using var master = MasterDataset.Create(50);
        await using var fake = FakeMaster.Start(master);
        var controls = new System.Collections.Concurrent.ConcurrentQueue<FakeMaster.Session>();
        fake.Control = r =>
        {
            controls.Enqueue(r.Session);
            return FakeMaster.Reply(FakeMaster.Simple("OK"));
        };
        await using var replica = ReplicaWithMastersLineage(fake);
        var c1 = master.WriteOneChunk(m => m.Set(0, "a", "1"));
        replica.Start();
        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync);
        await fake.PushAsync(c1);
        await Wait.UntilAsync(() => fake.Acks.Contains(c1.Next - 1), Patience, "the ack of the first chunk");

        // A master that drops the control connection forgets the replica and stops streaming, but may leave the
        // data connection open: the replica must not sit there until repl-timeout (20 s here).
        Assert.True(controls.TryPeek(out var control));
        control.Close();
        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync, Error, Connect, MetaSync, TrySync, BinlogSync);
        Assert.Equal($"the master closed the control connection; applied through offset {c1.Next - 1}", replica.ReasonOf(Error));
        var retry = fake.RequestsOf("TALUS-TRYSYNC")[1];
        Assert.Equal((c1.Next - 1).ToString(CultureInfo.InvariantCulture), retry[3]);
        await AssertSameKeyspaceAsync(master, replica);
    }

    [Fact]
    public async Task Duplicate_binlog_frame_goes_from_BinlogSync_to_Error_without_applying_it_twice()
    {
        using var master = MasterDataset.Create(50);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        await using var replica = ReplicaWithMastersLineage(fake);
        var c1 = master.WriteOneChunk(m => m.Set(0, "counter", "1"));
        var c2 = master.WriteOneChunk(m => m.Set(0, "counter", "2"));
        replica.Start();
        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync);

        await fake.PushAsync(c1);
        await fake.PushAsync(c2);
        await fake.PushAsync(c2);

        await ExpectAbortAsync(replica, $"duplicate binlog entries: got offset {c2.First}, already applied up to {c2.Next - 1}", Connect, MetaSync, TrySync, BinlogSync);
        // Both chunks applied once each: the replica is exactly the master at c2, and says so.
        await AssertSameKeyspaceAsync(master, replica);
        Assert.Equal(c2.Next - 1, (await replica.LineageAsync()).Offset);
        Assert.Equal([c1.First - 1, c1.Next - 1, c2.Next - 1], fake.Acks);
    }

    [Fact]
    public async Task Master_silent_in_BinlogSync_goes_to_Error_after_repl_timeout_keeping_the_lineage()
    {
        using var master = MasterDataset.Create(20);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        await using var replica = new ReplicaNode(fake.Port, _output, prepare: live => master.Engine.Checkpoint(live), replTimeout: TimeSpan.FromSeconds(1));
        replica.Start();

        await ExpectAbortAsync(replica, "(repl-timeout)", Connect, MetaSync, TrySync, BinlogSync);
        // Nothing arrived, nothing changed: the dataset still is the master's at its lineage.
        Assert.Equal(master.Lineage, await replica.LineageAsync());
    }

    [Theory]
    [InlineData("truncated payload", false)]
    [InlineData("count mismatch", true)]
    [InlineData("malformed frame", false)]
    public async Task Binlog_frame_that_cannot_be_applied_goes_from_BinlogSync_to_Error(string kind, bool lineageCleared)
    {
        using var master = MasterDataset.Create(20);
        await using var fake = FakeMaster.Start(master);
        fake.ServeLinks = 1;
        await using var replica = ReplicaWithMastersLineage(fake);
        var lineage = await replica.LineageAsync();
        var before = await replica.ContentsAsync();
        var chunk = master.WriteOneChunk(m => m.Set(0, "fresh", "value"));
        replica.Start();
        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync);

        switch (kind)
        {
            case "truncated payload":
                await fake.PushFrameAsync(chunk.First, chunk.Next, chunk.Data[..5]);
                break;
            case "count mismatch":
                // The frame claims two offsets but carries one entry: the replica's offsets would stop being the master's.
                await fake.PushFrameAsync(chunk.First, chunk.Next + 1, chunk.Data);
                break;
            default:
                await fake.DataSessionSendAsync(FakeMaster.Array("TALUS-BINLOG", chunk.First.ToString(CultureInfo.InvariantCulture)));
                break;
        }

        await replica.ExpectStatesAsync(Connect, MetaSync, TrySync, BinlogSync, Error, Connect, MetaSync);
        if (lineageCleared)
        {
            Assert.Contains("lineage cleared", replica.ReasonOf(Error), StringComparison.Ordinal);
            Assert.True((await replica.LineageAsync()).IsNone);
        }
        else
        {
            Assert.Equal(lineage, await replica.LineageAsync());
            Assert.Equal(before, await replica.ContentsAsync());
        }
        Assert.Equal([lineage.Offset], fake.Acks);
    }
}
