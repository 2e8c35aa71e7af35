using Talus.Storage.Engine;

namespace Talus.Storage.Tests;

/// <summary>What the committer's tests share: holding the committer in a write, and starting a waiting side on a thread of its own.</summary>
internal static class CommitterHold
{
    /// <summary>
    /// Runs <paramref name="work"/> on a thread of its own and returns once that thread has started it, so that a
    /// check that it has not finished yet is not passed merely by a late start.
    /// </summary>
    public static Task<T> Started<T>(Func<T> work)
    {
        using var started = new ManualResetEventSlim();
        var task = Task.Factory.StartNew(() =>
        {
            started.Set();
            return work();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        return task;
    }
}

/// <summary>
/// Holds the dataset's committer before each write until <see cref="Release"/>; with <c>failFirst</c>, its first
/// write then fails as a full disk would (the exception is the write's failure).
/// </summary>
internal sealed class HeldCommitter : IDisposable
{
    private readonly ManualResetEventSlim _open = new(false);
    private readonly ManualResetEventSlim _entered = new(false);
    private readonly CommitQueue _queue;
    private int _writes;

    public HeldCommitter(Dataset dataset, bool failFirst = false)
    {
        _queue = dataset.Commits;
        _queue.BeforeWrite = () =>
        {
            _entered.Set();
            _open.Wait(TimeSpan.FromSeconds(30));
            if (failFirst && Interlocked.Increment(ref _writes) == 1)
            {
                throw new IOException("No space left on device (a test's first write)");
            }
        };
    }

    /// <summary>Waits until the committer has taken a write and is held in it.</summary>
    public void AwaitHeld() => Assert.True(_entered.Wait(TimeSpan.FromSeconds(10)), "the committer did not start a write");

    public void Release() => _open.Set();

    /// <summary>
    /// <paramref name="waiting"/> (started with <see cref="CommitterHold.Started{T}"/>) has not finished while the
    /// committer is held (<paramref name="message"/> when it has), and finishes once it is released.
    /// </summary>
    public void AssertWaitsForTheWrite(Task waiting, string message)
    {
        Assert.False(waiting.Wait(TimeSpan.FromMilliseconds(300)), message);
        Release();
        Assert.True(waiting.Wait(TimeSpan.FromSeconds(10)));
    }

    public void Dispose()
    {
        _open.Set();
        _queue.BeforeWrite = null;
    }
}
