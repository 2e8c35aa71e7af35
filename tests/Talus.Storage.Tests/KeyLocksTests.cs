using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>Connections queued for a busy key stripe without blocking their thread: first come, first served.</summary>
public class KeyLocksTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Each_release_admits_the_next_queued_waiter_only_in_the_order_they_came()
    {
        var locks = new KeyLocks();
        var stripe = KeyLocks.StripeOf(0, "hot"u8);
        var held = locks.Lock(0, "hot"u8);
        var first = locks.WhenAdmitted(stripe);
        var second = locks.WhenAdmitted(stripe);
        var third = locks.WhenAdmitted(stripe);
        Assert.True(locks.HasWaiters(stripe));
        Assert.False(first.IsCompleted || second.IsCompleted || third.IsCompleted);

        held.Dispose();
        await first.WaitAsync(Patience);
        Assert.False(second.IsCompleted);

        // The admitted waiter takes the stripe and releases it: the next one's turn.
        using (locks.Lock(0, "hot"u8))
        {
            Assert.False(second.IsCompleted);
        }
        await second.WaitAsync(Patience);
        Assert.False(third.IsCompleted);

        // An admitted waiter that does not take the stripe hands its turn on.
        locks.PassOn(stripe);
        await third.WaitAsync(Patience);
        Assert.False(locks.HasWaiters(stripe));
    }

    [Fact]
    public async Task A_waiter_put_back_at_the_front_goes_before_the_others_and_one_that_finds_the_stripe_free_is_admitted_at_once()
    {
        var locks = new KeyLocks();
        var stripe = KeyLocks.StripeOf(3, "k"u8);
        // Nobody holds the stripe: registering admits the head of the queue, which is this waiter.
        await locks.WhenAdmitted(stripe).WaitAsync(Patience);

        var held = locks.Lock(3, "k"u8);
        var back = locks.WhenAdmitted(stripe);
        var front = locks.WhenAdmitted(stripe, front: true);
        held.Dispose();
        await front.WaitAsync(Patience);
        Assert.False(back.IsCompleted);
        locks.PassOn(stripe);
        await back.WaitAsync(Patience);
    }

    [Fact]
    public void A_release_inside_a_collect_scope_resumes_the_admitted_waiter_on_the_same_thread_when_the_scope_ends()
    {
        var locks = new KeyLocks();
        var stripe = KeyLocks.StripeOf(0, "x"u8);
        var thread = Environment.CurrentManagedThreadId;
        var resumedOn = 0;
        Task continuation;
        using (StripeWakeups.Collect())
        {
            var held = locks.Lock(0, "x"u8);
            continuation = locks.WhenAdmitted(stripe).ContinueWith(_ => resumedOn = Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);
            held.Dispose();
            // Queued on this thread until the scope ends.
            Assert.False(continuation.IsCompleted);
        }
        Assert.True(continuation.IsCompleted);
        Assert.Equal(thread, resumedOn);
    }
}
