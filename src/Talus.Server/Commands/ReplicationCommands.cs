using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Talus.Replication;
using Talus.Replication.Binlog;
using Talus.Replication.Master;
using Talus.Replication.Replica;
using Talus.Server.Host;

namespace Talus.Server.Commands;

/// <summary>
/// Replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, REPLCONF, DEBUG BINLOG, and the internal verbs a
/// Talus replica speaks to its master over the client port (TALUS-IDENTITY, TALUS-METASYNC, TALUS-CONTROL,
/// TALUS-TRYSYNC, TALUS-DBSYNC, TALUS-ACK); see docs/replication.md for the handshake.
/// </summary>
public static partial class ReplicationCommands
{
    private static ReplicationManager Manager(CommandContext ctx) =>
        ctx.Server.ReplicationManager ?? throw new InvalidOperationException("replication is not running");

    private static void ReplicaOf(CommandContext ctx)
    {
        var manager = Manager(ctx);
        if (ctx.Args.Is(1, "NO") && ctx.Args.Is(2, "ONE"))
        {
            ctx.Deferred = async () =>
            {
                await manager.PromoteAsync().ConfigureAwait(false);
                ctx.Server.Options.ReplicaOf = null;
                ctx.Writer.WriteOk();
            };
            return;
        }
        if (!ctx.Args.TryGetLong(2, out var port) || port is < 1 or > 65535)
        {
            ctx.Writer.WriteError("ERR Invalid master port");
            return;
        }
        var host = ctx.Args.GetString(1);
        if (manager.Worker is { } w && w.MasterHost == host && w.MasterPort == port)
        {
            ctx.Writer.WriteSimpleString("OK Already connected to specified master");
            return;
        }
        if (port == ctx.Server.Options.Port && IsLocalAddress(host, ctx.Server.Options.Bind))
        {
            ctx.Writer.WriteError("ERR Refused: a node cannot replicate from itself");
            return;
        }
        ctx.Deferred = async () =>
        {
            var refusal = await ProbeAsync(ctx, host, (int)port).ConfigureAwait(false);
            if (refusal is not null)
            {
                ctx.Writer.WriteError(refusal);
                return;
            }
            await manager.ReplicaOfAsync(host, (int)port).ConfigureAwait(false);
            ctx.Server.Options.ReplicaOf = $"{host} {port}";
            ctx.Writer.WriteOk();
        };
    }

    private static bool IsLocalAddress(string host, IEnumerable<string> binds)
    {
        if (host is "localhost" || binds.Contains(host))
        {
            return true;
        }
        return IPAddress.TryParse(host, out var ip) && (IPAddress.IsLoopback(ip) && binds.Any(b => IPAddress.TryParse(b, out var bi) && IPAddress.IsLoopback(bi)));
    }

    /// <summary>
    /// Asks the would-be master who it is: refuses when it is this node or replicates (directly or not) from
    /// this node. An unreachable master is accepted: the link retries with back-off.
    /// </summary>
    private static async Task<string?> ProbeAsync(CommandContext ctx, string host, int port)
    {
        try
        {
            await using var client = await MasterClient.ConnectAsync(host, port, TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
            client.Timeout = TimeSpan.FromSeconds(2);
            if (ctx.Server.Options.MasterAuth is { } pass)
            {
                await client.AuthAsync(ctx.Server.Options.MasterUser, pass, CancellationToken.None).ConfigureAwait(false);
            }
            if (await client.CallAsync(CancellationToken.None, "TALUS-IDENTITY").ConfigureAwait(false) is object?[] { Length: 2 } id
                && id[0] is byte[] runId && id[1] is byte[] upstream)
            {
                var mine = ctx.Server.RunId;
                if (Encoding.ASCII.GetString(runId) == mine)
                {
                    return "ERR Refused: a node cannot replicate from itself";
                }
                if (Encoding.ASCII.GetString(upstream).Split(',').Contains(mine))
                {
                    return $"ERR Refused: {host}:{port} replicates from this node; this would form a replication cycle";
                }
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ReplicationException or OperationCanceledException)
        {
            // unreachable now: the replica's link keeps trying
        }
        return null;
    }

    private static void Role(CommandContext ctx)
    {
        var manager = Manager(ctx);
        var w = ctx.Writer;
        var lineage = LineageStore.Read(ctx.Server.Dataset.Engine);
        if (manager.Worker is { } worker)
        {
            w.WriteArrayHeader(5);
            w.WriteBulk("slave");
            w.WriteBulk(worker.MasterHost);
            w.WriteInteger(worker.MasterPort);
            w.WriteBulk(worker.Machine.State switch
            {
                ReplState.Connect or ReplState.Error => "connect",
                ReplState.MetaSync or ReplState.TrySync => "handshake",
                ReplState.WaitDbSync or ReplState.DbSync or ReplState.DbSwap => "sync",
                ReplState.BinlogSync when manager.LinkUp => "connected",
                _ => "connecting",
            });
            w.WriteInteger(lineage.IsNone ? -1 : (long)lineage.Offset);
            return;
        }
        var links = manager.Master.Links;
        w.WriteArrayHeader(3);
        w.WriteBulk("master");
        w.WriteInteger((long)ctx.Server.Dataset.Engine.LatestSequence);
        w.WriteArrayHeader(links.Count);
        foreach (var l in links)
        {
            w.WriteArrayHeader(3);
            w.WriteBulk(l.Ip);
            w.WriteBulk(l.ListeningPort.ToString(CultureInfo.InvariantCulture));
            w.WriteBulk(l.AckOffset.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>WAIT numreplicas timeout: waits until that many replicas acknowledged every write made so far.</summary>
    private static void Wait(CommandContext ctx)
    {
        if (!ctx.TryGetLong(1, out var wanted) || !ctx.TryGetLong(2, out var timeout))
        {
            return;
        }
        if (timeout < 0)
        {
            ctx.Writer.WriteError("ERR timeout is negative");
            return;
        }
        var manager = Manager(ctx);
        if (manager.Role == ReplicationRole.Replica)
        {
            ctx.Writer.WriteError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        var target = ctx.Server.Dataset.Engine.LatestSequence;
        var acked = manager.Master.CountAcked(target);
        // Inside EXEC (DenyBlocking) WAIT answers at once with the current count, as in Redis.
        if (acked >= wanted || wanted <= 0 || ctx.Session.DenyBlocking)
        {
            ctx.Writer.WriteInteger(acked);
            return;
        }
        ctx.Deferred = async () =>
        {
            var deadline = timeout == 0 ? long.MaxValue : Environment.TickCount64 + timeout;
            while (acked < wanted && Environment.TickCount64 < deadline && !ctx.Session.Closed.IsCancellationRequested)
            {
                await Task.Delay(5).ConfigureAwait(false);
                acked = manager.Master.CountAcked(target);
            }
            ctx.Writer.WriteInteger(acked);
        };
    }

    private static void ReplConf(CommandContext ctx)
    {
        // Accepted for compatibility with Redis tooling; Talus replicas speak the TALUS-* verbs.
        if (ctx.Args.Is(1, "ACK") || ctx.Args.Is(1, "GETACK"))
        {
            return;
        }
        ctx.Writer.WriteOk();
    }

    private const CommandFlags Internal = CommandFlags.Internal | CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.SkipMonitor | CommandFlags.Stale | CommandFlags.Loading;

    public static readonly CommandDescriptor[] Table =
    [
        new("REPLICAOF", 3, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Stale, 0, 0, 0, ReplicaOf, "server"),
        new("SLAVEOF", 3, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Stale, 0, 0, 0, ReplicaOf, "server"),
        new("ROLE", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, 0, 0, 0, Role, "server"),
        new("WAIT", 3, CommandFlags.NoScript, 0, 0, 0, Wait, "generic"),
        new("REPLCONF", -1, Internal, 0, 0, 0, ReplConf, "server"),
        new("TALUS-IDENTITY", 1, Internal, 0, 0, 0, Identity, "server"),
        new("TALUS-METASYNC", -5, Internal, 0, 0, 0, MetaSync, "server"),
        new("TALUS-CONTROL", 2, Internal, 0, 0, 0, Control, "server"),
        new("TALUS-TRYSYNC", 4, Internal, 0, 0, 0, TrySync, "server"),
        new("TALUS-DBSYNC", -3, Internal, 0, 0, 0, DbSync, "server"),
        new("TALUS-ACK", 3, Internal, 0, 0, 0, Ack, "server"),
        new("DEBUG", -2, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, Debug, "server"),
    ];
}
