namespace Talus.Storage.Types;

/// <summary>
/// A ZRANGE-family query: by rank (<see cref="Start"/>..<see cref="Stop"/>), by score or by member, forward
/// or reversed, with LIMIT's offset and count for score and lex queries (a negative count means all).
/// </summary>
public sealed record ZRangeQuery
{
    public ZRangeKind Kind { get; init; }

    public long Start { get; init; }

    public long Stop { get; init; }

    public ZScoreRange Scores { get; init; }

    public ZLexRange Lex { get; init; }

    public bool Reverse { get; init; }

    public long Offset { get; init; }

    public long Limit { get; init; } = -1;
}
