namespace Talus.Storage.Types;

/// <summary>
/// One end of a lexicographic range: "-" (below every member), "+" (above every member), or a member
/// given as "[member" (inclusive) or "(member" (exclusive).
/// </summary>
public readonly record struct ZLexBound(byte[] Value, bool Exclusive, int Infinity)
{
    public static readonly ZLexBound Minus = new([], true, -1);

    public static readonly ZLexBound Plus = new([], true, 1);

    public static ZLexBound Inclusive(byte[] value) => new(value, false, 0);

    public static ZLexBound ExclusiveOf(byte[] value) => new(value, true, 0);

    /// <summary>Redis' sdscmplex: the sentinels compare below/above everything, equal only to themselves.</summary>
    public static int Compare(ZLexBound a, ZLexBound b)
    {
        if (a.Infinity != 0 || b.Infinity != 0)
        {
            return a.Infinity == b.Infinity ? 0 : a.Infinity < b.Infinity ? -1 : 1;
        }
        return a.Value.AsSpan().SequenceCompareTo(b.Value);
    }

    /// <summary>Compares a member with this bound (negative: member sorts before it).</summary>
    public int CompareMember(ReadOnlySpan<byte> member) =>
        Infinity != 0 ? -Infinity : member.SequenceCompareTo(Value);
}
