using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
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
/// <para>
/// A pipeline group of read-modify-write commands may be queued too (<see cref="DeferredCommit"/>): numbered in queue
/// order (<see cref="DeferredCommit.Sequence"/>) and settled in that order once written, so that the next group on
/// its keys reads through it until then; a group whose dependency failed is failed here unwritten.
/// </para>
/// </summary>
public sealed class CommitQueue : IDisposable
{
    private readonly Dataset _dataset;
    private readonly Queue<IQueuedWrite> _queue = new();
    private long _sequence;
    private readonly object _sync = new();
    private Thread? _thread;
    private bool _busy;
    private bool _stopped;
    private long _written;
    private long _batches;
    private int _pending;

    internal CommitQueue(Dataset dataset)
    {
        _dataset = dataset;
    }

    /// <summary>Groups written (or failed) by this queue since the start (INFO).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>RocksDB writes the queue made for them: fewer than <see cref="Written"/> when groups were merged (INFO).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Groups queued and not yet written, the one being written included (INFO).</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Tests: runs on the committer's thread before each group's write (a test holds the committer in it).</summary>
    internal Action? BeforeWrite { get; set; }

    /// <summary>Queues a group whose keys are already marked queued; a stopped queue fails it at once.</summary>
    internal void Enqueue(IQueuedWrite group)
    {
        lock (_sync)
        {
            if (!_stopped)
            {
                Interlocked.Increment(ref _pending);
                if (group is DeferredCommit deferred)
                {
                    deferred.Sequence = ++_sequence;
                }
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
        group.Complete(repliesHere: false);
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

    [ThreadStatic] private static bool t_committer;

    /// <summary>
    /// True on a committer's thread. A connection whose queued group is written while few others wait sends the
    /// replies here, where the group's <see cref="WriteGroup.WhenWritten"/> or
    /// <see cref="DeferredCommit.WhenWritten"/> resumes it, instead of waking a thread-pool thread for a few bytes;
    /// it must leave this thread before it executes a command (one may wait for the committer) or waits for
    /// anything but the socket.
    /// </summary>
    public static bool OnCommitterThread => t_committer;

    private void Run()
    {
        t_committer = true;
        PerfLevel.OffForThisThread();
        var taken = new List<IQueuedWrite>(MaxMerged);
        var written = new List<IQueuedWrite>(MaxMerged);
        var merged = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            taken.Clear();
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
                // What queued up while the last write ran is written together: one WAL append and one pass through
                // RocksDB's write path for all of it.
                var bytes = 0L;
                while (_queue.Count != 0 && taken.Count < MaxMerged && bytes < MaxMergedBytes)
                {
                    var next = _queue.Dequeue();
                    bytes += next.Bytes;
                    taken.Add(next);
                }
                _busy = true;
            }
            // A group that read through a failed one fails with it, unwritten; in queue order, so one that read
            // through such a group fails too. It is only doomed here, and finished in its place below: the groups
            // of a batch are settled in queue order, after the write (see EngineTransaction's read-through).
            written.Clear();
            foreach (var group in taken)
            {
                if (group is DeferredCommit { DependencyFailed: true } deferred)
                {
                    deferred.Doom(new IOException("a write this pipeline group read through failed, so it was not written"));
                }
                else
                {
                    written.Add(group);
                }
            }
            Exception? failure = null;
            try
            {
                BeforeWrite?.Invoke();
                if (written.Count == 1 && written[0] is WriteGroup single)
                {
                    _dataset.Engine.Write(single.Batch);
                }
                else if (written.Exists(static group => !IsEmpty(group)))
                {
                    using var batch = Merge(written, merged);
                    _dataset.Engine.Write(batch);
                }
            }
            catch (Exception ex)
            {
                // Storage failures (disk full, a closing dataset) are the groups' to report; so is anything else,
                // since this thread must go on writing the groups behind them.
                failure = ex;
            }
            Interlocked.Add(ref _written, taken.Count);
            if (written.Count != 0)
            {
                Interlocked.Increment(ref _batches);
            }
            foreach (var group in taken)
            {
                group.Finish(failure, _dataset.Locks);
            }
            Interlocked.Add(ref _pending, -taken.Count);
            // Every group of the batch is settled and its keys released before any owner is woken: an owner may send
            // its replies on this thread (OnCommitterThread), and nobody waiting for those keys waits for that too.
            // Only while few groups wait to be written, though: with more, this thread is the bottleneck, and it goes
            // on to the next write while the thread pool sends.
            foreach (var group in taken)
            {
                group.Complete(repliesHere: Volatile.Read(ref _pending) < RepliesHereBelow);
            }
        }
    }

    /// <summary>
    /// An owner's replies are sent on this thread while fewer groups than this wait to be written. Handing a send to
    /// the thread pool costs a wake-up and a context switch, more than the send; but while groups pile up (a
    /// ZADD's two index inserts per member keep this thread busy), every send here delays all of them
    /// (docs/benchmarks.md).
    /// </summary>
    private const int RepliesHereBelow = 4;

    /// <summary>Most groups written as one batch.</summary>
    private const int MaxMerged = 64;

    /// <summary>No more groups are added to a merged batch once it holds this many bytes of keys and values.</summary>
    private const long MaxMergedBytes = 4 * 1024 * 1024;

    /// <summary>
    /// One batch holding the groups' records in queue order, each group followed by the boundary marker that
    /// <see cref="StorageEngine.Write"/> puts after a batch's last record (the engine adds the last group's), so a
    /// replica still sees where each group's whole commands end.
    /// </summary>
    private static WriteBatch Merge(List<IQueuedWrite> groups, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        buffer.GetSpan(WriteBatchFormat.HeaderSize)[..WriteBatchFormat.HeaderSize].Clear();
        buffer.Advance(WriteBatchFormat.HeaderSize);
        var count = 0u;
        var last = groups.FindLastIndex(static group => !IsEmpty(group));
        for (var i = 0; i <= last; i++)
        {
            if (IsEmpty(groups[i]))
            {
                // A pipeline group that wrote nothing (it waited only for what it read through): no records, no marker.
                continue;
            }
            var records = groups[i].Representation;
            count += WriteBatchFormat.Count(records);
            buffer.Write(records[WriteBatchFormat.HeaderSize..]);
            if (i < last)
            {
                WriteBatchFormat.WriteBoundaryMarker(buffer);
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(MemoryMarshal.AsMemory(buffer.WrittenMemory).Span[8..], count);
        // The batch copies the representation into native memory: the buffer is reused for the next one.
        return WriteBatch.FromSpan(buffer.WrittenSpan);
    }

    private static bool IsEmpty(IQueuedWrite group) => group.Representation.Length <= WriteBatchFormat.HeaderSize;

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
