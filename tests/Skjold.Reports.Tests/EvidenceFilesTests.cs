using Skjold.Reports.Evidence;

namespace Skjold.Reports.Tests;

public sealed class EvidenceFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-evidence-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ReadsNodeResultsByTheirGivenName_AndTheConfigurationRelativeToTheBase()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "node-a.json"), "{\"a\":1}");
        Directory.CreateDirectory(Path.Combine(_dir, "conf"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "conf", "skjold.yaml"), "exemptions: []\n");

        var inputs = await EvidenceFiles.ReadAsync(["node-a.json"], Path.Combine(_dir, "conf", "skjold.yaml"), null, _dir);

        var node = Assert.Single(inputs.NodeResults);
        Assert.Equal("node-a.json", node.Name);
        Assert.Equal("{\"a\":1}"u8.ToArray(), node.Bytes);
        Assert.Equal(Path.Combine("conf", "skjold.yaml"), inputs.Configuration!.Name);
        Assert.Null(inputs.Baseline);
    }

    [Fact]
    public async Task AConfigurationThatDoesNotExist_IsNone()
    {
        var inputs = await EvidenceFiles.ReadAsync([], Path.Combine(_dir, "skjold.yaml"), null, _dir);
        Assert.Null(inputs.Configuration);
        Assert.Empty(inputs.NodeResults);
    }

    [Fact]
    public async Task AMissingNodeResultsFile_NamesTheFileAndItsRole()
    {
        var ex = await Assert.ThrowsAsync<EvidenceInputException>(() => EvidenceFiles.ReadAsync(["gone.json"], null, null, _dir));
        Assert.Equal(EvidenceInputKind.NodeResults, ex.Kind);
        Assert.Equal("gone.json", ex.File);
        Assert.False(ex.NotAReport);
        Assert.IsAssignableFrom<IOException>(ex.InnerException);
    }

    [Fact]
    public async Task ABaselineThatIsNotAReport_IsToldApartFromAnUnreadableOne()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "old.md"), "# CIS report\n");

        var notReport = await Assert.ThrowsAsync<EvidenceInputException>(() => EvidenceFiles.ReadAsync([], null, "old.md", _dir));
        var unreadable = await Assert.ThrowsAsync<EvidenceInputException>(() => EvidenceFiles.ReadAsync([], null, "missing.json", _dir));

        Assert.Equal((EvidenceInputKind.Baseline, "old.md", true), (notReport.Kind, notReport.File, notReport.NotAReport));
        Assert.Equal((EvidenceInputKind.Baseline, "missing.json", false), (unreadable.Kind, unreadable.File, unreadable.NotAReport));
    }
}
