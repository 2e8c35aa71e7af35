namespace Talus.Storage.Util;

/// <summary>Redis' glob matcher (stringmatchlen): * ? [abc] [^a] [a-z] and backslash escapes, on bytes.</summary>
public static class Glob
{
    public static bool IsMatchAll(ReadOnlySpan<byte> pattern) => pattern.Length == 1 && pattern[0] == (byte)'*';

    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false) =>
        Match(pattern, text, ignoreCase, 0);

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> s, bool nocase, int depth)
    {
        if (depth > 1000)
        {
            return false; // Redis caps recursion the same way to survive hostile patterns
        }
        while (pattern.Length > 0 && s.Length > 0)
        {
            switch (pattern[0])
            {
                case (byte)'*':
                    while (pattern.Length > 1 && pattern[1] == (byte)'*')
                    {
                        pattern = pattern[1..];
                    }
                    if (pattern.Length == 1)
                    {
                        return true;
                    }
                    while (s.Length > 0)
                    {
                        if (Match(pattern[1..], s, nocase, depth + 1))
                        {
                            return true;
                        }
                        s = s[1..];
                    }
                    return false;
                case (byte)'?':
                    s = s[1..];
                    break;
                case (byte)'[':
                {
                    pattern = pattern[1..];
                    var not = pattern.Length > 0 && pattern[0] == (byte)'^';
                    if (not)
                    {
                        pattern = pattern[1..];
                    }
                    var match = false;
                    while (true)
                    {
                        if (pattern.Length == 0)
                        {
                            break;
                        }
                        if (pattern[0] == (byte)'\\' && pattern.Length >= 2)
                        {
                            pattern = pattern[1..];
                            if (pattern[0] == s[0])
                            {
                                match = true;
                            }
                        }
                        else if (pattern[0] == (byte)']')
                        {
                            break;
                        }
                        else if (pattern.Length >= 3 && pattern[1] == (byte)'-')
                        {
                            int start = pattern[0], end = pattern[2], c = s[0];
                            if (start > end)
                            {
                                (start, end) = (end, start);
                            }
                            if (nocase)
                            {
                                start = Lower(start);
                                end = Lower(end);
                                c = Lower(c);
                            }
                            pattern = pattern[2..];
                            if (c >= start && c <= end)
                            {
                                match = true;
                            }
                        }
                        else if (Eq(pattern[0], s[0], nocase))
                        {
                            match = true;
                        }
                        pattern = pattern[1..];
                    }
                    if (not)
                    {
                        match = !match;
                    }
                    if (!match)
                    {
                        return false;
                    }
                    s = s[1..];
                    if (pattern.Length == 0)
                    {
                        // malformed pattern: Redis treats the end of pattern as the end of the class
                        return s.Length == 0;
                    }
                    break;
                }
                case (byte)'\\':
                    if (pattern.Length >= 2)
                    {
                        pattern = pattern[1..];
                    }
                    if (!Eq(pattern[0], s[0], nocase))
                    {
                        return false;
                    }
                    s = s[1..];
                    break;
                default:
                    if (!Eq(pattern[0], s[0], nocase))
                    {
                        return false;
                    }
                    s = s[1..];
                    break;
            }
            pattern = pattern[1..];
            if (s.Length == 0)
            {
                while (pattern.Length > 0 && pattern[0] == (byte)'*')
                {
                    pattern = pattern[1..];
                }
                break;
            }
        }
        return pattern.Length == 0 && s.Length == 0;
    }

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;

    private static bool Eq(byte a, byte b, bool nocase) => nocase ? Lower(a) == Lower(b) : a == b;

    /// <summary>The literal prefix before the first glob metacharacter, used to narrow a key scan.</summary>
    public static ReadOnlySpan<byte> LiteralPrefix(ReadOnlySpan<byte> pattern)
    {
        var i = pattern.IndexOfAny("*?[\\"u8);
        return i < 0 ? pattern : pattern[..i];
    }
}
