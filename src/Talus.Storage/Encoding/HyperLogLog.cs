using System.Buffers.Binary;
using Talus.Storage.Util;

namespace Talus.Storage.Encoding;

/// <summary>
/// Redis' HyperLogLog string format, byte for byte, so that GET/SET/DUMP of an HLL and the counts PFCOUNT
/// prints are the ones redis-server gives. An HLL is a plain string value:
/// <code>
/// | "HYLL" (4) | encoding (1): 0 dense, 1 sparse | unused (3, zero) | cached cardinality (8, LE) | registers |
/// </code>
/// The top bit of the cached cardinality's last byte means "stale, recount". There are 16384 registers
/// (the low 14 bits of MurmurHash64A(element, seed 0xadc83b19) pick one); a register holds the length of the
/// run of zero bits, plus one, in the remaining 50 bits.
/// <para>Dense: 16384 × 6 bits, each register's bits starting at its least significant bit (12288 bytes).</para>
/// <para>Sparse: a run-length code of opcodes that must cover exactly 16384 registers:
/// ZERO <c>00xxxxxx</c> (1..64 zero registers), XZERO <c>01xxxxxx yyyyyyyy</c> (1..16384 zero registers,
/// 14-bit length), VAL <c>1vvvvvxx</c> (1..4 registers of value 1..32). An HLL starts sparse (one XZERO) and
/// becomes dense when a register needs a value above 32 or the string would grow past 3000 bytes
/// (hll-sparse-max-bytes); it never goes back.</para>
/// The count is Otmar Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
/// sketches", arXiv:1702.01284) over the register histogram, as Redis 5+ computes it.
/// </summary>
public sealed partial class HyperLogLog
{
    public const int HeaderSize = 16;
    public const int RegisterCount = 1 << P;
    public const int DenseSize = HeaderSize + (RegisterCount * Bits + 7) / 8;

    /// <summary>Redis' hll-sparse-max-bytes default: the largest sparse string, header included.</summary>
    public const int SparseMaxBytes = 3000;

    /// <summary>Encoding byte values (on disk, as in Redis).</summary>
    public const byte Dense = 0;
    public const byte Sparse = 1;

    private const int P = 14;
    private const int Q = 64 - P;
    private const int Bits = 6;
    private const int RegisterMax = (1 << Bits) - 1;
    private const ulong Seed = 0xadc83b19;
    private const int SparseValMaxValue = 32;
    private const int SparseValMaxLength = 4;
    private const int SparseZeroMaxLength = 64;
    private const double AlphaInf = 0.721347520444481703680; // 0.5 / ln(2)

    private byte[] _bytes;
    private int _length;

    private HyperLogLog(byte[] bytes, int length)
    {
        _bytes = bytes;
        _length = length;
    }

    public bool IsDense => _bytes[4] == Dense;

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, _length);

    /// <summary>An empty HLL as PFADD creates it: sparse, one XZERO covering every register.</summary>
    public static HyperLogLog CreateEmpty()
    {
        var bytes = new byte[HeaderSize + 2];
        "HYLL"u8.CopyTo(bytes);
        bytes[4] = Sparse;
        SetXZero(bytes, HeaderSize, RegisterCount);
        return new HyperLogLog(bytes, bytes.Length);
    }

    /// <summary>A mutable copy of a stored value that passed <see cref="IsValid"/>.</summary>
    public static HyperLogLog From(ReadOnlySpan<byte> value)
    {
        var bytes = new byte[Math.Max(value.Length + 4, HeaderSize + 4)];
        value.CopyTo(bytes);
        return new HyperLogLog(bytes, value.Length);
    }

    /// <summary>Redis' isHLLObjectOrReply: magic, a known encoding, and the exact size when dense.</summary>
    public static bool IsValid(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize && value.StartsWith("HYLL"u8) && value[4] <= Sparse
        && (value[4] != Dense || value.Length == DenseSize);

    /// <summary>Adds an element: 1 when a register grew, 0 when not, -1 when the sparse code is corrupt.</summary>
    public int Add(ReadOnlySpan<byte> element)
    {
        var count = PatternLength(element, out var index);
        return IsDense ? DenseSet(_bytes.AsSpan(HeaderSize, DenseSize - HeaderSize), index, count) : SparseSet(index, count);
    }

    /// <summary>Raises register <paramref name="index"/> to at least <paramref name="count"/> in either encoding (PFMERGE).</summary>
    public int SetRegister(int index, int count) =>
        IsDense ? DenseSet(_bytes.AsSpan(HeaderSize, DenseSize - HeaderSize), index, count) : SparseSet(index, count);

    public void InvalidateCache() => _bytes[15] |= 0x80;

    /// <summary>The cached cardinality, when it is not stale.</summary>
    public static bool TryGetCached(ReadOnlySpan<byte> value, out long count)
    {
        count = (long)BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
        return (value[15] & 0x80) == 0;
    }

    public void SetCached(long count) => BinaryPrimitives.WriteUInt64LittleEndian(_bytes.AsSpan(8), (ulong)count);

    /// <summary>The estimate of this HLL; false when the sparse code is corrupt.</summary>
    public static bool TryCount(ReadOnlySpan<byte> value, out long count)
    {
        Span<int> histogram = stackalloc int[64];
        histogram.Clear();
        count = 0;
        var registers = value[HeaderSize..];
        if (value[4] == Dense)
        {
            for (var i = 0; i < RegisterCount; i++)
            {
                histogram[GetDense(registers, i)]++;
            }
        }
        else if (!SparseHistogram(registers, histogram))
        {
            return false;
        }
        count = Estimate(histogram);
        return true;
    }

    /// <summary>The estimate of a register array with one byte per register (PFCOUNT of several keys).</summary>
    public static long CountRaw(ReadOnlySpan<byte> registers)
    {
        Span<int> histogram = stackalloc int[64];
        histogram.Clear();
        foreach (var r in registers)
        {
            histogram[r & 63]++;
        }
        return Estimate(histogram);
    }

    /// <summary>max[i] = MAX(max[i], register i) over a valid HLL value; false when its sparse code is corrupt.</summary>
    public static bool MergeInto(ReadOnlySpan<byte> value, Span<byte> max)
    {
        var registers = value[HeaderSize..];
        if (value[4] == Dense)
        {
            for (var i = 0; i < RegisterCount; i++)
            {
                var v = (byte)GetDense(registers, i);
                if (v > max[i])
                {
                    max[i] = v;
                }
            }
            return true;
        }
        var index = 0;
        for (var p = 0; p < registers.Length;)
        {
            var op = registers[p];
            if (IsZero(op))
            {
                index += (op & 0x3f) + 1;
                p++;
            }
            else if (IsXZero(op))
            {
                index += XZeroLength(registers, p);
                p += 2;
            }
            else
            {
                int runLength = ValLength(op), value2 = ValValue(op);
                if (runLength + index > RegisterCount)
                {
                    break;
                }
                for (; runLength > 0; runLength--, index++)
                {
                    if (value2 > max[index])
                    {
                        max[index] = (byte)value2;
                    }
                }
                p++;
            }
        }
        return index == RegisterCount;
    }

    /// <summary>Converts to dense in place (PFMERGE with a dense input, or a promotion); false when corrupt.</summary>
    public bool ToDense()
    {
        if (IsDense)
        {
            return true;
        }
        var dense = new byte[DenseSize + 1];
        _bytes.AsSpan(0, HeaderSize).CopyTo(dense); // magic and cached cardinality carry over
        dense[4] = Dense;
        var registers = dense.AsSpan(HeaderSize, DenseSize - HeaderSize);
        var index = 0;
        var sparse = _bytes.AsSpan(HeaderSize, _length - HeaderSize);
        for (var p = 0; p < sparse.Length;)
        {
            var op = sparse[p];
            if (IsZero(op))
            {
                index += (op & 0x3f) + 1;
                p++;
            }
            else if (IsXZero(op))
            {
                index += XZeroLength(sparse, p);
                p += 2;
            }
            else
            {
                int runLength = ValLength(op), value = ValValue(op);
                if (runLength + index > RegisterCount)
                {
                    break;
                }
                for (; runLength > 0; runLength--, index++)
                {
                    SetDense(registers, index, value);
                }
                p++;
            }
        }
        if (index != RegisterCount)
        {
            return false;
        }
        _bytes = dense;
        _length = DenseSize;
        return true;
    }

    /// <summary>Hashes an element into its register index and its zero-run length plus one (1..51).</summary>
    private static int PatternLength(ReadOnlySpan<byte> element, out int index)
    {
        var hash = MurmurHash64A.Hash(element, Seed);
        index = (int)(hash & (RegisterCount - 1));
        hash >>= P;
        hash |= 1UL << Q; // bounds the run: count <= Q + 1
        var count = 1;
        for (var bit = 1UL; (hash & bit) == 0; bit <<= 1)
        {
            count++;
        }
        return count;
    }

    private static long Estimate(ReadOnlySpan<int> histogram)
    {
        const double m = RegisterCount;
        var z = m * Tau((m - histogram[Q + 1]) / m);
        for (var j = Q; j >= 1; j--)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(AlphaInf * m * m / z, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1)
        {
            return double.PositiveInfinity;
        }
        double zPrime, y = 1, z = x;
        do
        {
            x *= x;
            zPrime = z;
            z += x * y;
            y += y;
        }
        while (zPrime != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0 || x == 1)
        {
            return 0;
        }
        double zPrime, y = 1.0, z = 1 - x;
        do
        {
            x = Math.Sqrt(x);
            zPrime = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (zPrime != z);
        return z / 3;
    }

    private static bool SparseHistogram(ReadOnlySpan<byte> sparse, Span<int> histogram)
    {
        var index = 0;
        for (var p = 0; p < sparse.Length;)
        {
            var op = sparse[p];
            if (IsZero(op))
            {
                var run = (op & 0x3f) + 1;
                index += run;
                histogram[0] += run;
                p++;
            }
            else if (IsXZero(op))
            {
                var run = XZeroLength(sparse, p);
                index += run;
                histogram[0] += run;
                p += 2;
            }
            else
            {
                var run = ValLength(op);
                index += run;
                histogram[ValValue(op)] += run;
                p++;
            }
        }
        return index == RegisterCount;
    }

    // Register bits start at the least significant bit of byte (index*6)/8. The last register's
    // second byte lies past the array (Redis reads the string's NUL terminator there): it reads as 0
    // and is never written, since a 6-bit value shifted by 6 or more leaves nothing for it.
    private static int GetDense(ReadOnlySpan<byte> registers, int index)
    {
        var b = index * Bits / 8;
        var fb = index * Bits & 7;
        int b0 = registers[b];
        int b1 = b + 1 < registers.Length ? registers[b + 1] : 0;
        return ((b0 >> fb) | (b1 << (8 - fb))) & RegisterMax;
    }

    private static void SetDense(Span<byte> registers, int index, int value)
    {
        var b = index * Bits / 8;
        var fb = index * Bits & 7;
        var fb8 = 8 - fb;
        registers[b] = (byte)((registers[b] & ~(RegisterMax << fb)) | (value << fb));
        if (b + 1 < registers.Length)
        {
            registers[b + 1] = (byte)((registers[b + 1] & ~(RegisterMax >> fb8)) | (value >> fb8));
        }
    }

    private static int DenseSet(Span<byte> registers, int index, int count)
    {
        if (count <= GetDense(registers, index))
        {
            return 0;
        }
        SetDense(registers, index, count);
        return 1;
    }

    private static bool IsZero(byte op) => (op & 0xc0) == 0;

    private static bool IsXZero(byte op) => (op & 0xc0) == 0x40;

    private static bool IsVal(byte op) => (op & 0x80) != 0;

    private static int ValValue(byte op) => ((op >> 2) & 0x1f) + 1;

    private static int ValLength(byte op) => (op & 0x3) + 1;

    /// <summary>XZERO's 14-bit run length; a truncated opcode reads its missing byte as 0, as Redis reads the NUL terminator.</summary>
    private static int XZeroLength(ReadOnlySpan<byte> code, int p) =>
        (((code[p] & 0x3f) << 8) | (p + 1 < code.Length ? code[p + 1] : 0)) + 1;

    private static byte Val(int value, int length) => (byte)(((value - 1) << 2) | (length - 1) | 0x80);

    private static void SetXZero(Span<byte> bytes, int p, int length)
    {
        var l = length - 1;
        bytes[p] = (byte)((l >> 8) | 0x40);
        bytes[p + 1] = (byte)(l & 0xff);
    }
}
