using System.Buffers.Binary;
using System.Text;
using Talus.Storage.Engine;

namespace Talus.Replication.Binlog;

/// <summary>
/// A readable dump of binlog entries from an offset (DEBUG BINLOG). It decodes RocksDB's WriteBatch
/// representation, which is also the wire format of a binlog chunk:
/// <code>
/// | sequence (8, LE) | count (4, LE) | record | record | ...
/// record: tag (1) [column family id (varint32) for tags 4,5,14] key (varint32 length + bytes) [value (varint32 length + bytes)]
/// tags: 0 delete, 1 put, 4 delete in CF, 5 put in CF, 14 range delete in CF, 15 range delete, 3 log data
/// (the "|" boundary marker that ends every batch, see WriteBatchFormat)
/// </code>
/// Column family ids: 0 default, then meta, sub, zscore, sys in creation order (1..4).
/// </summary>
public static class BinlogDump
{
    private static readonly string[] FamilyNames = ["default", "meta", "sub", "zscore", "sys"];

    /// <summary>Up to <paramref name="maxEntries"/> entries starting at <paramref name="from"/>, one line each.</summary>
    public static List<string> Dump(StorageEngine engine, ulong from, int maxEntries)
    {
        var lines = new List<string>();
        using var tail = new BinlogTail(engine, from);
        while (lines.Count < maxEntries && tail.TryRead() is { } chunk)
        {
            foreach (var line in Decode(chunk.Data))
            {
                if (lines.Count >= maxEntries)
                {
                    break;
                }
                lines.Add(line);
            }
        }
        return lines;
    }

    /// <summary>Decodes one WriteBatch representation into "offset op cf key [value]" lines (log data, such as the boundary markers, is skipped).</summary>
    public static List<string> Decode(ReadOnlySpan<byte> rep)
    {
        var lines = new List<string>();
        if (rep.Length < WriteBatchFormat.HeaderSize)
        {
            return lines;
        }
        var seq = BinaryPrimitives.ReadUInt64LittleEndian(rep);
        var pos = WriteBatchFormat.HeaderSize;
        while (pos < rep.Length)
        {
            var tag = rep[pos++];
            var cf = WriteBatchFormat.HasFamilyId(tag) ? WriteBatchFormat.ReadVarint(rep, ref pos) : 0u;
            var family = cf < FamilyNames.Length ? FamilyNames[cf] : $"cf{cf}";
            switch (tag)
            {
                case 0 or 4 or 7 or 8:
                    lines.Add($"{seq++} del {family} {Show(WriteBatchFormat.ReadSlice(rep, ref pos))}");
                    break;
                case 1 or 5:
                    var key = WriteBatchFormat.ReadSlice(rep, ref pos);
                    var value = WriteBatchFormat.ReadSlice(rep, ref pos);
                    lines.Add($"{seq++} put {family} {Show(key)} ({value.Length} bytes) {Show(value[..Math.Min(value.Length, 64)])}");
                    break;
                case 14 or 15:
                    var begin = WriteBatchFormat.ReadSlice(rep, ref pos);
                    var end = WriteBatchFormat.ReadSlice(rep, ref pos);
                    lines.Add($"{seq++} delrange {family} {Show(begin)} .. {Show(end)}");
                    break;
                case WriteBatchFormat.LogDataTag:
                    WriteBatchFormat.ReadSlice(rep, ref pos);
                    break;
                default:
                    lines.Add($"{seq} tag{tag} (not decoded)");
                    return lines;
            }
        }
        return lines;
    }

    /// <summary>Printable ASCII as is, everything else as \xHH (like redis-cli).</summary>
    private static string Show(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder("\"");
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7F && b != (byte)'"' && b != (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.Append('"').ToString();
    }
}
