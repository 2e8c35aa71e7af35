using System.Globalization;

namespace Talus.Server.Config;

/// <summary>Parsing of config values the way Redis reads them (yes/no, memory units).</summary>
public static class ConfigValue
{
    /// <summary>Redis' memtoll: 1k = 1000, 1kb = 1024, m/mb, g/gb; case-insensitive.</summary>
    public static bool TryParseMemory(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim().ToLowerInvariant();
        long unit = 1;
        foreach (var (suffix, factor) in new (string, long)[] { ("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024L * 1024 * 1024), ("k", 1000), ("m", 1000_000), ("g", 1000_000_000), ("b", 1) })
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                unit = factor;
                s = s[..^suffix.Length];
                break;
            }
        }
        if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n < 0)
        {
            return false;
        }
        bytes = n * unit;
        return true;
    }

    /// <summary>
    /// A byte count as CONFIG REWRITE writes it, like Redis: in the largest of gb, mb and kb that divides it, else
    /// in bytes (33554432 → "32mb", 1000 → "1000").
    /// </summary>
    public static string FormatMemory(long bytes)
    {
        foreach (var (suffix, factor) in new (string, long)[] { ("gb", 1024L * 1024 * 1024), ("mb", 1024 * 1024), ("kb", 1024) })
        {
            if (bytes != 0 && bytes % factor == 0)
            {
                return (bytes / factor).ToString(CultureInfo.InvariantCulture) + suffix;
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    public static bool TryParseBool(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "yes":
                value = true;
                return true;
            case "no":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    public static string FormatBool(bool value) => value ? "yes" : "no";

    /// <summary>Splits a config line into arguments with Redis' quoting rules.</summary>
    public static List<string> SplitArgs(string line)
    {
        using var args = new Talus.Protocol.CommandArgs();
        if (!Talus.Protocol.InlineSplitter.TrySplit(System.Text.Encoding.UTF8.GetBytes(line), args))
        {
            throw new FormatException("unbalanced quotes in configuration line");
        }
        var result = new List<string>(args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            result.Add(args.GetString(i));
        }
        return result;
    }

    /// <summary>Quotes a value for CONFIG REWRITE when it is empty or holds spaces or quotes.</summary>
    public static string Quote(string value)
    {
        if (value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\'))
        {
            return value;
        }
        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }
}
