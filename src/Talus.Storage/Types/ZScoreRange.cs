namespace Talus.Storage.Types;

/// <summary>A score interval (ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE); "(" makes a bound exclusive.</summary>
public readonly record struct ZScoreRange(double Min, bool MinExclusive, double Max, bool MaxExclusive)
{
    /// <summary>Redis' zslIsInRange shortcut: min above max, or equal bounds with one of them open.</summary>
    public bool IsEmpty => Min > Max || (Min == Max && (MinExclusive || MaxExclusive));

    public bool Contains(double score) =>
        (MinExclusive ? score > Min : score >= Min) && (MaxExclusive ? score < Max : score <= Max);
}
