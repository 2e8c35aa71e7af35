using RocksDbSharp;

namespace Talus.Storage.Engine;

/// <summary>
/// Writes the write groups that connections queue at the end of a read (<see cref="WriteGroup.Queue"/>) one after
/// another on one thread of its own, in the order they were queued. The connection does not wait in RocksDB's
/// write path meanwhile: its thread goes on serving other connections, and the connection sends the group's
/// replies once the group is written (<see cref="WriteGroup.WhenWritten"/>).
/// <para>
/// A queued group's keys count as queued in <see cref="KeyLocks"/> until it is written: a command that takes a
/// key's stripe to read and then write it (INCR, SET NX, a pipeline group, FLUSHALL's every stripe) waits for the
/// key's queued writes first, so it reads the latest state and its write lands after theirs. Readers that take no
/// stripe (GET) see a queued write once it is written, and its replies go out only then, so no client learns of a
/// write before it is in the database. Whoever needs every write done (EXEC, a dataset swap, a role change,
/// shutdown) calls <see cref="Drain"/>.
/// </para>
/// </summary>
public sealed class CommitQueue : IDisposable
{
    private readonly Dataset _dataset;
    private readonly Queue<WriteGroup> _queue = new();
    private readonly object _sync = new();
    private Thread? _thread;
    private bool _busy;
    private bool _stopped;

    internal CommitQueue(Dataset dataset)
    {
        _dataset = dataset;
    }

    /// <summary>Groups written by this queue since the start (INFO and tests).</summary>
    public long Written => Interlocked.Read(ref _written);

    private long _written;

    /// <summary>Tests: runs on the committer's thread before each group's write (a test holds the committer in it).</summary>
    internal Action? BeforeWrite { get; set; }

    /// <summary>Queues a group whose keys are already marked queued; a stopped queue fails it at once.</summary>
    internal void Enqueue(WriteGroup group)
    {
        lock (_sync)
        {
            if (!_stopped)
            {
                _queue.Enqueue(group);
                if (_thread is null)
                {
                    _thread = new Thread(Run) { IsBackground = true, Name = "talus-commit" };
                    _thread.Start();
                }
                else if (_queue.Count == 1 && !_busy)
                {
                    Monitor.PulseAll(_sync);
                }
                return;
            }
        }
        group.Finish(new ObjectDisposedException(nameof(CommitQueue), "the dataset is closing"), _dataset.Locks);
    }

    /// <summary>Waits until every group queued before this call is written (or failed) and answered for.</summary>
    public void Drain()
    {
        if (Thread.CurrentThread == _thread)
        {
            throw new InvalidOperationException("the committer cannot wait for itself");
        }
        lock (_sync)
        {
            while (_queue.Count != 0 || _busy)
            {
                Monitor.Wait(_sync);
            }
        }
    }

    private void Run()
    {
        PerfLevel.OffForThisThread();
        while (true)
        {
            WriteGroup group;
            lock (_sync)
            {
                while (_queue.Count == 0)
                {
                    _busy = false;
                    Monitor.PulseAll(_sync);
                    if (_stopped)
                    {
                        return;
                    }
                    Monitor.Wait(_sync);
                }
                group = _queue.Dequeue();
                _busy = true;
            }
            Exception? failure = null;
            try
            {
                BeforeWrite?.Invoke();
                _dataset.Engine.Write(group.Batch);
            }
            catch (Exception ex)
            {
                // Storage failures (disk full, a closing dataset) are the group's to report; so is anything else,
                // since this thread must go on writing the groups behind it.
                failure = ex;
            }
            Interlocked.Increment(ref _written);
            group.Finish(failure, _dataset.Locks);
        }
    }

    /// <summary>Writes what is queued, then stops the thread; groups queued later fail.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_sync)
        {
            _stopped = true;
            thread = _thread;
            Monitor.PulseAll(_sync);
        }
        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }
}
