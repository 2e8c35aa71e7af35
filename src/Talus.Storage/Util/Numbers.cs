using System.Buffers.Text;
using System.Globalization;

namespace Talus.Storage.Util;

/// <summary>Redis' number parsing and formatting rules, shared by every type.</summary>
public static class Numbers
{
    /// <summary>Redis' string2ll: optional '-', digits, no leading zeros, no spaces or '+', fits in 64 bits.</summary>
    public static bool TryParseLong(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 20)
        {
            return false;
        }
        if (s.Length == 1 && s[0] == (byte)'0')
        {
            return true;
        }
        var i = s[0] == (byte)'-' ? 1 : 0;
        if (i >= s.Length || s[i] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }
        return Utf8Parser.TryParse(s, out value, out var consumed) && consumed == s.Length;
    }

    /// <summary>Redis' string2ld/strtold rules: decimal or exponent form, inf/-inf allowed, NaN and spaces rejected.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 5000 || IsSpace(s[0]) || IsSpace(s[^1]))
        {
            return false;
        }
        Span<char> chars = s.Length <= 256 ? stackalloc char[s.Length] : new char[s.Length];
        for (var i = 0; i < s.Length; i++)
        {
            chars[i] = (char)s[i];
        }
        var text = chars;
        if (text.Equals("inf", StringComparison.OrdinalIgnoreCase) || text.Equals("+inf", StringComparison.OrdinalIgnoreCase)
            || text.Equals("infinity", StringComparison.OrdinalIgnoreCase) || text.Equals("+infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }
        if (text.Equals("-inf", StringComparison.OrdinalIgnoreCase) || text.Equals("-infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }
        foreach (var c in text)
        {
            if (!(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '-' or '+'))
            {
                return false;
            }
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value);
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    /// <summary>How INCRBYFLOAT and HINCRBYFLOAT print their result: shortest round-trip form, no exponent.</summary>
    public static string FormatFloat(double value)
    {
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E'))
        {
            s = Math.Abs(value) < 7.9e27
                ? ((decimal)value).ToString(CultureInfo.InvariantCulture)
                : value.ToString("F0", CultureInfo.InvariantCulture);
        }
        return s == "-0" ? "0" : s;
    }
}
