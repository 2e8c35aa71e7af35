using System.Globalization;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;
using Talus.Replication.Binlog;
using Talus.Replication.DbSync;
using Talus.Storage.Engine;

namespace Talus.Replication.Replica;

/// <summary>
/// Full sync (DbSync) on the replica, rule 3: wait for a slot and a snapshot, fetch the manifest, fetch every
/// file chunk by chunk into staging while hashing it, check each file's size and checksum, open the staging
/// store read-only (create-if-missing off) and compare its own lineage with the manifest's, mark the swap,
/// and swap it in with no command running. The result is explicit: this method returns only when the
/// dataset was swapped (Completed); every other outcome throws (Aborted) and the caller wipes staging.
/// </summary>
public sealed partial class ReplicaWorker
{
    private async Task DbSyncAsync(MasterClient data, CancellationToken token)
    {
        var snapshotId = await WaitForSnapshotAsync(data, token).ConfigureAwait(false);
        var manifestBytes = await data.CallOkAsync(token, "TALUS-DBSYNC", "MANIFEST", _settings.RunId, snapshotId).ConfigureAwait(false) as byte[]
            ?? throw new ReplicationException("master sent no manifest");
        var manifest = SnapshotManifest.Parse(System.Text.Encoding.UTF8.GetString(manifestBytes));
        if (manifest.SnapshotId != snapshotId)
        {
            throw new ReplicationException($"manifest is for snapshot {manifest.SnapshotId}, expected {snapshotId}");
        }
        Progress.SnapshotId = snapshotId;
        Progress.FilesTotal = manifest.Files.Count;
        Progress.BytesTotal = manifest.TotalBytes;
        Progress.TransferStartedTicks = Environment.TickCount64;
        Machine.MoveTo(ReplState.DbSync, $"receiving snapshot {snapshotId}: {manifest.Files.Count} files, {manifest.TotalBytes} bytes, lineage {manifest.Lineage}");
        _settings.Directories.ResetStaging();
        var lastLog = Environment.TickCount64;
        foreach (var file in manifest.Files)
        {
            await ReceiveFileAsync(data, snapshotId, file, token).ConfigureAwait(false);
            Progress.FilesDone++;
            if (Environment.TickCount64 - lastLog > 2000 || Progress.FilesDone == Progress.FilesTotal)
            {
                lastLog = Environment.TickCount64;
                _logger.LogInformation("DbSync progress: {Files}/{FilesTotal} files, {Bytes}/{BytesTotal} bytes, eta {Eta}s",
                    Progress.FilesDone, Progress.FilesTotal, Progress.BytesDone, Progress.BytesTotal, Progress.EtaSeconds);
            }
        }
        await data.CallOkAsync(token, "TALUS-DBSYNC", "END", _settings.RunId, snapshotId).ConfigureAwait(false);
        Machine.MoveTo(ReplState.DbSwap, $"all {manifest.Files.Count} files of snapshot {snapshotId} verified");
        VerifyStagingLineage(manifest);
        _settings.Directories.MarkSwapReady();
        var delay = _settings.SwapDelay();
        if (delay > TimeSpan.Zero)
        {
            _logger.LogWarning("repl-swap-delay-ms: sleeping {Delay} ms after the swap marker and again inside the swap (testing only)", (long)delay.TotalMilliseconds);
            await Task.Delay(delay, token).ConfigureAwait(false);
        }
        await _settings.SwapDatasetAsync(() => _settings.Directories.SwapClosed(delay)).ConfigureAwait(false);
        var now = LineageStore.Read(_settings.Engine());
        if (now != manifest.Lineage)
        {
            throw new ReplicationException($"after the swap the dataset's lineage is {now}, the manifest said {manifest.Lineage}");
        }
        Progress.FullSyncs++;
        Progress.AppliedOffset = now.Offset;
        _logger.LogInformation("DbSync completed: snapshot {Id}, lineage {Lineage}", snapshotId, now);
        Progress.ResetTransfer();
    }

    /// <summary>Polls the master until it hands this replica a snapshot; shows the queue position meanwhile (a state, not an error).</summary>
    private async Task<string> WaitForSnapshotAsync(MasterClient data, CancellationToken token)
    {
        var lastPosition = -1;
        var wasMaking = false;
        while (true)
        {
            var reply = await data.CallOkAsync(token, "TALUS-DBSYNC", "BEGIN", _settings.RunId).ConfigureAwait(false) as string ?? "";
            var words = reply.Split(' ');
            switch (words[0])
            {
                case "READY" when words.Length == 2:
                    Progress.QueuePosition = 0;
                    Progress.WaitingForSnapshot = false;
                    return words[1];
                case "QUEUED" when words.Length == 2 && int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var position):
                    Progress.QueuePosition = position;
                    Progress.WaitingForSnapshot = false;
                    if (position != lastPosition)
                    {
                        lastPosition = position;
                        _logger.LogInformation("DbSync waiting in the master's queue at position {Position}", position);
                    }
                    break;
                case "MAKING":
                    Progress.QueuePosition = 0;
                    Progress.WaitingForSnapshot = true;
                    if (!wasMaking)
                    {
                        wasMaking = true;
                        _logger.LogInformation("DbSync waiting for the master's snapshot to be made");
                    }
                    break;
                default:
                    throw new ReplicationException($"unexpected DbSync reply '{reply}'");
            }
            Progress.LastIoTicks = Environment.TickCount64;
            await Task.Delay(TimeSpan.FromMilliseconds(100 + Random.Shared.Next(100)), token).ConfigureAwait(false);
        }
    }

    private async Task ReceiveFileAsync(MasterClient data, string snapshotId, SnapshotFile file, CancellationToken token)
    {
        var path = Path.Combine(_settings.Directories.Staging, file.Name);
        var hash = new XxHash128();
        long received = 0;
        await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            while (received < file.Size)
            {
                var chunk = await data.CallOkAsync(token, "TALUS-DBSYNC", "FILE", _settings.RunId, snapshotId, file.Name, received).ConfigureAwait(false) as byte[]
                    ?? throw new ReplicationException($"master sent no data for {file.Name} at {received}");
                if (chunk.Length == 0 || received + chunk.Length > file.Size)
                {
                    throw new ReplicationException($"{file.Name}: chunk of {chunk.Length} bytes at {received} does not fit the manifest size {file.Size}");
                }
                hash.Append(chunk);
                await output.WriteAsync(chunk, token).ConfigureAwait(false);
                received += chunk.Length;
                Progress.BytesDone += chunk.Length;
                Progress.LastIoTicks = Environment.TickCount64;
            }
            output.Flush(flushToDisk: true);
        }
        var checksum = Convert.ToHexStringLower(hash.GetCurrentHash());
        if (checksum != file.Checksum)
        {
            throw new ReplicationException($"{file.Name}: checksum {checksum} does not match the manifest's {file.Checksum}");
        }
    }

    /// <summary>Opens the received store read-only (never creating anything) and checks it is the manifest's lineage.</summary>
    private void VerifyStagingLineage(SnapshotManifest manifest)
    {
        Lineage embedded;
        using (var store = ReadOnlyDataset.Open(_settings.Directories.Staging))
        {
            embedded = LineageStore.Read(store);
        }
        if (embedded != manifest.Lineage)
        {
            throw new ReplicationException($"received store carries lineage {embedded}, the manifest says {manifest.Lineage}");
        }
    }
}
