namespace Talus.Protocol;

/// <summary>
/// Splits an inline command line into arguments with the quoting rules of Redis' sdssplitargs:
/// "double quotes" understand \n \r \t \b \a \\ \" and \xHH; 'single quotes' understand \'; a closing
/// quote must be followed by a space or the end of the line.
/// </summary>
public static class InlineSplitter
{
    public static bool TrySplit(ReadOnlySpan<byte> line, CommandArgs args)
    {
        Span<byte> scratch = line.Length <= 1024 ? stackalloc byte[line.Length] : new byte[line.Length];
        var p = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p]))
            {
                p++;
            }
            if (p == line.Length)
            {
                return true;
            }
            var n = 0;
            var inDouble = false;
            var inSingle = false;
            var done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (p == line.Length)
                    {
                        return false;
                    }
                    if (line[p] == (byte)'\\' && p + 3 < line.Length && line[p + 1] == (byte)'x' && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        scratch[n++] = (byte)((HexValue(line[p + 2]) << 4) | HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (line[p] == (byte)'\\' && p + 1 < line.Length)
                    {
                        p++;
                        scratch[n++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        };
                    }
                    else if (line[p] == (byte)'"')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }
                        done = true;
                    }
                    else
                    {
                        scratch[n++] = line[p];
                    }
                }
                else if (inSingle)
                {
                    if (p == line.Length)
                    {
                        return false;
                    }
                    if (line[p] == (byte)'\\' && p + 1 < line.Length && line[p + 1] == (byte)'\'')
                    {
                        p++;
                        scratch[n++] = (byte)'\'';
                    }
                    else if (line[p] == (byte)'\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }
                        done = true;
                    }
                    else
                    {
                        scratch[n++] = line[p];
                    }
                }
                else if (p == line.Length)
                {
                    done = true;
                }
                else
                {
                    switch (line[p])
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDouble = true;
                            break;
                        case (byte)'\'':
                            inSingle = true;
                            break;
                        default:
                            scratch[n++] = line[p];
                            break;
                    }
                }
                if (p < line.Length)
                {
                    p++;
                }
            }
            scratch[..n].CopyTo(args.Append(n));
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => c - 'A' + 10,
    };
}
