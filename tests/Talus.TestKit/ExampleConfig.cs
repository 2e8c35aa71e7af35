using System.Text.RegularExpressions;

namespace Talus.TestKit;

/// <summary>
/// The config templates under conf/examples, which docs/operations.md quotes: tests fill in their ${NAME}
/// placeholders, so the documented files are the ones the tests run.
/// </summary>
public static partial class ExampleConfig
{
    /// <summary>The repository root (the directory holding Talus.slnx).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Talus.slnx")))
            {
                dir = dir.Parent;
            }
            return dir?.FullName ?? throw new DirectoryNotFoundException("repository root (Talus.slnx) not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The text of conf/examples/<paramref name="name"/>.</summary>
    public static string Read(string name) => File.ReadAllText(Path.Combine(RepositoryRoot, "conf", "examples", name));

    /// <summary>The template with every ${NAME} replaced; throws if one is left without a value.</summary>
    public static string Fill(string name, IReadOnlyDictionary<string, string> values)
    {
        var text = Placeholder().Replace(Read(name), m => values.TryGetValue(m.Groups[1].Value, out var v)
            ? v
            : throw new KeyNotFoundException($"conf/examples/{name}: no value for ${{{m.Groups[1].Value}}}"));
        return text;
    }

    /// <summary>Writes the filled template to <paramref name="path"/> and returns the path.</summary>
    public static string WriteFilled(string name, IReadOnlyDictionary<string, string> values, string path)
    {
        File.WriteAllText(path, Fill(name, values));
        return path;
    }

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)\}")]
    private static partial Regex Placeholder();
}
