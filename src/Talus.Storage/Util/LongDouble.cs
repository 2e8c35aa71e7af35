using System.Globalization;
using System.Numerics;
using System.Text;

namespace Talus.Storage.Util;

/// <summary>
/// The x87 80-bit extended-precision number that is C's <c>long double</c> on x86-64 Linux, emulated exactly
/// (64-bit significand, 15-bit exponent, subnormals, round to nearest even). Redis does INCRBYFLOAT and
/// HINCRBYFLOAT in long double: it parses both operands with strtold, adds them, and prints the sum with
/// "%.17Lf" minus trailing zeros. Doing the same in <c>double</c> gives other digits (0.1 + 0.2 is "0.3" in
/// Redis but 0.30000000000000004 in double) and other limits (1e400 is a valid long double), so this type
/// reproduces each of those three steps bit for bit. Speed is not a goal: it works on BigIntegers.
/// </summary>
public readonly struct LongDouble
{
    private const int SignificandBits = 64;
    private const int MaxExponent = 16383;   // largest unbiased exponent of a normal number
    private const int MinExponent = -16382;  // smallest unbiased exponent of a normal number
    private const int MaxInputLength = 5 * 1024; // Redis' MAX_LONG_DOUBLE_CHARS

    // value = (-1)^negative * _significand * 2^_exponent, with _significand < 2^64; or ±infinity.
    private readonly BigInteger _significand;
    private readonly int _exponent;
    private readonly bool _negative;
    private readonly bool _infinite;

    private LongDouble(bool negative, BigInteger significand, int exponent, bool infinite)
    {
        _negative = negative;
        _significand = significand;
        _exponent = exponent;
        _infinite = infinite;
    }

    public bool IsInfinity => _infinite;

    public bool IsZero => !_infinite && _significand.IsZero;

    /// <summary>
    /// Parses as Redis' string2ld: the whole text must be one strtold number (decimal or
    /// hexadecimal, optional exponent, "inf"/"infinity"), must not start with a space, and must not be NaN, nor
    /// overflow to infinity, nor be a non-zero number that underflows to zero.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = default;
        // strtold stops at a NUL byte, and Redis then refuses the number because it did not reach the end.
        if (text.Length == 0 || text.Contains((byte)0) || text.Length >= MaxInputLength || IsCSpace(text[0]))
        {
            return false;
        }
        var negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            text = text[1..];
        }
        if (EqualsIgnoreCase(text, "inf") || EqualsIgnoreCase(text, "infinity"))
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, infinite: true);
            return true;
        }
        var parsed = text.Length > 2 && text[0] == (byte)'0' && (text[1] | 0x20) == (byte)'x'
            ? TryParseHex(text[2..], negative, out value)
            : TryParseDecimal(text, negative, out value);
        // strtold reports ERANGE for overflow (Redis refuses ±HUGE_VAL) and for a non-zero input that rounds to 0.
        return parsed && !value._infinite;
    }

    /// <summary>The sum, rounded once to long double. False when it is NaN or infinite (Redis' error case).</summary>
    public static bool TryAdd(LongDouble a, LongDouble b, out LongDouble sum)
    {
        sum = default;
        if (a._infinite || b._infinite)
        {
            return false;
        }
        if (a.IsZero && b.IsZero)
        {
            sum = new LongDouble(a._negative && b._negative, BigInteger.Zero, 0, false);
            return true;
        }
        var low = Math.Min(a._exponent, b._exponent);
        var left = (a._significand << (a._exponent - low)) * (a._negative ? -1 : 1);
        var right = (b._significand << (b._exponent - low)) * (b._negative ? -1 : 1);
        var total = left + right;
        if (total.IsZero)
        {
            sum = new LongDouble(false, BigInteger.Zero, 0, false); // x + (-x) is +0 when rounding to nearest
            return true;
        }
        sum = low >= 0
            ? Round(total.Sign < 0, BigInteger.Abs(total) << low, BigInteger.One)
            : Round(total.Sign < 0, BigInteger.Abs(total), BigInteger.One << -low);
        return !sum._infinite;
    }

    /// <summary>
    /// Formats as Redis' ld2string in LD_STR_HUMAN mode: printf("%.17Lf") (exact, ties to even), trailing zeros
    /// and a trailing point removed, and "-0" written as "0".
    /// </summary>
    public string ToHumanString()
    {
        if (_infinite)
        {
            return _negative ? "-inf" : "inf";
        }
        const int Decimals = 17;
        var scale = BigInteger.Pow(10, Decimals);
        BigInteger scaled;
        if (_exponent >= 0)
        {
            scaled = (_significand << _exponent) * scale;
        }
        else
        {
            var numerator = _significand * scale;
            var quotient = BigInteger.DivRem(numerator, BigInteger.One << -_exponent, out var remainder);
            var twice = remainder << 1;
            var denominator = BigInteger.One << -_exponent;
            if (twice > denominator || (twice == denominator && !quotient.IsEven))
            {
                quotient += 1;
            }
            scaled = quotient;
        }
        var integer = BigInteger.DivRem(scaled, scale, out var fraction);
        var text = new StringBuilder();
        if (_negative)
        {
            text.Append('-');
        }
        text.Append(integer.ToString(CultureInfo.InvariantCulture));
        var digits = fraction.ToString(CultureInfo.InvariantCulture).PadLeft(Decimals, '0').TrimEnd('0');
        if (digits.Length > 0)
        {
            text.Append('.').Append(digits);
        }
        var result = text.ToString();
        return result == "-0" ? "0" : result;
    }

    public override string ToString() => ToHumanString();

    private static bool TryParseDecimal(ReadOnlySpan<byte> text, bool negative, out LongDouble value)
    {
        value = default;
        var digits = new StringBuilder();
        var pos = 0;
        var fractionDigits = 0;
        var sawDigit = false;
        for (; pos < text.Length && IsDigit(text[pos]); pos++)
        {
            digits.Append((char)text[pos]);
            sawDigit = true;
        }
        if (pos < text.Length && text[pos] == (byte)'.')
        {
            for (pos++; pos < text.Length && IsDigit(text[pos]); pos++)
            {
                digits.Append((char)text[pos]);
                fractionDigits++;
                sawDigit = true;
            }
        }
        if (!sawDigit || !TryParseExponent(text[pos..], 'e', out var exponent))
        {
            return false;
        }
        var mantissa = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        if (mantissa.IsZero)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, false);
            return true;
        }
        var power = exponent - fractionDigits;
        // Outside these bounds the number overflows or rounds to zero whatever its digits: skip the huge powers.
        var magnitude = power + mantissa.ToString(CultureInfo.InvariantCulture).Length;
        if (magnitude > 4940)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, infinite: true);
            return true;
        }
        if (magnitude < -4960)
        {
            return false;
        }
        value = power >= 0
            ? Round(negative, mantissa * BigInteger.Pow(10, (int)power), BigInteger.One)
            : Round(negative, mantissa, BigInteger.Pow(10, (int)-power));
        return !value.IsZero;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> text, bool negative, out LongDouble value)
    {
        value = default;
        var mantissa = BigInteger.Zero;
        var pos = 0;
        var fractionDigits = 0;
        var sawDigit = false;
        for (; pos < text.Length && HexValue(text[pos]) >= 0; pos++)
        {
            mantissa = (mantissa << 4) + HexValue(text[pos]);
            sawDigit = true;
        }
        if (pos < text.Length && text[pos] == (byte)'.')
        {
            for (pos++; pos < text.Length && HexValue(text[pos]) >= 0; pos++)
            {
                mantissa = (mantissa << 4) + HexValue(text[pos]);
                fractionDigits++;
                sawDigit = true;
            }
        }
        if (!sawDigit || !TryParseExponent(text[pos..], 'p', out var exponent))
        {
            return false;
        }
        if (mantissa.IsZero)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, false);
            return true;
        }
        var power = exponent - 4L * fractionDigits;
        var magnitude = power + (long)mantissa.GetBitLength();
        if (magnitude > MaxExponent + 2)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, infinite: true);
            return true;
        }
        if (magnitude < MinExponent - SignificandBits - 2)
        {
            return false;
        }
        value = power >= 0
            ? Round(negative, mantissa << (int)power, BigInteger.One)
            : Round(negative, mantissa, BigInteger.One << (int)-power);
        return !value.IsZero;
    }

    /// <summary>An optional exponent that must end the text: e|p, optional sign, at least one digit (saturating).</summary>
    private static bool TryParseExponent(ReadOnlySpan<byte> text, char marker, out long exponent)
    {
        exponent = 0;
        if (text.Length == 0)
        {
            return true;
        }
        if ((text[0] | 0x20) != marker)
        {
            return false;
        }
        var pos = 1;
        var negative = false;
        if (pos < text.Length && text[pos] is (byte)'+' or (byte)'-')
        {
            negative = text[pos] == (byte)'-';
            pos++;
        }
        if (pos == text.Length)
        {
            return false;
        }
        for (; pos < text.Length; pos++)
        {
            if (!IsDigit(text[pos]))
            {
                return false;
            }
            exponent = Math.Min(exponent * 10 + (text[pos] - '0'), 1_000_000_000L);
        }
        if (negative)
        {
            exponent = -exponent;
        }
        return true;
    }

    /// <summary>Rounds the positive exact value <paramref name="numerator"/>/<paramref name="denominator"/> to long double.</summary>
    private static LongDouble Round(bool negative, BigInteger numerator, BigInteger denominator)
    {
        // e = floor(log2(n/d))
        var e = (int)(numerator.GetBitLength() - denominator.GetBitLength());
        var below = e >= 0 ? numerator < denominator << e : numerator << -e < denominator;
        if (below)
        {
            e--;
        }
        // The spacing of representable numbers around the value: 2^(e-63), but never finer than the subnormals'.
        var quantum = Math.Max(e, MinExponent) - (SignificandBits - 1);
        BigInteger n = numerator, d = denominator;
        if (quantum >= 0)
        {
            d <<= quantum;
        }
        else
        {
            n <<= -quantum;
        }
        var q = BigInteger.DivRem(n, d, out var remainder);
        var twice = remainder << 1;
        if (twice > d || (twice == d && !q.IsEven))
        {
            q += 1;
        }
        if (q.GetBitLength() > SignificandBits)
        {
            q >>= 1;
            quantum++;
        }
        if (quantum + SignificandBits - 1 > MaxExponent)
        {
            return new LongDouble(negative, BigInteger.Zero, 0, infinite: true);
        }
        return new LongDouble(negative, q, quantum, false);
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool IsCSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool EqualsIgnoreCase(ReadOnlySpan<byte> text, string lower)
    {
        if (text.Length != lower.Length)
        {
            return false;
        }
        for (var i = 0; i < text.Length; i++)
        {
            if ((text[i] | 0x20) != lower[i])
            {
                return false;
            }
        }
        return true;
    }
}
