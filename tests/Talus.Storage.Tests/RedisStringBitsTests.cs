using Talus.Storage.Encoding;
using Talus.Storage.Types;

namespace Talus.Storage.Tests;

public class RedisStringBitsTests
{
    [Fact]
    public void SetBit_grows_with_zero_bytes_and_returns_the_previous_bit()
    {
        using var f = new StorageFixture();
        Assert.Equal(OpStatus.Ok, f.Db.Strings.SetBit("k"u8, 17, true, out var previous));
        Assert.Equal(0, previous);
        f.Db.Strings.Get("k"u8, out var value);
        Assert.Equal(new byte[] { 0, 0, 0b0100_0000 }, value.ToArray());
        Assert.Equal(OpStatus.Ok, f.Db.Strings.SetBit("k"u8, 17, false, out previous));
        Assert.Equal(1, previous);
        f.Db.Strings.Get("k"u8, out value);
        Assert.Equal(new byte[3], value.ToArray());
    }

    [Fact]
    public void SetBit_keeps_the_expiry_and_writes_nothing_when_the_bit_is_unchanged()
    {
        using var f = new StorageFixture();
        var expireAt = Database.NowMs + 60_000;
        f.Db.Strings.Set("k"u8, new byte[] { 0x80 }, expireAt);
        var before = f.Dataset.Engine.LatestSequence;
        Assert.Equal(OpStatus.Ok, f.Db.Strings.SetBit("k"u8, 0, true, out var previous));
        Assert.Equal(1, previous);
        Assert.Equal(before, f.Dataset.Engine.LatestSequence);
        Assert.Equal(OpStatus.Ok, f.Db.Strings.SetBit("k"u8, 9, true, out _));
        Assert.Equal(KeyLookup.Found, f.Db.Lookup("k"u8, RedisType.String, out var meta, out _));
        Assert.Equal(expireAt, meta.ExpireAtMs);
    }

    [Fact]
    public void Bit_commands_refuse_a_key_of_another_type()
    {
        using var f = new StorageFixture();
        using (var batch = new RocksDbSharp.WriteBatch())
        {
            batch.Put(f.Db.MetaKey("h"u8), Metadata.NewCollection(RedisType.Hash, 1).ToArray(), f.Dataset.Engine.Meta);
            f.Dataset.Engine.Write(batch);
        }
        Assert.Equal(OpStatus.WrongType, f.Db.Strings.SetBit("h"u8, 1, true, out _));
        Assert.Equal(KeyLookup.WrongType, f.Db.Strings.GetBit("h"u8, 1, out _));
        f.Db.Strings.Set("s"u8, "abc"u8);
        var before = f.Dataset.Engine.LatestSequence;
        Assert.Equal(OpStatus.WrongType, f.Db.Strings.BitOp(BitOperation.Or, "d"u8.ToArray(), ["s"u8.ToArray(), "h"u8.ToArray()], out _));
        Assert.Equal(before, f.Dataset.Engine.LatestSequence);
    }

    [Fact]
    public void BitOp_pads_short_sources_and_deletes_the_destination_on_an_empty_result()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set("a"u8, new byte[] { 0xF0, 0x0F, 0xFF });
        f.Db.Strings.Set("b"u8, new byte[] { 0xFF });
        Assert.Equal(OpStatus.Ok, f.Db.Strings.BitOp(BitOperation.And, "d"u8.ToArray(), ["a"u8.ToArray(), "b"u8.ToArray()], out var length));
        Assert.Equal(3, length);
        f.Db.Strings.Get("d"u8, out var value);
        Assert.Equal(new byte[] { 0xF0, 0, 0 }, value.ToArray());
        f.Db.Strings.BitOp(BitOperation.Not, "d"u8.ToArray(), ["a"u8.ToArray()], out _);
        f.Db.Strings.Get("d"u8, out value);
        Assert.Equal(new byte[] { 0x0F, 0xF0, 0x00 }, value.ToArray());
        f.Db.Strings.Set("d"u8, "x"u8, Database.NowMs + 60_000);
        Assert.Equal(OpStatus.Ok, f.Db.Strings.BitOp(BitOperation.Xor, "d"u8.ToArray(), ["missing1"u8.ToArray(), "missing2"u8.ToArray()], out length));
        Assert.Equal(0, length);
        Assert.False(f.Db.Keys.Exists("d"u8));
    }

    [Fact]
    public void BitOp_result_has_no_expiry_even_when_the_destination_had_one()
    {
        using var f = new StorageFixture();
        f.Db.Strings.Set("d"u8, "old"u8, Database.NowMs + 60_000);
        f.Db.Strings.Set("a"u8, "new"u8);
        f.Db.Strings.BitOp(BitOperation.Or, "d"u8.ToArray(), ["a"u8.ToArray(), "d"u8.ToArray()], out _);
        Assert.Equal(KeyLookup.Found, f.Db.Lookup("d"u8, RedisType.String, out var meta, out _));
        Assert.False(meta.HasExpiry);
    }

    [Fact]
    public void Combine_matches_a_byte_by_byte_reference()
    {
        var random = new Random(1234);
        for (var round = 0; round < 300; round++)
        {
            var count = random.Next(1, 5);
            var values = Enumerable.Range(0, count).Select(_ => RandomBytes(random, random.Next(0, 70))).ToList();
            if (values.All(v => v.Length == 0))
            {
                continue;
            }
            foreach (var op in new[] { BitOperation.And, BitOperation.Or, BitOperation.Xor })
            {
                Assert.Equal(ReferenceCombine(op, values), RedisString.Combine(op, values));
            }
            Assert.Equal(ReferenceCombine(BitOperation.Not, values.Take(1).ToList()), RedisString.Combine(BitOperation.Not, values.Take(1).ToList()));
        }
    }

    [Fact]
    public void CountBits_and_FindBit_match_a_bit_by_bit_reference()
    {
        var random = new Random(4321);
        for (var round = 0; round < 3000; round++)
        {
            var value = RandomBytes(random, random.Next(0, 40), dense: random.Next(3));
            var bitUnits = random.Next(2) == 0;
            var span = bitUnits ? value.Length * 8 + 20 : value.Length + 4;
            long start = random.Next(-span, span), end = random.Next(-span, span);
            var message = $"seed 4321 round {round}: value={Convert.ToHexString(value)} start={start} end={end} bit={bitUnits}";
            Assert.True(ReferenceCount(value, start, end, bitUnits) == RedisString.CountBits(value, start, end, bitUnits), message);
            foreach (var bit in new[] { 0, 1 })
            {
                Assert.True(ReferenceFind(value, bit, start, end, bitUnits) == RedisString.FindBit(value, bit, start, end, bitUnits), message + $" find {bit}");
                if (!bitUnits)
                {
                    Assert.True(ReferenceFind(value, bit, start, null, false) == RedisString.FindBit(value, bit, start, null, false), message + $" find {bit} open end");
                }
            }
        }
        Assert.Equal(16, RedisString.FindBit([0xFF, 0xFF], 0, null, null, false));
        Assert.Equal(-1, RedisString.FindBit([0xFF, 0xFF], 0, 0, 1, false));
        Assert.Equal(-1, RedisString.FindBit([], 0, null, null, false));
    }

    private static byte[] RandomBytes(Random random, int length, int dense = 1)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        for (var i = 0; i < bytes.Length; i++)
        {
            // Mix in runs of all-zero and all-one bytes, which the search skips in bulk.
            bytes[i] = dense switch { 0 => bytes[i] < 200 ? (byte)0 : bytes[i], 2 => bytes[i] < 200 ? (byte)0xFF : bytes[i], _ => bytes[i] };
        }
        return bytes;
    }

    private static byte[] ReferenceCombine(BitOperation op, List<byte[]> values)
    {
        var length = values.Max(v => v.Length);
        var result = new byte[length];
        for (var j = 0; j < length; j++)
        {
            int Byte(byte[] v) => j < v.Length ? v[j] : 0;
            var output = Byte(values[0]);
            if (op == BitOperation.Not)
            {
                output = ~output;
            }
            foreach (var v in values.Skip(1))
            {
                output = op switch { BitOperation.And => output & Byte(v), BitOperation.Or => output | Byte(v), _ => output ^ Byte(v) };
            }
            result[j] = (byte)output;
        }
        return result;
    }

    private static (long Start, long End) ReferenceRange(long total, long start, long end)
    {
        start = start < 0 ? Math.Max(0, total + start) : start;
        end = end < 0 ? Math.Max(0, total + end) : end;
        return (start, Math.Min(end, total - 1));
    }

    private static int BitAt(byte[] value, long bit) => (value[bit / 8] >> (int)(7 - (bit % 8))) & 1;

    private static long ReferenceCount(byte[] value, long start, long end, bool bitUnits)
    {
        var (s, e) = ReferenceRange(bitUnits ? value.Length * 8L : value.Length, start, end);
        if (!bitUnits)
        {
            (s, e) = (s * 8, e * 8 + 7);
        }
        long count = 0;
        for (var b = s; b <= e; b++)
        {
            count += BitAt(value, b);
        }
        return count;
    }

    private static long ReferenceFind(byte[] value, int bit, long start, long? end, bool bitUnits)
    {
        var (s, e) = ReferenceRange(bitUnits ? value.Length * 8L : value.Length, start, end ?? -1);
        if (s > e)
        {
            return -1;
        }
        if (!bitUnits)
        {
            (s, e) = (s * 8, e * 8 + 7);
        }
        for (var b = s; b <= e; b++)
        {
            if (BitAt(value, b) == bit)
            {
                return b;
            }
        }
        return bit == 0 && end is null ? e + 1 : -1;
    }
}
