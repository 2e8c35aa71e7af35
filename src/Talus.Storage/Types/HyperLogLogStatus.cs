namespace Talus.Storage.Types;

/// <summary>Outcome of a HyperLogLog command that can fail in the two ways Redis reports.</summary>
public enum HyperLogLogStatus
{
    Ok,             // done
    WrongType,      // a key holds a non-string type (the usual WRONGTYPE)
    NotHyperLogLog, // a string that is not a valid HLL ("WRONGTYPE Key is not a valid HyperLogLog string value.")
    Corrupted,      // a sparse HLL whose opcodes do not cover exactly 16384 registers (INVALIDOBJ)
}
