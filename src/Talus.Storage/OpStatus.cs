namespace Talus.Storage;

/// <summary>Outcome of a storage operation that can fail for a reason the client must be told about.</summary>
public enum OpStatus
{
    Ok,            // done
    NotFound,      // no such key (or field, or member)
    WrongType,     // the key holds another type (WRONGTYPE)
    NotInteger,    // the stored value or the argument is not an integer
    NotFloat,      // the stored value or the argument is not a valid float
    Overflow,      // the result would not fit the type (increment or decrement would overflow)
    NaNOrInfinity, // the result would be NaN or infinite
    TooLarge,      // the result would exceed proto-max-bulk-len / 512 MB
    NotPerformed,  // a condition (NX, XX, GT, LT) prevented the write
}
