namespace Talus.Storage.Util;

/// <summary>
/// Positions to pick from a collection that can only be walked in order: HRANDFIELD, SRANDMEMBER and SPOP
/// draw positions first, sort them, then take the elements in one pass of an iterator.
/// </summary>
internal static class RandomIndices
{
    /// <summary><paramref name="k"/> distinct positions in [0, <paramref name="n"/>), ascending (Floyd's algorithm: k draws, no retries).</summary>
    public static long[] Distinct(long n, long k)
    {
        var chosen = new HashSet<long>();
        for (var j = n - k; j < n; j++)
        {
            var t = Random.Shared.NextInt64(j + 1);
            chosen.Add(chosen.Contains(t) ? j : t);
        }
        var result = chosen.ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary><paramref name="k"/> independent uniform positions in [0, <paramref name="n"/>), ascending (repeats allowed).</summary>
    public static long[] WithRepetition(long n, long k)
    {
        var result = new long[k];
        for (var i = 0; i < k; i++)
        {
            result[i] = Random.Shared.NextInt64(n);
        }
        Array.Sort(result);
        return result;
    }

    public static void Shuffle<T>(List<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Random.Shared.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
