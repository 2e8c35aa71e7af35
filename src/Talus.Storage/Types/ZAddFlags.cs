namespace Talus.Storage.Types;

/// <summary>ZADD's conditions (CH only changes the reply, so it is not here).</summary>
[Flags]
public enum ZAddFlags
{
    None = 0,
    IfMissing = 1 << 0,   // NX: only add new members
    IfExists = 1 << 1,    // XX: only update existing members
    GreaterThan = 1 << 2, // GT: update only when the new score is greater
    LessThan = 1 << 3,    // LT: update only when the new score is less
    Increment = 1 << 4,   // INCR: add the score to the current one (a single pair)
}
