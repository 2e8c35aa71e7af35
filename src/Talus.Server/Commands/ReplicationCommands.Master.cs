using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Talus.Protocol;
using Talus.Replication;
using Talus.Replication.Binlog;
using Talus.Replication.Master;
using Talus.Server.Host;

namespace Talus.Server.Commands;

/// <summary>The master's side of the internal replication verbs (rules 2, 3, 6, 7, 9, 11).</summary>
public static partial class ReplicationCommands
{
    private static void Identity(CommandContext ctx)
    {
        var manager = Manager(ctx);
        ctx.Writer.WriteArrayHeader(2);
        ctx.Writer.WriteBulk(ctx.Server.RunId);
        ctx.Writer.WriteBulk(string.Join(',', manager.Worker?.Upstream ?? []));
    }

    /// <summary>TALUS-METASYNC runid databases format-version listening-port [announce-ip].</summary>
    private static void MetaSync(CommandContext ctx)
    {
        var manager = Manager(ctx);
        if (manager.Role == ReplicationRole.Replica)
        {
            ctx.Writer.WriteError("ERR MetaSync refused: this node is a replica (chained replication is not supported)");
            return;
        }
        if (ctx.Argc > 6 || !ctx.Args.TryGetLong(2, out var databases) || !ctx.Args.TryGetLong(3, out var format) || !ctx.Args.TryGetLong(4, out var port))
        {
            ctx.Writer.WriteError("ERR MetaSync: malformed arguments");
            return;
        }
        var runId = ctx.Args.GetString(1);
        // replica-announce-ip wins over the source address: Sentinel connects to what INFO slaveN says.
        var ip = ctx.Argc == 6 ? ctx.Args.GetString(5) : (ctx.Session.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString() ?? "?";
        var error = manager.Master.MetaSync(runId, (int)databases, (int)format, ip, (int)port, ctx.Server.Dataset.DatabaseCount);
        if (error is not null)
        {
            ctx.Writer.WriteError(error);
            return;
        }
        var state = ctx.Session.Extension<ReplicaSessionState>();
        state.RunId = runId;
        state.Link = manager.Master.Find(runId);
        ctx.Session.Kind = ClientKind.Replica;
        ctx.Writer.WriteArrayHeader(2);
        ctx.Writer.WriteBulk(ctx.Server.RunId);
        ctx.Writer.WriteBulk(string.Join(',', manager.Worker?.Upstream ?? []));
    }

    /// <summary>TALUS-CONTROL runid: this connection carries the replica's acknowledgements; its close means the replica left.</summary>
    private static void Control(CommandContext ctx)
    {
        var manager = Manager(ctx);
        var runId = ctx.Args.GetString(1);
        if (manager.Master.Find(runId) is not { } link)
        {
            ctx.Writer.WriteError("ERR TALUS-CONTROL without MetaSync");
            return;
        }
        var state = ctx.Session.Extension<ReplicaSessionState>();
        state.RunId = runId;
        state.Link = link;
        ctx.Session.Kind = ClientKind.Replica;
        ctx.Session.Disconnected += _ => manager.Master.ReplicaGone(link);
        ctx.Writer.WriteOk();
    }

    /// <summary>The run id this connection proved in MetaSync/TALUS-CONTROL, if it matches the argument (rule 11).</summary>
    private static string? BoundRunId(CommandContext ctx, int index)
    {
        var state = ctx.Session.Extension<ReplicaSessionState>();
        var claimed = ctx.Args.GetString(index);
        if (state.RunId is null || state.RunId != claimed)
        {
            ctx.Writer.WriteError("ERR this connection has not completed MetaSync for that replica");
            return null;
        }
        return claimed;
    }

    /// <summary>TALUS-TRYSYNC runid replid offset → +CONTINUE replid from (then the stream) or +FULLRESYNC replid reason.</summary>
    private static void TrySync(CommandContext ctx)
    {
        if (BoundRunId(ctx, 1) is not { } runId)
        {
            return;
        }
        if (!ulong.TryParse(ctx.Args[3], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            ctx.Writer.WriteError("ERR TrySync: invalid offset");
            return;
        }
        var master = Manager(ctx).Master;
        var decision = master.TrySync(runId, ctx.Args.GetString(2), offset);
        if (!decision.Continue)
        {
            ctx.Writer.WriteSimpleString($"FULLRESYNC {decision.ReplId} {decision.Reason}");
            return;
        }
        ctx.Writer.WriteSimpleString($"CONTINUE {decision.ReplId} {decision.From.ToString(CultureInfo.InvariantCulture)}");
        var writer = ctx.Writer;
        var pipe = (PipeWriter)writer.Output;
        var closed = ctx.Session.Closed;
        ctx.Deferred = async () =>
        {
            await StreamAsync(master, runId, decision.From, writer, pipe, closed).ConfigureAwait(false);
            // The stream ended while the connection is open: this node stopped being a master, the link was
            // replaced by a new handshake, or the binlog cannot go on. Close the connection, as Redis
            // disconnects its replicas, so the replica sees it at once instead of an idle link that still
            // counts as up, and comes back to sync again.
            ctx.Session.CloseRequested = true;
        };
    }

    private static Task StreamAsync(MasterSyncService master, string runId, ulong from, RespWriter writer, PipeWriter pipe, CancellationToken closed) =>
        master.StreamAsync(runId, from,
            async chunk =>
            {
                writer.WriteArrayHeader(4);
                writer.WriteBulk("TALUS-BINLOG"u8);
                writer.WriteBulk(chunk.First.ToString(CultureInfo.InvariantCulture));
                writer.WriteBulk(chunk.Next.ToString(CultureInfo.InvariantCulture));
                writer.WriteBulk(chunk.Data);
                await pipe.FlushAsync(closed).ConfigureAwait(false);
            },
            async masterOffset =>
            {
                writer.WriteArrayHeader(2);
                writer.WriteBulk("TALUS-PING"u8);
                writer.WriteBulk(masterOffset.ToString(CultureInfo.InvariantCulture));
                await pipe.FlushAsync(closed).ConfigureAwait(false);
            },
            closed);

    /// <summary>TALUS-DBSYNC BEGIN|MANIFEST|FILE|END runid ...</summary>
    private static void DbSync(CommandContext ctx)
    {
        if (BoundRunId(ctx, 2) is not { } runId)
        {
            return;
        }
        var master = Manager(ctx).Master;
        var sub = ctx.Args.GetString(1).ToUpperInvariant();
        switch (sub)
        {
            case "BEGIN" when ctx.Argc == 3:
                var status = master.DbSyncBegin(runId);
                if (status.Error is not null)
                {
                    ctx.Writer.WriteError(status.Error);
                }
                else if (status.QueuePosition > 0)
                {
                    ctx.Writer.WriteSimpleString("QUEUED " + status.QueuePosition.ToString(CultureInfo.InvariantCulture));
                }
                else if (status.Making)
                {
                    ctx.Writer.WriteSimpleString("MAKING");
                }
                else
                {
                    ctx.Writer.WriteSimpleString("READY " + status.SnapshotId);
                }
                break;
            case "MANIFEST" when ctx.Argc == 4:
                if (master.HeldSnapshot(runId, ctx.Args.GetString(3)) is not { } snapshot)
                {
                    ctx.Writer.WriteError("ERR no such snapshot for this replica");
                    return;
                }
                ctx.Writer.WriteBulk(Encoding.UTF8.GetBytes(snapshot.Manifest.Serialize()));
                break;
            case "FILE" when ctx.Argc == 6:
                if (!ctx.Args.TryGetLong(5, out var offset))
                {
                    ctx.Writer.WriteError("ERR invalid offset");
                    return;
                }
                var id = ctx.Args.GetString(3);
                var name = ctx.Args.GetString(4);
                var chunkSize = (int)Math.Clamp(ctx.Server.Options.FullSyncChunkSize, 4096, 64 * 1024 * 1024);
                var closed = ctx.Session.Closed;
                ctx.Deferred = async () =>
                {
                    var data = await master.ReadChunkAsync(runId, id, name, offset, chunkSize, closed).ConfigureAwait(false);
                    if (data is null)
                    {
                        // Rule 11: only files named in the manifest of the snapshot this session holds.
                        ctx.Writer.WriteError("ERR no such file in this replica's snapshot");
                    }
                    else
                    {
                        ctx.Writer.WriteBulk(data);
                    }
                };
                break;
            case "END" when ctx.Argc == 4:
                master.DbSyncEnd(runId);
                ctx.Writer.WriteOk();
                break;
            default:
                ctx.Writer.WriteError("ERR unknown TALUS-DBSYNC subcommand or wrong number of arguments");
                break;
        }
    }

    /// <summary>TALUS-ACK runid offset: the replica applied everything up to offset. No reply (like REPLCONF ACK).</summary>
    private static void Ack(CommandContext ctx)
    {
        var state = ctx.Session.Extension<ReplicaSessionState>();
        if (state.RunId is null || state.RunId != ctx.Args.GetString(1))
        {
            return;
        }
        if (ulong.TryParse(ctx.Args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            Manager(ctx).Master.Ack(state.RunId, offset);
        }
    }

    /// <summary>DEBUG BINLOG offset [count]: the binlog entries from offset, one readable line each.</summary>
    private static void Debug(CommandContext ctx)
    {
        if (ctx.Args.Is(1, "BINLOG") && ctx.Argc is 3 or 4)
        {
            if (!ulong.TryParse(ctx.Args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var from) || from == 0)
            {
                ctx.Writer.WriteError("ERR offset must be a positive integer");
                return;
            }
            var count = 100L;
            if (ctx.Argc == 4 && (!ctx.Args.TryGetLong(3, out count) || count <= 0))
            {
                ctx.Writer.WriteError("ERR count must be a positive integer");
                return;
            }
            var engine = ctx.Server.Dataset.Engine;
            if (!BinlogTail.Holds(engine, from))
            {
                ctx.Writer.WriteError($"ERR offset {from} is not in the binlog (latest {engine.LatestSequence})");
                return;
            }
            var lines = BinlogDump.Dump(engine, from, (int)Math.Min(count, 100_000));
            ctx.Writer.WriteArrayHeader(lines.Count);
            foreach (var line in lines)
            {
                ctx.Writer.WriteBulk(line);
            }
            return;
        }
        if (ctx.Args.Is(1, "DIGEST") && ctx.Argc is 2 or 3)
        {
            // DEBUG DIGEST [db]: order-independent fingerprint of one database or (XOR) of all.
            var dataset = ctx.Server.Dataset;
            var digest = new byte[16];
            if (ctx.Argc == 3)
            {
                if (!ctx.Args.TryGetLong(2, out var index) || index < 0 || index >= dataset.DatabaseCount)
                {
                    ctx.Writer.WriteError(Errors.InvalidDbIndex);
                    return;
                }
                digest = dataset[(int)index].Keys.Digest();
            }
            else
            {
                for (var i = 0; i < dataset.DatabaseCount; i++)
                {
                    var d = dataset[i].Keys.Digest();
                    for (var b = 0; b < 16; b++)
                    {
                        digest[b] ^= d[b];
                    }
                }
            }
            ctx.Writer.WriteSimpleString(Convert.ToHexStringLower(digest));
            return;
        }
        ctx.Writer.WriteError($"ERR unknown subcommand '{ctx.Args.GetString(1)}'. Try DEBUG HELP.");
    }
}
