namespace Talus.Storage.Types;

/// <summary>The multi-key set operations (SINTER, SUNION, SDIFF and their STORE forms).</summary>
public enum SetOperation
{
    Inter, // members of every set; a missing key makes it empty
    Union, // members of any set
    Diff,  // members of the first set that are in none of the others
}
