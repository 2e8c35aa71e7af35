using System.IO.Hashing;
using Talus.Storage.Encoding;

namespace Talus.Storage.Types;

/// <summary>
/// DEBUG DIGEST: an order-independent fingerprint of one database (XOR of one XxHash128 per live key over its
/// name, type, expiry and content). Content is read from storage as stored: the string payload, or every
/// sub-key suffix and value of the key's current version in <c>sub</c> and <c>zscore</c> (of a list, its live
/// elements only). Versions, which
/// differ between independently built datasets, are left out; list element positions are kept, so the
/// digest compares a master with its replicas (same batches, same positions). One pass, no locks.
/// </summary>
public sealed partial class Keyspace
{
    public byte[] Digest()
    {
        var total = new byte[16];
        var (lower, upper) = Range();
        var now = Database.NowMs;
        var engine = _db.Engine;
        using var it = engine.NewIterator(engine.Meta, lower, upper);
        var hash = new XxHash128();
        Span<byte> header = stackalloc byte[9];
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            if (!Metadata.TryDecode(it.GetValueSpan(), out var meta) || meta.IsExpired(now))
            {
                continue;
            }
            hash.Reset();
            var userKey = it.GetKeySpan()[1..];
            hash.Append(userKey);
            header[0] = (byte)meta.Type;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header[1..], meta.ExpireAtMs);
            hash.Append(header);
            if (meta.Type == RedisType.String)
            {
                hash.Append(it.GetValueSpan()[Metadata.HeaderSize..]);
            }
            else
            {
                var (prefix, ranges) = Content(userKey, meta);
                foreach (var (family, first, end) in ranges)
                {
                    using var sub = engine.NewIterator(family, first, end);
                    for (sub.Seek(first); sub.Valid(); sub.Next())
                    {
                        hash.Append(sub.GetKeySpan()[prefix.Length..]);
                        hash.Append(sub.GetValueSpan());
                    }
                }
            }
            var keyHash = hash.GetCurrentHash();
            for (var i = 0; i < 16; i++)
            {
                total[i] ^= keyHash[i];
            }
        }
        return total;
    }
}
