using System.Globalization;

namespace Talus.Server.Config;

/// <summary>One class's client-output-buffer-limit: hard bytes, soft bytes, seconds over soft before disconnect (0 = none).</summary>
public readonly record struct OutputBufferLimit(long HardBytes, long SoftBytes, int SoftSeconds);

/// <summary>Parses Redis' "class hard soft seconds ..." syntax (classes: normal, replica/slave, pubsub).</summary>
public static class OutputBufferLimits
{
    public static Dictionary<string, OutputBufferLimit>? Parse(string text, out string? error)
    {
        error = null;
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length % 4 != 0)
        {
            error = "Wrong number of arguments in buffer limit configuration.";
            return null;
        }
        var result = new Dictionary<string, OutputBufferLimit>();
        for (var i = 0; i < parts.Length; i += 4)
        {
            var cls = parts[i].ToLowerInvariant() switch
            {
                "slave" => "replica",
                var c => c,
            };
            if (cls is not ("normal" or "replica" or "pubsub"))
            {
                error = "Invalid client class specified in buffer limit configuration.";
                return null;
            }
            if (!ConfigValue.TryParseMemory(parts[i + 1], out var hard) || !ConfigValue.TryParseMemory(parts[i + 2], out var soft)
                || !int.TryParse(parts[i + 3], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                error = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
                return null;
            }
            result[cls] = new OutputBufferLimit(hard, soft, seconds);
        }
        return result;
    }

    /// <summary>Applies the classes named in <paramref name="update"/> over <paramref name="current"/>; null and an error if invalid.</summary>
    public static string? Merge(string current, string update, out string? error)
    {
        var baseline = Parse(current, out error) ?? [];
        var changes = Parse(update, out error);
        if (changes is null)
        {
            return null;
        }
        foreach (var (k, v) in changes)
        {
            baseline[k] = v;
        }
        return Format(baseline);
    }

    /// <summary>The limits as CONFIG GET shows them in Redis: bytes, and the replica class under its old name "slave".</summary>
    public static string Format(string text) => Parse(text, out _) is { } limits ? Format(limits) : text;

    private static string Format(Dictionary<string, OutputBufferLimit> limits) =>
        string.Join(' ', new[] { "normal", "replica", "pubsub" }
            .Where(limits.ContainsKey)
            .Select(k => $"{(k == "replica" ? "slave" : k)} {limits[k].HardBytes} {limits[k].SoftBytes} {limits[k].SoftSeconds}"));
}
