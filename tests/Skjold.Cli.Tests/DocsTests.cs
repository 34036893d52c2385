using Skjold.Engine.Checks;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

public sealed class DocsTests
{
    [Fact]
    public void ChecksReference_IsUpToDateWithCatalog()
    {
        var path = Path.Combine(RepoPaths.Root, "docs", "checks.md");
        var expected = ChecksCommand.Markdown(CheckCatalog.Default);
        Assert.True(File.ReadAllText(path) == expected, "docs/checks.md is stale: run `dotnet run --project src/Skjold.Cli -- checks --format markdown > docs/checks.md`");
    }

    [Fact]
    public void Readme_GivesTheTwoCommands()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        Assert.Contains("dotnet run --project src/Skjold.Cli -c Release -- scan examples/", readme, StringComparison.Ordinal);
        Assert.Contains("dotnet test Skjold.slnx", readme, StringComparison.Ordinal);
        var ci = File.ReadAllText(Path.Combine(RepoPaths.Root, ".ci", "run"));
        Assert.Contains("dotnet test Skjold.slnx", ci, StringComparison.Ordinal);
    }
}
