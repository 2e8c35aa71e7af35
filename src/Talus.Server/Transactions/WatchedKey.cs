namespace Talus.Server.Transactions;

/// <summary>
/// One key a client watches. <see cref="ExpireAtMs"/> is the key's expiry when it was live at WATCH time
/// (0 when it had none or did not exist): once that time passes EXEC fails, as in Redis, where a watched key
/// that expires counts as modified. <see cref="Stamp"/> orders registrations (see <see cref="WatchRegistry.TouchSince"/>).
/// </summary>
public sealed record WatchedKey(int Db, byte[] Key, long ExpireAtMs, long Stamp);
