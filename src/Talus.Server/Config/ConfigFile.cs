using System.Globalization;

namespace Talus.Server.Config;

/// <summary>
/// Reads settings from a Redis-style config file ("key value ..." per line, # comments, quoted values)
/// and from the command line ("--key value ..."), and writes them back for CONFIG REWRITE.
/// </summary>
public static class ConfigFile
{
    /// <summary>Applies <paramref name="args"/> (an optional config file path first, then --key value pairs) to new options.</summary>
    public static ServerOptions FromCommandLine(IReadOnlyList<string> args)
    {
        var options = new ServerOptions();
        var i = 0;
        if (args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            LoadFile(options, args[0]);
            i = 1;
        }
        var overrides = new List<(string Key, List<string> Values)>();
        for (; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                throw new FormatException($"unexpected argument '{args[i]}': options are given as --name value");
            }
            var key = args[i][2..];
            var values = new List<string>();
            while (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                values.Add(args[++i]);
            }
            if (key.Equals("config", StringComparison.OrdinalIgnoreCase))
            {
                if (values.Count != 1)
                {
                    throw new FormatException("--config takes one file path");
                }
                LoadFile(options, values[0]);
                continue;
            }
            overrides.Add((key, values));
        }
        // Command-line settings win over the file, wherever --config appeared.
        foreach (var (key, values) in overrides)
        {
            Apply(options, key, values.Count == 0 ? [""] : values.SelectMany(v => v.Length == 0 ? [""] : ConfigValue.SplitArgs(v)).ToArray(), "command line");
        }
        return options;
    }

    public static void LoadFile(ServerOptions options, string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"config file '{path}' not found", path);
        }
        options.ConfigFile = Path.GetFullPath(path);
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var parts = ConfigValue.SplitArgs(line);
            if (parts.Count == 0)
            {
                continue;
            }
            var values = parts.Count == 1 ? new[] { "" } : parts.Skip(1).ToArray();
            Apply(options, parts[0], values, $"{path}:{lineNumber}");
        }
    }

    private static void Apply(ServerOptions options, string key, string[] values, string where)
    {
        if (!ConfigRegistry.TryFind(key, out var entry))
        {
            throw new FormatException($"{where}: unknown configuration key '{key}'");
        }
        var error = entry.Set(options, values);
        if (error is not null)
        {
            throw new FormatException($"{where}: invalid value for '{key}': {error}");
        }
    }

    /// <summary>
    /// CONFIG REWRITE: rewrites the config file in place, keeping comments and unknown lines, replacing each
    /// known key with its current value and appending settings that differ from the defaults.
    /// </summary>
    public static void Rewrite(ServerOptions options)
    {
        var path = options.ConfigFile ?? throw new InvalidOperationException("The server is running without a config file");
        var defaults = new ServerOptions();
        var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : [];
        var written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var output = new List<string>();
        foreach (var raw in lines)
        {
            var trimmed = raw.Trim();
            List<string> parts;
            try
            {
                parts = trimmed.Length == 0 || trimmed[0] == '#' ? [] : ConfigValue.SplitArgs(trimmed);
            }
            catch (FormatException)
            {
                parts = [];
            }
            if (parts.Count == 0 || !ConfigRegistry.TryFind(parts[0], out var entry))
            {
                output.Add(raw);
                continue;
            }
            if (written.Add(entry.Name))
            {
                var value = entry.Get(options);
                if (value.Length > 0 || entry.Get(defaults).Length > 0)
                {
                    output.Add(Line(entry, value));
                }
            }
        }
        foreach (var entry in ConfigRegistry.Entries)
        {
            if (!written.Contains(entry.Name) && entry.Get(options) != entry.Get(defaults))
            {
                output.Add(Line(entry, entry.Get(options)));
            }
        }
        var temp = path + ".tmp";
        File.WriteAllLines(temp, output);
        File.Move(temp, path, overwrite: true);
    }

    private static string Line(ConfigEntry entry, string value) => entry.Name switch
    {
        // multi-word values stay as separate words, as Redis writes them
        "replicaof" or "bind" or "client-output-buffer-limit" or "save" when value.Length > 0 => $"{entry.Name} {value}",
        _ when entry.IsMemory && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bytes)
            => $"{entry.Name} {ConfigValue.FormatMemory(bytes)}",
        _ => $"{entry.Name} {ConfigValue.Quote(value)}",
    };
}
