namespace Talus.Storage.Types;

/// <summary>
/// One ZSCAN step. <see cref="Compact"/> is true when the whole (small) set came back in one page, as Redis
/// does for a listpack-encoded set, whose scores it prints in listpack form (integers without exponent).
/// </summary>
public readonly record struct ZScanPage(long Cursor, List<ZEntry> Items, bool Compact);
