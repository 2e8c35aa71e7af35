namespace Talus.Storage.Types;

/// <summary>What a ZRANGE-style query's bounds mean.</summary>
public enum ZRangeKind
{
    Rank,  // 0-based positions, negative counting from the end
    Score, // a ZScoreRange
    Lex,   // a ZLexRange
}
