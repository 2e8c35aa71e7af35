using System.Globalization;
using System.Numerics;

namespace Talus.Storage.Util;

/// <summary>
/// C's <c>strtod</c> on bytes, and the two acceptance rules Redis builds on it. Redis parses sorted-set
/// scores with plain strtod, so it accepts what strtod accepts (hex floats, "infinity", a leading '+') and the
/// exact accept/refuse decisions differ between ZADD-style arguments and ZRANGEBYSCORE-style bounds.
/// </summary>
public static class Strtod
{
    /// <summary>
    /// Parses the longest prefix of <paramref name="s"/> that strtod would convert (leading white space
    /// included). Returns the bytes consumed: 0 when nothing converts (strtod's <c>endptr == nptr</c>).
    /// <paramref name="rangeError"/> is strtod's ERANGE: the text was finite but the value overflowed to
    /// infinity or underflowed to zero.
    /// </summary>
    public static int Parse(ReadOnlySpan<byte> s, out double value, out bool rangeError)
    {
        value = 0;
        rangeError = false;
        var i = 0;
        while (i < s.Length && IsSpace(s[i]))
        {
            i++;
        }
        var numberStart = i;
        var negative = false;
        if (i < s.Length && s[i] is (byte)'+' or (byte)'-')
        {
            negative = s[i] == (byte)'-';
            i++;
        }
        if (StartsWithWord(s[i..], "infinity"u8) || StartsWithWord(s[i..], "inf"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return i + (StartsWithWord(s[i..], "infinity"u8) ? 8 : 3);
        }
        if (StartsWithWord(s[i..], "nan"u8))
        {
            value = double.NaN;
            return i + 3 + NanPayloadLength(s[(i + 3)..]);
        }
        if (i + 1 < s.Length && s[i] == (byte)'0' && (s[i + 1] | 0x20) == (byte)'x'
            && ((i + 2 < s.Length && IsHex(s[i + 2])) || (i + 3 < s.Length && s[i + 2] == (byte)'.' && IsHex(s[i + 3]))))
        {
            var end = ParseHex(s, i + 2, out value, out rangeError);
            if (negative)
            {
                value = -value;
            }
            return end;
        }
        return ParseDecimal(s, numberStart, i, out value, out rangeError);
    }

    /// <summary>
    /// Redis' getDoubleFromObject (ZADD and ZINCRBY scores, WEIGHTS): the whole argument must convert, no
    /// leading space, no overflow or underflow to zero, no NaN.
    /// </summary>
    public static bool TryParseStrict(ReadOnlySpan<byte> s, out double value)
    {
        if (s.Length == 0 || IsSpace(s[0]))
        {
            value = 0;
            return false;
        }
        var consumed = Parse(s, out value, out var rangeError);
        if (consumed != s.Length || double.IsNaN(value) || (rangeError && (double.IsInfinity(value) || value == 0)))
        {
            value = 0;
            return false;
        }
        return true;
    }

    /// <summary>
    /// Redis' zslParseRange rule for one bound (after any '(' is stripped): strtod must stop at the end of
    /// the C string, so an empty bound is 0, leading spaces and overflow are fine, only NaN is refused. The
    /// argument is a C string to Redis: it ends at the first NUL byte.
    /// </summary>
    public static bool TryParseRangeBound(ReadOnlySpan<byte> s, out double value)
    {
        var nul = s.IndexOf((byte)0);
        if (nul >= 0)
        {
            s = s[..nul];
        }
        var consumed = Parse(s, out value, out _);
        // strtod converting nothing leaves endptr at the start: valid only when that is the terminator.
        if ((consumed == 0 && s.Length != 0) || (consumed != 0 && consumed != s.Length) || double.IsNaN(value))
        {
            value = 0;
            return false;
        }
        return true;
    }

    public static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static int ParseDecimal(ReadOnlySpan<byte> s, int numberStart, int i, out double value, out bool rangeError)
    {
        value = 0;
        rangeError = false;
        var digits = 0;
        var nonZero = false;
        while (i < s.Length && char.IsAsciiDigit((char)s[i]))
        {
            nonZero |= s[i] != (byte)'0';
            digits++;
            i++;
        }
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit((char)s[i]))
            {
                nonZero |= s[i] != (byte)'0';
                digits++;
                i++;
            }
        }
        if (digits == 0)
        {
            return 0;
        }
        if (i < s.Length && (s[i] | 0x20) == (byte)'e')
        {
            var j = i + 1;
            if (j < s.Length && s[j] is (byte)'+' or (byte)'-')
            {
                j++;
            }
            if (j < s.Length && char.IsAsciiDigit((char)s[j]))
            {
                while (j < s.Length && char.IsAsciiDigit((char)s[j]))
                {
                    j++;
                }
                i = j;
            }
        }
        var text = s[numberStart..i];
        Span<char> chars = text.Length <= 512 ? stackalloc char[text.Length] : new char[text.Length];
        for (var k = 0; k < text.Length; k++)
        {
            chars[k] = (char)text[k];
        }
        // .NET parses decimal text with correct IEEE rounding, as glibc's strtod does.
        value = double.Parse(chars, NumberStyles.Float, CultureInfo.InvariantCulture);
        rangeError = double.IsInfinity(value) || (value == 0 && nonZero);
        return i;
    }

    /// <summary>Hex float after "0x": hex digits, optional '.', optional binary exponent "p[+-]digits"; rounded to nearest even.</summary>
    private static int ParseHex(ReadOnlySpan<byte> s, int i, out double value, out bool rangeError)
    {
        var mantissa = BigInteger.Zero;
        long exponent = 0;
        var seenPoint = false;
        for (; i < s.Length; i++)
        {
            if (s[i] == (byte)'.' && !seenPoint)
            {
                seenPoint = true;
                continue;
            }
            if (!IsHex(s[i]))
            {
                break;
            }
            mantissa = (mantissa << 4) | HexValue(s[i]);
            if (seenPoint)
            {
                exponent -= 4;
            }
        }
        if (i < s.Length && (s[i] | 0x20) == (byte)'p')
        {
            var j = i + 1;
            var negative = false;
            if (j < s.Length && s[j] is (byte)'+' or (byte)'-')
            {
                negative = s[j] == (byte)'-';
                j++;
            }
            if (j < s.Length && char.IsAsciiDigit((char)s[j]))
            {
                long e = 0;
                while (j < s.Length && char.IsAsciiDigit((char)s[j]))
                {
                    e = Math.Min(e * 10 + (s[j] - '0'), 1L << 40);
                    j++;
                }
                exponent += negative ? -e : e;
                i = j;
            }
        }
        value = ScaleToDouble(mantissa, exponent);
        rangeError = !mantissa.IsZero && (double.IsInfinity(value) || value == 0);
        return i;
    }

    /// <summary>mantissa × 2^exponent rounded to the nearest double (ties to even), with subnormals.</summary>
    private static double ScaleToDouble(BigInteger mantissa, long exponent)
    {
        if (mantissa.IsZero)
        {
            return 0;
        }
        var bits = (long)mantissa.GetBitLength();
        if (bits - 1 + exponent > 1023)
        {
            return double.PositiveInfinity;
        }
        // Keep 53 significant bits, fewer when the result is subnormal (its last bit weighs 2^-1074).
        var shift = Math.Max(bits - 53, -1074 - exponent);
        if (shift <= 0)
        {
            return Math.ScaleB((double)mantissa, (int)exponent);
        }
        if (shift > bits + 1)
        {
            return 0;
        }
        var kept = mantissa >> (int)shift;
        var rest = mantissa - (kept << (int)shift);
        var half = BigInteger.One << (int)(shift - 1);
        if (rest > half || (rest == half && !kept.IsEven))
        {
            kept += 1;
        }
        return Math.ScaleB((double)kept, (int)(exponent + shift));
    }

    private static int NanPayloadLength(ReadOnlySpan<byte> s)
    {
        if (s.Length == 0 || s[0] != (byte)'(')
        {
            return 0;
        }
        var j = 1;
        while (j < s.Length && (char.IsAsciiLetterOrDigit((char)s[j]) || s[j] == (byte)'_'))
        {
            j++;
        }
        return j < s.Length && s[j] == (byte)')' ? j + 1 : 0;
    }

    private static bool StartsWithWord(ReadOnlySpan<byte> s, ReadOnlySpan<byte> lowerWord)
    {
        if (s.Length < lowerWord.Length)
        {
            return false;
        }
        for (var k = 0; k < lowerWord.Length; k++)
        {
            if ((s[k] | 0x20) != lowerWord[k])
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
