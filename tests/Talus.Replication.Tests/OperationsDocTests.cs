using Talus.TestKit;

namespace Talus.Replication.Tests;

/// <summary>docs/operations.md quotes the config templates the Sentinel and twemproxy tests run, word for word.</summary>
public class OperationsDocTests
{
    [Theory]
    [InlineData("sentinel.conf")]
    [InlineData("nutcracker.yml")]
    public void Operations_doc_quotes_the_tested_config_file(string name)
    {
        var doc = File.ReadAllText(Path.Combine(ExampleConfig.RepositoryRoot, "docs", "operations.md"));
        Assert.Contains("`conf/examples/" + name + "`:", doc, StringComparison.Ordinal);
        Assert.Contains("```\n" + ExampleConfig.Read(name) + "```\n", doc.Replace("```yaml\n", "```\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
