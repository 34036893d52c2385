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
    public void OutputDoc_CountsAreThoseOfTheExamples()
    {
        var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "output.md"));
        var run = CliRunner.Run(RepoPaths.Root, null, "scan", "examples", "-f", "json");
        using var json = System.Text.Json.JsonDocument.Parse(run.Out);
        var s = json.RootElement.GetProperty("summary");
        var by = s.GetProperty("bySeverity");
        Assert.Contains($"\"resources\": {s.GetProperty("resources").GetInt32()}, \"findings\": {s.GetProperty("findings").GetInt32()},", doc, StringComparison.Ordinal);
        Assert.Contains($"\"bySeverity\": {{\"critical\": {by.GetProperty("critical").GetInt32()}, \"high\": {by.GetProperty("high").GetInt32()}, \"medium\": {by.GetProperty("medium").GetInt32()}, \"low\": {by.GetProperty("low").GetInt32()}, \"info\": {by.GetProperty("info").GetInt32()}}}", doc, StringComparison.Ordinal);
    }

    [Fact]
    public void ComplianceDoc_ExitCodesOfReportVerify_AreTheCommands()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-docs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "not-a-bundle.json"), "garbage");
            Assert.Equal(0, CliRunner.Run(dir, null, "report", "keygen", "-o", "keys").ExitCode);
            Assert.Equal(2, CliRunner.Run(dir, null, "report", "verify", "not-a-bundle.json", "--public-key", "keys/evidence-signing.pub.pem").ExitCode);
            File.WriteAllText(Path.Combine(dir, "corrupt.json"), "{\"kind\":\"SkjoldEvidenceBundle\",\"report\":\"***\",\"sha256\":\"00\",\"signature\":\"***\",\"keyId\":\"x\"}");
            var corrupt = CliRunner.Run(dir, null, "report", "verify", "corrupt.json", "--public-key", "keys/evidence-signing.pub.pem");
            Assert.True(corrupt.ExitCode == 1, corrupt.Out + corrupt.Error);
            var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "compliance.md"));
            Assert.Contains("is not an evidence bundle at all (not JSON, another kind) or a public key that is not PEM exits 2", doc, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
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
