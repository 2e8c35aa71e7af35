using System.Buffers.Binary;

namespace Talus.Storage.Util;

/// <summary>
/// MurmurHash2, 64-bit version (Austin Appleby's MurmurHash64A), reading 8-byte blocks little-endian as
/// Redis' endian-neutral copy does. HyperLogLog hashes elements with it, so its output is part of the
/// on-disk and on-wire meaning of an HLL value.
/// </summary>
public static class MurmurHash64A
{
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed)
    {
        const ulong m = 0xc6a4a7935bd1e995;
        const int r = 47;
        unchecked
        {
            var h = seed ^ ((ulong)data.Length * m);
            var blocks = data.Length / 8;
            for (var i = 0; i < blocks; i++)
            {
                var k = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 8, 8));
                k *= m;
                k ^= k >> r;
                k *= m;
                h ^= k;
                h *= m;
            }
            var tail = data[(blocks * 8)..];
            if (tail.Length > 0)
            {
                for (var i = tail.Length - 1; i >= 0; i--)
                {
                    h ^= (ulong)tail[i] << (8 * i);
                }
                h *= m;
            }
            h ^= h >> r;
            h *= m;
            h ^= h >> r;
            return h;
        }
    }
}
