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

    /// <summary>Decodes one WriteBatch representation into "offset op cf key [value]" lines.</summary>
    public static IEnumerable<string> Decode(byte[] rep)
    {
        if (rep.Length < 12)
        {
            yield break;
        }
        var seq = BitConverter.ToUInt64(rep, 0);
        var count = BitConverter.ToUInt32(rep, 8);
        var pos = 12;
        for (uint i = 0; i < count && pos < rep.Length; i++, seq++)
        {
            var tag = rep[pos++];
            var cf = 0u;
            if (tag is 4 or 5 or 14 or 7 or 8)
            {
                cf = ReadVarint(rep, ref pos);
            }
            var family = cf < FamilyNames.Length ? FamilyNames[cf] : $"cf{cf}";
            switch (tag)
            {
                case 0 or 4 or 7 or 8:
                    yield return $"{seq} del {family} {Show(ReadSlice(rep, ref pos))}";
                    break;
                case 1 or 5:
                    var key = ReadSlice(rep, ref pos);
                    var value = ReadSlice(rep, ref pos);
                    yield return $"{seq} put {family} {Show(key)} ({value.Length} bytes) {Show(value.AsSpan(0, Math.Min(value.Length, 64)).ToArray())}";
                    break;
                case 14 or 15:
                    var begin = ReadSlice(rep, ref pos);
                    var end = ReadSlice(rep, ref pos);
                    yield return $"{seq} delrange {family} {Show(begin)} .. {Show(end)}";
                    break;
                case 3:
                    ReadSlice(rep, ref pos);
                    i--;
                    seq--;
                    break;
                default:
                    yield return $"{seq} tag{tag} (not decoded)";
                    yield break;
            }
        }
    }

    private static uint ReadVarint(byte[] data, ref int pos)
    {
        uint result = 0;
        for (var shift = 0; shift < 35 && pos < data.Length; shift += 7)
        {
            var b = data[pos++];
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }
        return result;
    }

    private static byte[] ReadSlice(byte[] data, ref int pos)
    {
        var length = (int)ReadVarint(data, ref pos);
        length = Math.Min(length, data.Length - pos);
        var slice = data.AsSpan(pos, length).ToArray();
        pos += length;
        return slice;
    }

    /// <summary>Printable ASCII as is, everything else as \xHH (like redis-cli).</summary>
    private static string Show(byte[] bytes)
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
