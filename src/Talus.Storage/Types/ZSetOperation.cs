namespace Talus.Storage.Types;

/// <summary>The set algebra of ZUNION, ZINTER and ZDIFF (and their STORE forms).</summary>
public enum ZSetOperation
{
    Union, // members of any input
    Inter, // members of every input
    Diff,  // members of the first input that no other input has
}
