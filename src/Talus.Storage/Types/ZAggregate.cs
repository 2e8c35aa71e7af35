namespace Talus.Storage.Types;

/// <summary>How ZUNION/ZINTER combine the scores a member has in several inputs.</summary>
public enum ZAggregate
{
    Sum, // weighted scores added (+inf + -inf counts as 0)
    Min, // the smallest weighted score
    Max, // the largest weighted score
}
