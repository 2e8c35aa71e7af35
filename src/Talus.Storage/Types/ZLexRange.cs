namespace Talus.Storage.Types;

/// <summary>A member interval (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX), meaningful when all scores are equal.</summary>
public readonly record struct ZLexRange(ZLexBound Min, ZLexBound Max)
{
    /// <summary>Redis' zslIsInLexRange shortcut: min above max, or equal bounds with one of them open.</summary>
    public bool IsEmpty
    {
        get
        {
            var cmp = ZLexBound.Compare(Min, Max);
            return cmp > 0 || (cmp == 0 && (Min.Exclusive || Max.Exclusive));
        }
    }

    public bool Contains(ReadOnlySpan<byte> member)
    {
        var low = Min.CompareMember(member);
        var high = Max.CompareMember(member);
        return (Min.Exclusive ? low > 0 : low >= 0) && (Max.Exclusive ? high < 0 : high <= 0);
    }
}
