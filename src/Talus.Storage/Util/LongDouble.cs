using System.Globalization;
using System.Numerics;
using System.Text;

namespace Talus.Storage.Util;

/// <summary>
/// The x87 80-bit "long double" Redis computes HINCRBYFLOAT and INCRBYFLOAT in, emulated exactly with
/// BigInteger so results match Redis digit for digit. Redis parses with strtold (64-bit significand,
/// 15-bit exponent, correctly rounded), adds in long double, and prints with "%.17Lf" before trimming
/// trailing zeros; in double arithmetic 0.1 + 0.2 would print as 0.30000000000000004 where Redis says 0.3,
/// and 1e400 would not even parse.
/// A finite value is sign × significand × 2^exponent with the significand below 2^64; normal values keep
/// it in [2^63, 2^64), subnormals sit at the minimum exponent.
/// </summary>
public readonly struct LongDouble
{
    private const int SignificandBits = 64;
    private const int MinExponent = -16445; // 2^-16445 is the smallest subnormal
    private const int MaxExponent = 16320;  // (2^64 - 1) × 2^16320 is the largest finite value
    private const int MaxInputLength = 5 * 1024; // Redis' MAX_LONG_DOUBLE_CHARS buffer for string2ld
    private const int Decimals = 17;         // Redis' LD_STR_HUMAN prints "%.17Lf"

    private static readonly BigInteger DecimalScale = BigInteger.Pow(10, Decimals);

    private readonly BigInteger _significand;
    private readonly int _exponent;
    private readonly bool _negative;
    private readonly FloatKind _kind;

    private LongDouble(FloatKind kind, bool negative, BigInteger significand, int exponent)
    {
        _kind = kind;
        _negative = negative;
        _significand = significand;
        _exponent = exponent;
    }

    private enum FloatKind
    {
        Finite,   // sign × significand × 2^exponent
        Infinity, // ±inf
        NaN,      // not a number
    }

    public static LongDouble Zero => new(FloatKind.Finite, false, BigInteger.Zero, 0);

    public bool IsFinite => _kind == FloatKind.Finite;

    public bool IsNaN => _kind == FloatKind.NaN;

    public static LongDouble FromLong(long value) =>
        Round(value < 0, BigInteger.Abs(new BigInteger(value)), 0, false);

    /// <summary>
    /// Parses as Redis' string2ld: strtold syntax (decimal, hex with p exponent, inf, infinity), no leading
    /// space, nothing left over, and rejects NaN, overflow to infinity and underflow to zero.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = Zero;
        if (s.Length == 0 || s.Length >= MaxInputLength)
        {
            return false;
        }
        var negative = false;
        var i = 0;
        if (s[0] is (byte)'+' or (byte)'-')
        {
            negative = s[0] == (byte)'-';
            i = 1;
        }
        var rest = s[i..];
        if (EqualsIgnoreCase(rest, "inf"u8) || EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new LongDouble(FloatKind.Infinity, negative, BigInteger.Zero, 0);
            return true;
        }
        // strtold reports overflow as HUGE_VAL and total underflow as zero, both with ERANGE: string2ld
        // refuses them; the parsers return false for both.
        return rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x'
            ? TryParseHex(rest[2..], negative, out value)
            : TryParseDecimal(rest, negative, out value);
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> s, bool negative, out LongDouble value)
    {
        value = Zero;
        var digits = new StringBuilder();
        var exponent = 0L;
        var i = 0;
        var seenDigit = false;
        for (; i < s.Length && char.IsAsciiDigit((char)s[i]); i++)
        {
            digits.Append((char)s[i]);
            seenDigit = true;
        }
        if (i < s.Length && s[i] == (byte)'.')
        {
            for (i++; i < s.Length && char.IsAsciiDigit((char)s[i]); i++)
            {
                digits.Append((char)s[i]);
                exponent--;
                seenDigit = true;
            }
        }
        if (!seenDigit)
        {
            return false;
        }
        if (i < s.Length && (s[i] | 0x20) == (byte)'e')
        {
            if (!TryParseExponent(s[(i + 1)..], out var e))
            {
                return false;
            }
            exponent += e;
            i = s.Length;
        }
        if (i != s.Length)
        {
            return false;
        }
        var text = digits.ToString().TrimStart('0');
        if (text.Length == 0)
        {
            value = new LongDouble(FloatKind.Finite, negative, BigInteger.Zero, 0);
            return true;
        }
        var magnitude = exponent + text.Length; // the value lies in [10^(magnitude-1), 10^magnitude)
        if (magnitude > 4934 || magnitude < -4952)
        {
            return false; // far beyond the largest finite value, or below half the smallest subnormal
        }
        var mantissa = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        value = exponent >= 0
            ? Round(negative, mantissa * BigInteger.Pow(10, (int)exponent), 0, false)
            : Divide(negative, mantissa, BigInteger.Pow(10, (int)-exponent));
        return value.IsFinite && !value._significand.IsZero;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> s, bool negative, out LongDouble value)
    {
        value = Zero;
        var mantissa = BigInteger.Zero;
        var exponent = 0L;
        var i = 0;
        var seenDigit = false;
        for (; i < s.Length && char.IsAsciiHexDigit((char)s[i]); i++)
        {
            mantissa = (mantissa << 4) + HexValue(s[i]);
            seenDigit = true;
        }
        if (i < s.Length && s[i] == (byte)'.')
        {
            for (i++; i < s.Length && char.IsAsciiHexDigit((char)s[i]); i++)
            {
                mantissa = (mantissa << 4) + HexValue(s[i]);
                exponent -= 4;
                seenDigit = true;
            }
        }
        if (!seenDigit)
        {
            return false; // strtold reads just the "0" of "0x": the rest is left over
        }
        if (i < s.Length && (s[i] | 0x20) == (byte)'p')
        {
            if (!TryParseExponent(s[(i + 1)..], out var e))
            {
                return false;
            }
            exponent += e;
            i = s.Length;
        }
        if (i != s.Length)
        {
            return false;
        }
        if (mantissa.IsZero)
        {
            value = new LongDouble(FloatKind.Finite, negative, BigInteger.Zero, 0);
            return true;
        }
        var top = exponent + (long)mantissa.GetBitLength(); // the value lies in [2^(top-1), 2^top)
        if (top > MaxExponent + SignificandBits + 1 || top < MinExponent - 2)
        {
            return false;
        }
        value = Round(negative, mantissa, (int)exponent, false);
        return value.IsFinite && !value._significand.IsZero;
    }

    /// <summary>A decimal exponent after 'e' or 'p': optional sign and at least one digit; saturates far beyond any range.</summary>
    private static bool TryParseExponent(ReadOnlySpan<byte> s, out long exponent)
    {
        exponent = 0;
        var negative = false;
        var i = 0;
        if (i < s.Length && s[i] is (byte)'+' or (byte)'-')
        {
            negative = s[i] == (byte)'-';
            i++;
        }
        if (i == s.Length)
        {
            return false;
        }
        for (; i < s.Length; i++)
        {
            if (!char.IsAsciiDigit((char)s[i]))
            {
                return false;
            }
            exponent = Math.Min(exponent * 10 + (s[i] - '0'), 1_000_000);
        }
        if (negative)
        {
            exponent = -exponent;
        }
        return true;
    }

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static bool EqualsIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> lower)
    {
        if (s.Length != lower.Length)
        {
            return false;
        }
        for (var i = 0; i < s.Length; i++)
        {
            if ((s[i] | 0x20) != lower[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>numerator / denominator, correctly rounded.</summary>
    private static LongDouble Divide(bool negative, BigInteger numerator, BigInteger denominator)
    {
        // Enough quotient bits that rounding needs only the remainder, as a sticky bit.
        var shift = (int)Math.Max(0, SignificandBits + 2 + denominator.GetBitLength() - numerator.GetBitLength());
        var quotient = BigInteger.DivRem(numerator << shift, denominator, out var remainder);
        return Round(negative, quotient, -shift, !remainder.IsZero);
    }

    /// <summary>
    /// (n + fraction) × 2^exponent rounded to nearest, ties to even, where <paramref name="sticky"/> says the
    /// discarded fraction below n is non-zero. Produces subnormals below the normal range and infinity above it.
    /// </summary>
    private static LongDouble Round(bool negative, BigInteger n, int exponent, bool sticky)
    {
        if (n.IsZero)
        {
            return new LongDouble(FloatKind.Finite, negative, BigInteger.Zero, 0);
        }
        var shift = (int)Math.Max(n.GetBitLength() - SignificandBits, (long)MinExponent - exponent);
        if (shift > 0)
        {
            var kept = n >> shift;
            var dropped = n - (kept << shift);
            var half = BigInteger.One << (shift - 1);
            var compare = dropped.CompareTo(half);
            if (compare > 0 || (compare == 0 && (sticky || !kept.IsEven)))
            {
                kept += 1;
                if (kept.GetBitLength() > SignificandBits)
                {
                    kept >>= 1;
                    shift++;
                }
            }
            n = kept;
            exponent += shift;
        }
        else if (shift < 0)
        {
            n <<= -shift;
            exponent += shift;
        }
        if (exponent > MaxExponent)
        {
            return new LongDouble(FloatKind.Infinity, negative, BigInteger.Zero, 0);
        }
        return new LongDouble(FloatKind.Finite, negative, n, n.IsZero ? 0 : exponent);
    }

    public static LongDouble operator +(LongDouble a, LongDouble b)
    {
        if (a.IsNaN || b.IsNaN)
        {
            return new LongDouble(FloatKind.NaN, false, BigInteger.Zero, 0);
        }
        if (a._kind == FloatKind.Infinity || b._kind == FloatKind.Infinity)
        {
            if (a._kind == FloatKind.Infinity && b._kind == FloatKind.Infinity && a._negative != b._negative)
            {
                return new LongDouble(FloatKind.NaN, false, BigInteger.Zero, 0);
            }
            return a._kind == FloatKind.Infinity ? a : b;
        }
        if (a._significand.IsZero && b._significand.IsZero)
        {
            return new LongDouble(FloatKind.Finite, a._negative && b._negative, BigInteger.Zero, 0);
        }
        var exponent = Math.Min(a._exponent, b._exponent);
        var x = a._significand << (a._exponent - exponent);
        var y = b._significand << (b._exponent - exponent);
        var sum = (a._negative ? -x : x) + (b._negative ? -y : y);
        // In round-to-nearest, x + (-x) is +0.
        return Round(sum.Sign < 0, BigInteger.Abs(sum), exponent, false);
    }

    /// <summary>Redis' ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros and a bare point removed, "-0" as "0".</summary>
    public override string ToString()
    {
        if (_kind == FloatKind.NaN)
        {
            return "nan";
        }
        if (_kind == FloatKind.Infinity)
        {
            return _negative ? "-inf" : "inf";
        }
        string text;
        if (_exponent >= 0)
        {
            text = (_significand << _exponent).ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var denominator = BigInteger.One << -_exponent;
            var scaled = BigInteger.DivRem(_significand * DecimalScale, denominator, out var remainder);
            var compare = (remainder << 1).CompareTo(denominator);
            if (compare > 0 || (compare == 0 && !scaled.IsEven))
            {
                scaled += 1; // glibc's printf rounds to nearest, ties to even
            }
            var integer = BigInteger.DivRem(scaled, DecimalScale, out var fraction);
            text = (integer.ToString(CultureInfo.InvariantCulture) + "." + fraction.ToString("D17", CultureInfo.InvariantCulture)).TrimEnd('0').TrimEnd('.');
        }
        return _negative && text != "0" ? "-" + text : text;
    }
}
