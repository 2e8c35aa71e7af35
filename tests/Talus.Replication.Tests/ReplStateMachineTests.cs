using Microsoft.Extensions.Logging;
using Talus.Replication.Replica;

namespace Talus.Replication.Tests;

/// <summary>
/// The replica's transition table, edge by edge. The expected table is written out from
/// docs/replication.md ("The replica state machine"), not read from the code under test.
/// </summary>
public class ReplStateMachineTests
{
    private static readonly ReplState[] All = Enum.GetValues<ReplState>();

    /// <summary>The table of docs/replication.md, without the "any → None" and "any but None, Error → Error" rows.</summary>
    private static readonly (ReplState From, ReplState To)[] Documented =
    [
        (ReplState.None, ReplState.Connect),
        (ReplState.Connect, ReplState.MetaSync),
        (ReplState.MetaSync, ReplState.TrySync),
        (ReplState.TrySync, ReplState.BinlogSync),
        (ReplState.TrySync, ReplState.WaitDbSync),
        (ReplState.WaitDbSync, ReplState.DbSync),
        (ReplState.DbSync, ReplState.DbSwap),
        (ReplState.DbSwap, ReplState.TrySync),
        (ReplState.Error, ReplState.Connect),
    ];

    /// <summary>A legal path from None to each state, written out from the same table.</summary>
    private static readonly Dictionary<ReplState, ReplState[]> PathTo = new()
    {
        [ReplState.None] = [],
        [ReplState.Connect] = [ReplState.Connect],
        [ReplState.MetaSync] = [ReplState.Connect, ReplState.MetaSync],
        [ReplState.TrySync] = [ReplState.Connect, ReplState.MetaSync, ReplState.TrySync],
        [ReplState.WaitDbSync] = [ReplState.Connect, ReplState.MetaSync, ReplState.TrySync, ReplState.WaitDbSync],
        [ReplState.DbSync] = [ReplState.Connect, ReplState.MetaSync, ReplState.TrySync, ReplState.WaitDbSync, ReplState.DbSync],
        [ReplState.DbSwap] = [ReplState.Connect, ReplState.MetaSync, ReplState.TrySync, ReplState.WaitDbSync, ReplState.DbSync, ReplState.DbSwap],
        [ReplState.BinlogSync] = [ReplState.Connect, ReplState.MetaSync, ReplState.TrySync, ReplState.BinlogSync],
        [ReplState.Error] = [ReplState.Connect, ReplState.Error],
    };

    private static bool ExpectedLegal(ReplState from, ReplState to) =>
        Documented.Contains((from, to))
        || to == ReplState.None
        || (to == ReplState.Error && from is not ReplState.None and not ReplState.Error);

    public static TheoryData<ReplState, ReplState> EveryPair()
    {
        var data = new TheoryData<ReplState, ReplState>();
        foreach (var from in All)
        {
            foreach (var to in All)
            {
                data.Add(from, to);
            }
        }
        return data;
    }

    public static TheoryData<ReplState, ReplState> TableEdges()
    {
        var data = new TheoryData<ReplState, ReplState>();
        foreach (var (from, targets) in ReplStateMachine.Table)
        {
            foreach (var to in targets)
            {
                data.Add(from, to);
            }
        }
        return data;
    }

    private static (ReplStateMachine Machine, List<(ReplState From, ReplState To, string Reason)> Changes, RecordingLogger Log) MachineIn(ReplState state)
    {
        var log = new RecordingLogger();
        var machine = new ReplStateMachine(log);
        Assert.Equal(ReplState.None, machine.State);
        foreach (var step in PathTo[state])
        {
            machine.MoveTo(step, "setting up");
        }
        Assert.Equal(state, machine.State);
        var changes = new List<(ReplState, ReplState, string)>();
        machine.Changed += (from, to, reason) => changes.Add((from, to, reason));
        return (machine, changes, log);
    }

    [Fact]
    public void The_table_is_exactly_the_documented_one()
    {
        Assert.Equal(All.ToHashSet(), ReplStateMachine.Table.Keys.ToHashSet());
        var inCode = ReplStateMachine.Table.SelectMany(e => e.Value.Select(to => (e.Key, to))).ToHashSet();
        Assert.Equal(Documented.ToHashSet(), inCode);
    }

    [Theory]
    [MemberData(nameof(TableEdges))]
    public void Every_edge_of_the_table_succeeds_and_raises_Changed(ReplState from, ReplState to)
    {
        var (machine, changes, log) = MachineIn(from);
        var linesBefore = log.Lines.Count;

        machine.MoveTo(to, "edge under test");

        Assert.Equal(to, machine.State);
        Assert.Equal([(from, to, "edge under test")], changes);
        // One log line per transition, naming both states and the reason.
        Assert.Equal(linesBefore + 1, log.Lines.Count);
        Assert.Equal($"Replication state {from} -> {to}: edge under test", log.Lines[^1].Text);
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Every_pair_is_legal_exactly_when_documented(ReplState from, ReplState to)
    {
        var (machine, changes, _) = MachineIn(from);
        Assert.Equal(ExpectedLegal(from, to), ReplStateMachine.IsLegal(from, to));
        if (ExpectedLegal(from, to))
        {
            machine.MoveTo(to, "legal");
            Assert.Equal(to, machine.State);
            Assert.Equal([(from, to, "legal")], changes);
        }
        else
        {
            var ex = Assert.Throws<InvalidOperationException>(() => machine.MoveTo(to, "illegal"));
            Assert.Contains($"{from} -> {to}", ex.Message, StringComparison.Ordinal);
            Assert.Equal(from, machine.State);
            Assert.Empty(changes);
        }
    }

    [Theory]
    [InlineData(ReplState.Connect)]
    [InlineData(ReplState.MetaSync)]
    [InlineData(ReplState.TrySync)]
    [InlineData(ReplState.WaitDbSync)]
    [InlineData(ReplState.DbSync)]
    [InlineData(ReplState.DbSwap)]
    [InlineData(ReplState.BinlogSync)]
    public void Error_is_reachable_from_every_working_state_and_keeps_its_reason(ReplState from)
    {
        var (machine, changes, log) = MachineIn(from);

        machine.MoveTo(ReplState.Error, "master went away");

        Assert.Equal(ReplState.Error, machine.State);
        Assert.Equal("master went away", machine.LastError);
        Assert.Equal([(from, ReplState.Error, "master went away")], changes);
        Assert.Equal(LogLevel.Warning, log.Lines[^1].Level);
        // From Error the only way on is Connect (after the back-off), or stopping.
        machine.MoveTo(ReplState.Connect, "retry");
        Assert.Equal(ReplState.Connect, machine.State);
        Assert.Equal("master went away", machine.LastError);
    }

    [Theory]
    [InlineData(ReplState.None)]
    [InlineData(ReplState.Error)]
    public void Error_is_not_reachable_from_None_or_Error(ReplState from)
    {
        var (machine, changes, _) = MachineIn(from);
        Assert.Throws<InvalidOperationException>(() => machine.MoveTo(ReplState.Error, "again"));
        Assert.Equal(from, machine.State);
        Assert.Empty(changes);
    }

    [Theory]
    [MemberData(nameof(AllStates))]
    public void None_is_reachable_from_every_state(ReplState from)
    {
        var (machine, changes, _) = MachineIn(from);
        machine.MoveTo(ReplState.None, "REPLICAOF NO ONE");
        Assert.Equal(ReplState.None, machine.State);
        Assert.Equal([(from, ReplState.None, "REPLICAOF NO ONE")], changes);
        // and a stopped machine can start again
        machine.MoveTo(ReplState.Connect, "REPLICAOF host port");
        Assert.Equal(ReplState.Connect, machine.State);
    }

    public static TheoryData<ReplState> AllStates() => new(All);

    [Fact]
    public void Since_moves_with_each_transition()
    {
        var (machine, _, _) = MachineIn(ReplState.Connect);
        var before = machine.Since;
        SpinWait.SpinUntil(() => Environment.TickCount64 > before);
        machine.MoveTo(ReplState.MetaSync, "connected");
        Assert.True(machine.Since > before);
    }
}
