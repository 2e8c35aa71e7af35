using System.Globalization;
using Microsoft.Extensions.Logging;
using RocksDbSharp;
using Talus.Replication.Binlog;

namespace Talus.Replication.Replica;

/// <summary>
/// Incremental sync (BinlogSync) on the replica, rule 7: frames arrive in offset order; each chunk must start
/// exactly at the next offset (a gap or duplicate ends the link); it is applied as one WriteBatch, after which
/// the dataset's sequence must equal the chunk's last offset (offsets are the master's: if they ever differ,
/// the lineage is cleared and a full sync follows); the applied offset is acknowledged on the control link.
/// The control connection is watched while streaming: when the master drops it, it forgets this replica and
/// stops the stream without closing the data connection, so waiting for the next frame would only end at
/// repl-timeout. Its loss ends the link at once instead.
/// </summary>
public sealed partial class ReplicaWorker
{
    private async Task BinlogSyncAsync(MasterClient data, MasterClient control, Lineage start, CancellationToken token)
    {
        using var controlLost = CancellationTokenSource.CreateLinkedTokenSource(token);
        var watcher = WatchControlAsync(control, controlLost);
        try
        {
            await StreamAsync(data, control, start, controlLost.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new ReplicationException("the master closed the control connection");
        }
        finally
        {
            await controlLost.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }
    }

    private static async Task WatchControlAsync(MasterClient control, CancellationTokenSource lost)
    {
        try
        {
            await control.WaitForCloseAsync(lost.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await lost.CancelAsync().ConfigureAwait(false);
    }

    private async Task StreamAsync(MasterClient data, MasterClient control, Lineage start, CancellationToken token)
    {
        var expected = start.Offset + 1;
        Progress.AppliedOffset = start.Offset;
        await AckAsync(control, start.Offset, token).ConfigureAwait(false);
        while (true)
        {
            var frame = await data.ReadAsync(token).ConfigureAwait(false) as object?[]
                ?? throw new ReplicationException("malformed frame in the binlog stream");
            Progress.LastIoTicks = Environment.TickCount64;
            var kind = frame.Length > 0 && frame[0] is byte[] k ? System.Text.Encoding.ASCII.GetString(k) : "";
            if (kind == "TALUS-PING")
            {
                await AckAsync(control, expected - 1, token).ConfigureAwait(false);
                continue;
            }
            if (kind != "TALUS-BINLOG" || frame.Length != 4 || frame[3] is not byte[] payload
                || !TryParseOffset(frame[1], out var first) || !TryParseOffset(frame[2], out var next))
            {
                throw new ReplicationException($"malformed binlog frame '{kind}'");
            }
            if (first != expected)
            {
                throw new ReplicationException(first < expected
                    ? $"duplicate binlog entries: got offset {first}, already applied up to {expected - 1}"
                    : $"binlog gap: got offset {first}, expected {expected}");
            }
            Apply(payload, first, next);
            expected = next;
            Progress.AppliedOffset = next - 1;
            await AckAsync(control, next - 1, token).ConfigureAwait(false);
        }
    }

    private void Apply(byte[] payload, ulong first, ulong next) => _settings.RunShared(() => ApplyShared(payload, first, next));

    private void ApplyShared(byte[] payload, ulong first, ulong next)
    {
        var engine = _settings.Engine();
        using (var batch = new WriteBatch(payload, payload.Length))
        {
            engine.Write(batch);
        }
        var now = engine.LatestSequence;
        if (now != next - 1)
        {
            // The dataset no longer counts the master's offsets: it must not claim a lineage.
            LineageStore.Clear(engine);
            throw new ReplicationException($"applied entries {first}..{next - 1} but the dataset is at {now}; lineage cleared, full sync required");
        }
        _settings.BatchApplied(payload);
    }

    private static bool TryParseOffset(object? value, out ulong offset)
    {
        offset = 0;
        return value is byte[] b && ulong.TryParse(System.Text.Encoding.ASCII.GetString(b), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    private async Task AckAsync(MasterClient control, ulong offset, CancellationToken token)
    {
        await control.SendAsync(token, "TALUS-ACK", _settings.RunId, offset).ConfigureAwait(false);
        _logger.LogTrace("Acknowledged offset {Offset}", offset);
    }
}
