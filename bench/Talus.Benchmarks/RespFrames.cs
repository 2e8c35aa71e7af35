using System.Text;

namespace Talus.Benchmarks;

/// <summary>Request bytes shaped like redis-benchmark's: keys <c>key:000000012345</c>, 3-byte values.</summary>
public static class RespFrames
{
    /// <summary>The key redis-benchmark sends for random number <paramref name="n"/> (-r 1000000).</summary>
    public static string Key(int n) => "key:" + n.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Command(params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args)
        {
            sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary><paramref name="count"/> commands back to back, as one pipelined read delivers them.</summary>
    public static byte[] Pipeline(int count, Func<int, byte[]> command) =>
        Enumerable.Range(0, count).SelectMany(command).ToArray();

    public static byte[] Gets(int count, int firstKey = 0) => Pipeline(count, i => Command("GET", Key(firstKey + i)));

    public static byte[] Sets(int count, int firstKey = 0) => Pipeline(count, i => Command("SET", Key(firstKey + i), "xxx"));
}
