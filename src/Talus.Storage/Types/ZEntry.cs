namespace Talus.Storage.Types;

/// <summary>One sorted-set element: its member bytes and its score.</summary>
public readonly record struct ZEntry(byte[] Member, double Score)
{
    /// <summary>Redis' sorted-set order: by score, ties by member bytes (memcmp, shorter first).</summary>
    public static int Compare(ZEntry a, ZEntry b)
    {
        if (a.Score < b.Score)
        {
            return -1;
        }
        if (a.Score > b.Score)
        {
            return 1;
        }
        return a.Member.AsSpan().SequenceCompareTo(b.Member);
    }
}
