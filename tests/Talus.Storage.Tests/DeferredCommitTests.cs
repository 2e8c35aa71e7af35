using Talus.Storage.Engine;
using Talus.Storage.Types;
using static Talus.Storage.Tests.CommitterHold;

namespace Talus.Storage.Tests;

/// <summary>
/// A pipeline group handed to the committer (<see cref="PipelineTransaction.Queue"/>): the next group on its keys
/// reads through it and is written after it, everyone else waits for it, and a group that read through a write
/// that failed is not written either.
/// </summary>
public class DeferredCommitTests
{
    [Fact]
    public void A_group_reads_through_a_deferred_commit_of_its_key_and_is_written_after_it()
    {
        using var f = new StorageFixture();
        using var held = new HeldCommitter(f.Dataset);
        var first = QueueGroup(f, "n", () => Increment(f, "n", 2));
        held.AwaitHeld();

        long seen = 0;
        var second = QueueGroup(f, "n", () => seen = Increment(f, "n", 1));
        Assert.False(first.IsFinished, "the second group waited for the first one's write instead of reading through it");
        Assert.Equal(3, seen);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("n"u8, out _));

        held.Release();
        AssertWritten(first);
        AssertWritten(second);
        AssertValue(f, "n", "3");
    }

    [Fact]
    public void A_group_taking_a_key_later_reads_its_newest_write_not_an_older_deferred_commit_of_it()
    {
        // The later group reads "a" through the first group's deferred commit, which also wrote "b". By the time it
        // takes "b", that commit is written and another group has written "b" again: the database answers, not the
        // older commit.
        using var f = new StorageFixture();
        Assert.NotEqual(KeyLocks.StripeOf(0, "a"u8), KeyLocks.StripeOf(0, "b"u8));
        using var held = new HeldCommitter(f.Dataset);
        var first = QueueGroupOnAThenB(f, null);
        held.AwaitHeld();

        using var tookA = new ManualResetEventSlim();
        using var goOn = new ManualResetEventSlim();
        var later = LaterGroupOnAThenB(f, tookA, goOn, () => { });
        Assert.True(tookA.Wait(TimeSpan.FromSeconds(10)));
        held.Release();
        AssertWritten(first);
        AssertWritten(QueueGroup(f, "b", () => Assert.Equal(2, Increment(f, "b", 1))));

        goOn.Set();
        Assert.True(later.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, later.Result);
        AssertValue(f, "b", "3");
    }

    [Fact]
    public void A_group_stops_reading_through_a_commit_once_it_is_written_even_before_it_is_answered_for()
    {
        // Once the committer has written a commit and taken it off its keys' chains, a group taking one of its keys
        // reads the database and may write the key on its own thread, while the commit's keys still count as queued
        // (its callback runs). A group that listed the commit before must not answer that key from it any more.
        using var f = new StorageFixture();
        Assert.NotEqual(KeyLocks.StripeOf(0, "a"u8), KeyLocks.StripeOf(0, "b"u8));
        using var held = new HeldCommitter(f.Dataset);
        using var inCallback = new ManualResetEventSlim();
        using var endCallback = new ManualResetEventSlim();
        var first = QueueGroupOnAThenB(f, _ =>
        {
            inCallback.Set();
            endCallback.Wait(TimeSpan.FromSeconds(30));
        });
        held.AwaitHeld();

        using var tookA = new ManualResetEventSlim();
        using var goOn = new ManualResetEventSlim();
        using var read = new ManualResetEventSlim();
        var later = LaterGroupOnAThenB(f, tookA, goOn, read.Set);
        Assert.True(tookA.Wait(TimeSpan.FromSeconds(10)));
        held.Release();
        Assert.True(inCallback.Wait(TimeSpan.FromSeconds(10)));

        // Written, off the chains, its callback not done: this group reads "b" from the database and writes it here.
        var between = new PipelineTransaction();
        between.Open(f.Dataset);
        Assert.True(between.TryHold(0, "b"u8));
        Assert.Equal(2, Increment(f, "b", 1));
        between.Commit();

        goOn.Set();
        var answered = read.Wait(TimeSpan.FromSeconds(10));
        endCallback.Set();
        Assert.True(answered);
        Assert.True(later.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, later.Result);
        AssertWritten(first);
        AssertValue(f, "b", "3");
    }

    [Fact]
    public void A_command_that_locks_the_key_waits_for_its_deferred_commit()
    {
        using var f = new StorageFixture();
        using var held = new HeldCommitter(f.Dataset);
        var first = QueueGroup(f, "n", () => Increment(f, "n", 2));
        held.AwaitHeld();

        // INCR alone takes its key's stripe with Lock.
        var incremented = Started(() => f.Db.Strings.IncrBy("n"u8, 5, out var result) == OpStatus.Ok ? result : -1);
        held.AssertWaitsForTheWrite(incremented, "the lock was granted while the key's deferred commit was unwritten");
        Assert.Equal(7, incremented.Result);
        AssertWritten(first);
        AssertValue(f, "n", "7");
    }

    [Fact]
    public void A_set_group_written_on_its_own_thread_lands_after_a_deferred_commit_of_its_key()
    {
        using var f = new StorageFixture();
        using var held = new HeldCommitter(f.Dataset);
        var first = QueueGroup(f, "n", () => Increment(f, "n", 2));
        held.AwaitHeld();

        var set = Started(() =>
        {
            using var group = new WriteGroup();
            Assert.True(f.Db.Strings.Set("n"u8, "x"u8, 0, group));
            group.Commit(f.Dataset);
            return true;
        });
        held.AssertWaitsForTheWrite(set, "the SET was written before the key's deferred commit");
        AssertWritten(first);
        AssertValue(f, "n", "x");
    }

    [Fact]
    public void A_group_that_read_through_a_failed_write_fails_unwritten()
    {
        using var f = new StorageFixture();
        using var held = new HeldCommitter(f.Dataset, failFirst: true);
        var first = QueueGroup(f, "n", () => Increment(f, "n", 2));
        held.AwaitHeld();
        var second = QueueGroup(f, "n", () => Increment(f, "n", 1));
        var unrelated = QueueGroup(f, "other", () => Increment(f, "other", 1));

        held.Release();
        Assert.True(second.WhenWritten().AsTask().Wait(TimeSpan.FromSeconds(10)));
        Assert.True(unrelated.WhenWritten().AsTask().Wait(TimeSpan.FromSeconds(10)));
        Assert.IsType<IOException>(first.Failure);
        Assert.NotNull(second.Failure);
        Assert.Equal(KeyLookup.Missing, f.Db.Strings.Get("n"u8, out _));
        // A group on another key read through nothing of it, and is written.
        Assert.Null(unrelated.Failure);
        AssertValue(f, "other", "1");
    }

    [Theory]
    // The group takes the key and reads through its deferred commit: its commit on its own thread waits for that write.
    [InlineData("n", "n", "the commit returned before the write it read through")]
    // The group reads through the deferred commits of the keys it took, and only of those: locking another key from
    // the group's thread waits for that key's deferred commit, as outside a group.
    [InlineData("a", "b", "the lock of a key the group had not taken was granted while its deferred commit was unwritten")]
    public void A_group_on_its_own_thread_sees_a_deferred_commit_of_its_key_and_lands_after_it(string taken, string key, string message)
    {
        using var f = new StorageFixture();
        Assert.True(taken == key || KeyLocks.StripeOf(0, Key(taken)) != KeyLocks.StripeOf(0, Key(key)));
        using var held = new HeldCommitter(f.Dataset);
        var first = QueueGroup(f, key, () => Increment(f, key, 2));
        held.AwaitHeld();

        var incremented = IncrementInGroup(f, taken, key);
        held.AssertWaitsForTheWrite(incremented, message);
        Assert.Equal(3, incremented.Result);
        AssertWritten(first);
        AssertValue(f, key, "3");
    }

    [Fact]
    public void An_iterator_in_a_group_waits_for_the_deferred_commits_it_reads_through()
    {
        // A range read (an iterator over the database under the group's own writes) cannot see a deferred commit's
        // records: it waits until they are in the database.
        using var f = new StorageFixture();
        using var held = new HeldCommitter(f.Dataset);
        var first = QueueGroup(f, "h", () => Assert.Equal(OpStatus.Ok, f.Db.Hashes.Set("h"u8, [new("a"u8.ToArray(), "1"u8.ToArray())], out _)));
        held.AwaitHeld();

        var read = Started(() =>
        {
            var tx = new PipelineTransaction();
            tx.Open(f.Dataset);
            try
            {
                Assert.True(tx.TryHold(0, "h"u8));
                Assert.Equal(OpStatus.Ok, f.Db.Hashes.GetAll("h"u8, HashParts.Both, out var items));
                return string.Join(' ', items.Select(i => System.Text.Encoding.ASCII.GetString(i)));
            }
            finally
            {
                tx.Commit();
            }
        });
        held.AssertWaitsForTheWrite(read, "the range read ran before the deferred commit was written");
        Assert.Equal("a 1", read.Result);
        AssertWritten(first);
    }

    [Fact]
    public void Groups_of_many_threads_on_one_key_queued_or_written_in_turn_lose_no_update()
    {
        using var f = new StorageFixture();
        const int threads = 4, rounds = 300, perGroup = 3;
        var workers = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            var random = new Random(t);
            for (var round = 0; round < rounds; round++)
            {
                var tx = new PipelineTransaction();
                tx.Open(f.Dataset);
                var first = t % 2 == 0 ? "n" : "l";
                while (!tx.TryHold(0, Key(first)))
                {
                    tx.Abort();
                    Thread.Yield();
                    tx.Open(f.Dataset);
                }
                Work(first);
                var second = first == "n" ? "l" : "n";
                if (!tx.TryHold(0, Key(second)))
                {
                    if (random.Next(2) == 0)
                    {
                        AssertWritten(tx.Queue(null)!);
                    }
                    else
                    {
                        tx.Commit();
                    }
                    tx.Open(f.Dataset);
                    while (!tx.TryHold(0, Key(second)))
                    {
                        tx.Abort();
                        Thread.Yield();
                        tx.Open(f.Dataset);
                    }
                }
                Work(second);
                if (random.Next(2) == 0)
                {
                    AssertWritten(tx.Queue(null)!);
                }
                else
                {
                    tx.Commit();
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Assert.True(Task.WaitAll(workers, TimeSpan.FromSeconds(60)));
        AssertValue(f, "n", (threads * rounds * perGroup).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(KeyLookup.Found, f.Db.Lists.Length("l"u8, out var length));
        Assert.Equal(threads * rounds * perGroup, length);

        void Work(string key)
        {
            if (key == "n")
            {
                Increment(f, "n", perGroup);
            }
            else
            {
                for (var i = 0; i < perGroup; i++)
                {
                    Assert.Equal(OpStatus.Ok, f.Db.Lists.Push("l"u8, ListEnd.Right, ["e"u8.ToArray()], out _));
                }
            }
        }
    }

    /// <summary>Opens a pipeline group on this thread, takes the key, runs <paramref name="work"/> in it and queues it.</summary>
    private static DeferredCommit QueueGroup(StorageFixture f, string key, Action work)
    {
        var tx = new PipelineTransaction();
        tx.Open(f.Dataset);
        Assert.True(tx.TryHold(0, Key(key)));
        work();
        return tx.Queue(null) ?? throw new InvalidOperationException("the group was not queued");
    }

    /// <summary>A group that takes "a" and then "b", increments each once and is queued (<paramref name="written"/>: its callback).</summary>
    private static DeferredCommit QueueGroupOnAThenB(StorageFixture f, Action<Exception?>? written)
    {
        var tx = new PipelineTransaction();
        tx.Open(f.Dataset);
        Assert.True(tx.TryHold(0, "a"u8));
        Increment(f, "a", 1);
        Assert.True(tx.TryHold(0, "b"u8));
        Increment(f, "b", 1);
        return tx.Queue(written)!;
    }

    /// <summary>
    /// On a thread of its own: a group takes "a" (then sets <paramref name="tookA"/>), waits for
    /// <paramref name="goOn"/>, takes "b", increments it (then calls <paramref name="read"/>) and commits; the value it saw.
    /// </summary>
    private static Task<long> LaterGroupOnAThenB(StorageFixture f, ManualResetEventSlim tookA, ManualResetEventSlim goOn, Action read) => Started(() =>
    {
        var group = new PipelineTransaction();
        group.Open(f.Dataset);
        Assert.True(group.TryHold(0, "a"u8));
        tookA.Set();
        Assert.True(goOn.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(group.TryHold(0, "b"u8));
        var seen = Increment(f, "b", 1);
        read();
        group.Commit();
        return seen;
    });

    /// <summary>
    /// On a thread of its own (<see cref="Started{T}"/>): a group takes <paramref name="taken"/> (and increments it,
    /// when it is another key), increments <paramref name="key"/> and commits on that thread; the value it saw.
    /// </summary>
    private static Task<long> IncrementInGroup(StorageFixture f, string taken, string key) => Started(() =>
    {
        var tx = new PipelineTransaction();
        tx.Open(f.Dataset);
        Assert.True(tx.TryHold(0, Key(taken)));
        if (taken != key)
        {
            Increment(f, taken, 1);
        }
        var seen = Increment(f, key, 1);
        tx.Commit();
        return seen;
    });

    /// <summary>INCR of the key, <paramref name="times"/> times; the last reply.</summary>
    private static long Increment(StorageFixture f, string key, int times)
    {
        var result = 0L;
        for (var i = 0; i < times; i++)
        {
            Assert.Equal(OpStatus.Ok, f.Db.Strings.IncrBy(Key(key), 1, out result));
        }
        return result;
    }

    private static byte[] Key(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    private static void AssertWritten(DeferredCommit commit)
    {
        Assert.True(commit.WhenWritten().AsTask().Wait(TimeSpan.FromSeconds(10)));
        Assert.Null(commit.Failure);
    }

    private static void AssertValue(StorageFixture f, string key, string expected)
    {
        Assert.Equal(KeyLookup.Found, f.Db.Strings.Get(Key(key), out var value));
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(value));
    }
}
