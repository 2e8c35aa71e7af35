namespace Talus.Storage.Types;

/// <summary>The operator of a BITOP.</summary>
public enum BitOperation
{
    And, // bitwise AND of every source; shorter sources count as zero-padded
    Or,  // bitwise OR of every source
    Xor, // bitwise XOR of every source
    Not, // bitwise NOT of the single source
}
