using Talus.Storage.Engine;
using static Talus.Storage.Tests.CommitterHold;

namespace Talus.Storage.Tests;

public class WriteGroupTests
{
    [Fact]
    public void Grouped_sets_are_invisible_until_the_commit_then_all_visible()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        Assert.True(f.Db.Strings.Set("a"u8, "1"u8, 0, group));
        Assert.True(f.Db.Strings.Set("b"u8, "2"u8, 0, group));
        Assert.True(f.Db.Strings.Set("a"u8, "3"u8, 0, group));
        Assert.Equal(3, group.Commands);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("a"u8, out _));

        group.Commit(f.Dataset);

        Assert.True(group.IsEmpty);
        AssertValue(f, "a", "3"); // the later SET of the same key wins, as in command order
        AssertValue(f, "b", "2");
    }

    [Fact]
    public void A_group_is_one_write_batch_in_the_wal()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        var before = f.Dataset.Engine.LatestSequence;
        for (var i = 0; i < 16; i++)
        {
            f.Db.Strings.Set(System.Text.Encoding.ASCII.GetBytes("k" + i), "v"u8, 0, group);
        }
        group.Commit(f.Dataset);

        using var log = f.Dataset.Engine.Db.GetUpdatesSince(before + 1);
        Assert.True(log.Valid());
        using var batch = log.GetBatch(out var sequence);
        Assert.Equal(before + 1, sequence);
        Assert.Equal(16, batch.Count());
        log.Next();
        Assert.False(log.Valid());
    }

    [Fact]
    public void An_expiry_set_through_a_group_is_kept()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        f.Db.Strings.Set("gone"u8, "v"u8, Database.NowMs - 1, group);
        f.Db.Strings.Set("later"u8, "v"u8, Database.NowMs + 60_000, group);
        group.Commit(f.Dataset);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("gone"u8, out _));
        Assert.InRange(f.Db.Keys.TtlMs("later"u8), 1, 60_000);
    }

    [Fact]
    public void A_value_too_large_to_group_is_refused()
    {
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        Assert.False(f.Db.Strings.Set("big"u8, new byte[WriteGroup.MaxValueBytes], 0, group));
        Assert.True(group.IsEmpty);
    }

    [Fact]
    public void Commit_waits_for_the_lock_of_every_key_in_the_group()
    {
        // A read-modify-write command (INCR) holds its key's stripe from its read to its write; a group that
        // committed meanwhile would be overwritten by a value computed from the older state.
        using var f = new StorageFixture();
        using var group = GroupOf(f, ("free", "1"), ("held", "1"));
        Task commit;
        using (f.Db.Locks.Lock(0, "held"u8))
        {
            commit = Task.Run(() => group.Commit(f.Dataset));
            Assert.False(commit.Wait(TimeSpan.FromMilliseconds(300)), "the commit did not wait for the key lock");
            Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("free"u8, out _));
        }
        Assert.True(commit.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get("held"u8, out _));
    }

    private static byte[] Key(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    /// <summary>A write group holding a plain SET of each pair.</summary>
    private static WriteGroup GroupOf(StorageFixture f, params (string Key, string Value)[] sets)
    {
        var group = new WriteGroup();
        foreach (var (key, value) in sets)
        {
            Assert.True(f.Db.Strings.Set(Key(key), Key(value), 0, group));
        }
        return group;
    }

    /// <summary>The queued group is written (within 10 s) without a failure, and ended.</summary>
    private static void AssertWritten(WriteGroup group)
    {
        Assert.True(group.WhenWritten().AsTask().Wait(TimeSpan.FromSeconds(10)));
        Assert.Null(group.EndQueued());
    }

    private static void AssertValue(StorageFixture f, string key, string expected)
    {
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get(Key(key), out var value));
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(value));
    }

    [Fact]
    public async Task A_queued_group_is_written_by_the_committer_and_then_its_owner_is_told()
    {
        using var f = new StorageFixture();
        using var group = GroupOf(f, ("a", "1"), ("b", "2"));
        var before = f.Dataset.Engine.LatestSequence;

        group.Queue(f.Dataset);
        Assert.True(group.IsQueued);
        await group.WhenWritten().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(before + 2, f.Dataset.Engine.LatestSequence);
        Assert.Null(group.EndQueued());
        Assert.True(group.IsEmpty);
        Assert.False(group.IsQueued);
        AssertValue(f, "b", "2");

        // The group is reusable: queued again, it is written again.
        f.Db.Strings.Set("a"u8, "3"u8, 0, group);
        f.Db.Strings.Set("c"u8, "4"u8, 0, group);
        group.Queue(f.Dataset);
        await group.WhenWritten().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(group.EndQueued());
        AssertValue(f, "a", "3");
    }

    [Fact]
    public void Groups_queued_while_the_committer_writes_are_written_as_one_batch_with_a_boundary_after_each()
    {
        using var f = new StorageFixture();
        using var first = new WriteGroup();
        using var second = new WriteGroup();
        using var third = new WriteGroup();
        f.Db.Strings.Set("a"u8, "1"u8, 0, first);
        f.Db.Strings.Set("b"u8, "2"u8, 0, second);
        f.Db.Strings.Set("c"u8, "3"u8, 0, second);
        f.Db.Strings.Set("d"u8, "4"u8, 0, third);
        var before = f.Dataset.Engine.LatestSequence;
        using var held = new HeldCommitter(f.Dataset); // released before the groups are disposed
        first.Queue(f.Dataset);
        // The committer took the first group and waits in its write; the next two queue up behind it.
        held.AwaitHeld();
        second.Queue(f.Dataset);
        third.Queue(f.Dataset);
        held.Release();
        foreach (var group in new[] { first, second, third })
        {
            AssertWritten(group);
        }

        var tags = new List<string>();
        using var log = f.Dataset.Engine.Db.GetUpdatesSince(before + 1);
        var batches = 0;
        for (; log.Valid(); log.Next())
        {
            using var batch = log.GetBatch(out _);
            var rep = batch.ToBytes();
            var pos = WriteBatchFormat.HeaderSize;
            while (pos < rep.Length)
            {
                var record = WriteBatchFormat.ReadRecord(rep, ref pos);
                tags.Add(record.Tag == WriteBatchFormat.LogDataTag ? "|" : System.Text.Encoding.ASCII.GetString(rep, record.KeyStart + record.KeyLength - 1, 1));
            }
            tags.Add("/");
            batches++;
        }
        // The first group alone, then the other two in one batch that still marks where the second one ends.
        Assert.Equal(2, batches);
        Assert.Equal("a | / b c | d | /", string.Join(' ', tags));
    }

    [Fact]
    public void A_command_that_locks_a_key_waits_for_the_keys_queued_write_and_reads_it()
    {
        // INCR reads under its key's stripe and writes after: had it read before a queued SET landed, the SET would
        // overwrite its result or its result the SET, computed from a state older than the SET.
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        using var held = new HeldCommitter(f.Dataset); // released before the groups are disposed
        f.Db.Strings.Set("counter"u8, "41"u8, 0, group);
        f.Db.Strings.Set("other"u8, "x"u8, 0, group);
        group.Queue(f.Dataset);

        var read = Started(() =>
        {
            using (f.Db.Locks.Lock(0, "counter"u8))
            {
                return f.Db.Strings.Get("counter"u8, out var value) == KeyLookup.Found ? System.Text.Encoding.ASCII.GetString(value) : "(missing)";
            }
        });
        Assert.False(read.Wait(TimeSpan.FromMilliseconds(300)), "the lock was granted while the key's SET was still queued");
        held.Release();
        Assert.True(read.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal("41", read.Result);
        AssertWritten(group);
    }

    [Fact]
    public void A_pipeline_group_taking_a_key_waits_for_the_keys_queued_write()
    {
        // The read-modify-write group (16 pipelined INCR or HSET) takes its key with TryHold, not Lock.
        using var f = new StorageFixture();
        using var group = GroupOf(f, ("n", "7"), ("m", "8"));
        using var held = new HeldCommitter(f.Dataset); // released before the group is disposed
        group.Queue(f.Dataset);

        var took = Started(() =>
        {
            var tx = new PipelineTransaction();
            tx.Open(f.Dataset);
            try
            {
                return tx.TryHold(0, "n"u8) && f.Db.Strings.Get("n"u8, out var value) == KeyLookup.Found && value.SequenceEqual("7"u8);
            }
            finally
            {
                tx.Abort();
            }
        });
        Assert.False(took.Wait(TimeSpan.FromMilliseconds(300)), "the pipeline group took the key while its SET was still queued");
        held.Release();
        Assert.True(took.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(took.Result);
        AssertWritten(group);
    }

    [Fact]
    public void The_written_callback_runs_after_the_write_and_before_a_drain_or_a_waiting_lock_goes_on()
    {
        // The WATCH check of a queued group runs in this callback: EXEC (which drains) and a command that locks
        // the key must find the watchers already marked.
        using var f = new StorageFixture();
        using var group = GroupOf(f, ("w", "1"), ("x", "1"));
        var seen = new List<string>();
        using var wentOn = new ManualResetEventSlim();
        group.Written = failure =>
        {
            // Had the lock or the drain been let go before this callback, it would be seen here within the wait.
            var early = wentOn.Wait(TimeSpan.FromMilliseconds(300));
            lock (seen)
            {
                seen.Add(!early && failure is null && f.Db.Strings.Get("w"u8, out _) == KeyLookup.Found ? "written" : "out of order");
            }
        };
        using var held = new HeldCommitter(f.Dataset); // released before the group is disposed
        group.Queue(f.Dataset);
        held.AwaitHeld();

        var drained = Started(() =>
        {
            f.Dataset.Commits.Drain();
            wentOn.Set();
            lock (seen)
            {
                seen.Add("drained");
            }
            return true;
        });
        var locked = Started(() =>
        {
            using (f.Db.Locks.Lock(0, "w"u8))
            {
                wentOn.Set();
                lock (seen)
                {
                    seen.Add("locked");
                }
            }
            return true;
        });
        Assert.False(drained.Wait(TimeSpan.FromMilliseconds(200)));
        held.Release();
        Assert.True(drained.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(locked.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal("written", seen[0]);
        Assert.Equal(3, seen.Count);
        AssertWritten(group);
    }

    [Fact]
    public void A_key_of_the_same_stripe_with_nothing_queued_does_not_wait()
    {
        var queued = Key("q0");
        var stripe = KeyLocks.StripeOf(0, queued);
        byte[]? neighbour = null;
        for (var i = 0; neighbour is null; i++)
        {
            var candidate = Key("n" + i);
            if (KeyLocks.StripeOf(0, candidate) == stripe && KeyLocks.SlotOf(0, candidate) != KeyLocks.SlotOf(0, queued))
            {
                neighbour = candidate;
            }
        }
        using var f = new StorageFixture();
        using var group = new WriteGroup();
        using var held = new HeldCommitter(f.Dataset); // released before the groups are disposed
        f.Db.Strings.Set(queued, "v"u8, 0, group);
        f.Db.Strings.Set("x"u8, "v"u8, 0, group);
        group.Queue(f.Dataset);

        var other = Task.Run(() =>
        {
            using (f.Db.Locks.Lock(0, neighbour))
            {
                return true;
            }
        });
        Assert.True(other.Wait(TimeSpan.FromSeconds(10)), "a key whose own writes are not queued waited for its stripe's");
        held.Release();
        Assert.True(group.WhenWritten().AsTask().Wait(TimeSpan.FromSeconds(10)));
        group.EndQueued();
    }

    [Fact]
    public void Locking_every_stripe_and_draining_wait_for_every_queued_group()
    {
        using var f = new StorageFixture();
        using var first = new WriteGroup();
        using var second = new WriteGroup();
        using var held = new HeldCommitter(f.Dataset); // released before the groups are disposed
        f.Db.Strings.Set("a"u8, "1"u8, 0, first);
        f.Db.Strings.Set("b"u8, "1"u8, 0, first);
        f.Db.Strings.Set("c"u8, "1"u8, 0, second);
        f.Db.Strings.Set("d"u8, "1"u8, 0, second);
        first.Queue(f.Dataset);
        second.Queue(f.Dataset);

        // FLUSHALL locks every stripe: it must not run before a queued SET, which would then land after it.
        var all = Started(() =>
        {
            using (f.Db.Locks.LockAll())
            {
                return f.Db.Strings.Get("d"u8, out _);
            }
        });
        var drain = Started(() =>
        {
            f.Dataset.Commits.Drain();
            return true;
        });
        Assert.False(all.Wait(TimeSpan.FromMilliseconds(300)), "every stripe was granted while SETs were queued");
        Assert.False(drain.IsCompleted, "the drain returned while SETs were queued");
        held.Release();
        Assert.True(all.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(KeyLookup.Found, all.Result);
        Assert.True(drain.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(first.WhenWritten().AsTask().IsCompleted);
        Assert.True(second.WhenWritten().AsTask().IsCompleted);
        Assert.Null(first.EndQueued());
        Assert.Null(second.EndQueued());
    }

    [Fact]
    public void A_group_queued_after_the_dataset_closed_fails_and_leaves_its_keys_free()
    {
        var f = new StorageFixture();
        using var group = GroupOf(f, ("a", "1"), ("b", "1"));
        var locks = f.Dataset.Locks;
        f.Dispose();

        group.Queue(f.Dataset);
        Assert.True(group.WhenWritten().AsTask().Wait(TimeSpan.FromSeconds(10)));
        Assert.IsType<ObjectDisposedException>(group.EndQueued());
        var lockTaken = Task.Run(() =>
        {
            using (locks.Lock(0, "a"u8))
            {
                return true;
            }
        });
        Assert.True(lockTaken.Wait(TimeSpan.FromSeconds(10)), "the failed group's keys still count as queued");
    }
}
