using System.Globalization;

namespace Talus.Replication.Binlog;

/// <summary>
/// The lineage of a dataset: "this data equals the master's data after applying its binlog up to
/// <see cref="Offset"/> in history <see cref="ReplId"/>". The offset is a RocksDB sequence number of the
/// master's history. <see cref="None"/> means the dataset was never synced, was wiped, or is half-received.
/// </summary>
public readonly record struct Lineage(string ReplId, ulong Offset)
{
    public static readonly Lineage None = new("", 0);

    public bool IsNone => ReplId.Length == 0;

    public override string ToString() => IsNone ? "none" : $"{ReplId}:{Offset.ToString(CultureInfo.InvariantCulture)}";
}
