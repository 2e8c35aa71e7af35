using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Talus.Replication.Binlog;

namespace Talus.Replication.DbSync;

/// <summary>One file of a snapshot: its name inside the snapshot directory, its size and its XxHash128.</summary>
public sealed record SnapshotFile(string Name, long Size, string Checksum);

/// <summary>
/// What a full sync transfers and how the replica proves it received it (rule 3). Text, one item per line:
/// <code>
/// talus-snapshot 1
/// id 20261125-131500-123-7
/// lineage 3f2a...(40 hex) 123456
/// file 000012.sst 1048576 9c1b...(32 hex)
/// file CURRENT 16 77aa...
/// end
/// </code>
/// The lineage is read from the snapshot itself (its sys/repl-id and its sequence number), never from the
/// live dataset, so the two cannot disagree (rule 1). The final "end" line makes a truncated manifest invalid.
/// </summary>
public sealed class SnapshotManifest
{
    public const int FormatVersion = 1;

    public required string SnapshotId { get; init; }

    public required Lineage Lineage { get; init; }

    public required IReadOnlyList<SnapshotFile> Files { get; init; }

    public long TotalBytes => Files.Sum(f => f.Size);

    public string Serialize()
    {
        var sb = new StringBuilder();
        sb.Append("talus-snapshot ").Append(FormatVersion).Append('\n');
        sb.Append("id ").Append(SnapshotId).Append('\n');
        sb.Append("lineage ").Append(Lineage.ReplId).Append(' ').Append(Lineage.Offset.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var f in Files)
        {
            sb.Append("file ").Append(f.Name).Append(' ').Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(f.Checksum).Append('\n');
        }
        sb.Append("end\n");
        return sb.ToString();
    }

    /// <summary>Parses a manifest; throws <see cref="InvalidDataException"/> on anything malformed or unsafe.</summary>
    public static SnapshotManifest Parse(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 4 || lines[0] != $"talus-snapshot {FormatVersion}" || lines[^1] != "end")
        {
            throw new InvalidDataException("manifest header or end marker missing (unsupported or truncated)");
        }
        string? id = null;
        Lineage? lineage = null;
        var files = new List<SnapshotFile>();
        foreach (var line in lines[1..^1])
        {
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "id" when parts.Length == 2:
                    id = parts[1];
                    break;
                case "lineage" when parts.Length == 3 && ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var offset):
                    lineage = new Lineage(parts[1], offset);
                    break;
                case "file" when parts.Length == 4 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size):
                    if (!IsSafeName(parts[1]))
                    {
                        throw new InvalidDataException($"unsafe file name in manifest: '{parts[1]}'");
                    }
                    files.Add(new SnapshotFile(parts[1], size, parts[3]));
                    break;
                default:
                    throw new InvalidDataException($"malformed manifest line: '{line}'");
            }
        }
        if (id is null || lineage is null || lineage.Value.IsNone || files.Count == 0)
        {
            throw new InvalidDataException("manifest lacks id, lineage or files");
        }
        return new SnapshotManifest { SnapshotId = id, Lineage = lineage.Value, Files = files };
    }

    /// <summary>Rule 11: a plain file name, no separators, no "..", nothing hidden.</summary>
    public static bool IsSafeName(string name) =>
        name.Length is > 0 and < 256
        && name.IndexOfAny(['/', '\\', '\0']) < 0
        && name != "." && name != ".."
        && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>XxHash128 of a file, as 32 lower-case hex characters.</summary>
    public static string ChecksumOf(string path)
    {
        var hash = new XxHash128();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        hash.Append(stream);
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}
