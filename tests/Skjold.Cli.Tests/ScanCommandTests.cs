using System.Text.Json;
using System.Xml.Linq;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

public sealed class ScanCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Examples => Path.Combine(RepoPaths.Root, "examples");

    private const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: apps}
        spec:
          containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
        """;

    [Fact]
    public void Scan_Examples_MatchesGoldenFindings()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "scan", "examples", "--config", "examples/skjold.yaml", "--format", "json");
        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var lines = doc.RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => $"{f.GetProperty("checkId").GetString()}|{f.GetProperty("severity").GetString()}|{f.GetProperty("resource").GetProperty("kind").GetString()}/{f.GetProperty("resource").GetProperty("name").GetString()}|{f.GetProperty("path").GetString()}|{f.GetProperty("location").GetProperty("file").GetString()}:{f.GetProperty("location").GetProperty("line").GetInt32()}")
            .ToList();
        Golden.AssertMatches(RepoPaths.TestData("scan-examples", "findings.txt"), lines);
        Assert.DoesNotContain(lines, l => l.Contains("hardened-app", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_HardenedApp_ExitsZero()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "scan", "examples/hardened-app", "--config", "examples/skjold.yaml");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("0 findings", run.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("critical", 0)]
    [InlineData("high", 0)]
    [InlineData("medium", 1)]
    public void Scan_FailOn_Threshold(string failOn, int expected)
    {
        // A pod whose worst finding is medium: no securityContext at all at restricted.
        const string pod = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              automountServiceAccountToken: false
              securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
              containers: [{name: c, image: "a:1", securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}}]
            """;
        var run = CliRunner.Run(_dir, pod, "scan", "-", "--fail-on", failOn);
        Assert.Equal(expected, run.ExitCode);
    }

    [Fact]
    public void Scan_Stdin_HelmStyle()
    {
        var run = CliRunner.Run(_dir, "---\n# Source: chart/templates/pod.yaml\n" + PrivilegedPod, "scan", "-", "--format", "json", "--pss-level", "baseline");
        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var f = doc.RootElement.GetProperty("findings").EnumerateArray().Single(x => x.GetProperty("checkId").GetString() == "pss/privileged");
        Assert.Equal("-", f.GetProperty("location").GetProperty("file").GetString());
        Assert.Equal(7, f.GetProperty("location").GetProperty("line").GetInt32());
        Assert.Equal("baseline", doc.RootElement.GetProperty("policy").GetProperty("pssLevel").GetString());
    }

    [Fact]
    public void Scan_InputErrors_ExitTwoAndStillReportFindings()
    {
        File.WriteAllText(Path.Combine(_dir, "ok.yaml"), PrivilegedPod);
        File.WriteAllText(Path.Combine(_dir, "broken.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n");
        var run = CliRunner.Run(_dir, null, "scan", ".", "--format", "json");
        Assert.Equal(2, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        Assert.Contains(doc.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("checkId").GetString() == "pss/privileged");
        var d = Assert.Single(doc.RootElement.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal("broken.yaml", d.GetProperty("location").GetProperty("file").GetString());
        Assert.Contains("error: broken.yaml:4:", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_NoPaths_IsUsageError()
    {
        var run = CliRunner.Run(_dir, null, "scan");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("give at least one", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--format", "xml")]
    [InlineData("--fail-on", "urgent")]
    [InlineData("--pss-level", "strict")]
    [InlineData("--pss-version", "v9")]
    [InlineData("--max-file-size", "lots")]
    [InlineData("--bogus", "x")]
    public void Scan_BadFlags_ExitTwo(string flag, string value)
    {
        var run = CliRunner.Run(_dir, PrivilegedPod, "scan", "-", flag, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_InvalidConfig_NamesFileKeyAndLine()
    {
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "pss:\n  level: restricted\nchecks:\n  disabel: [wl/replicas]\n");
        var run = CliRunner.Run(_dir, PrivilegedPod, "scan", "-");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("skjold.yaml:4:", run.Error, StringComparison.Ordinal);
        Assert.Contains("disabel", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_ConfigInWorkingDirectory_IsPickedUp()
    {
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "pss:\n  level: privileged\nchecks:\n  disable: [\"wl/*\", \"netpol/*\"]\n");
        var run = CliRunner.Run(_dir, PrivilegedPod, "scan", "-", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        Assert.Equal("skjold.yaml", doc.RootElement.GetProperty("policy").GetProperty("config").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("findings").GetArrayLength());
    }

    [Fact]
    public void Scan_SarifOutputFile_HasRulesResultsAndRegions()
    {
        var manifest = Path.Combine(_dir, "pod.yaml");
        File.WriteAllText(manifest, PrivilegedPod);
        var run = CliRunner.Run(_dir, null, "scan", "pod.yaml", "--format", "sarif", "--output", "out.sarif", "--pss-level", "baseline");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(string.Empty, run.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "out.sarif")));
        Assert.Equal("2.1.0", doc.RootElement.GetProperty("version").GetString());
        var sarifRun = doc.RootElement.GetProperty("runs")[0];
        var rules = sarifRun.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Contains("pss/privileged", rules);
        var result = sarifRun.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("ruleId").GetString() == "pss/privileged");
        Assert.Equal("error", result.GetProperty("level").GetString());
        var physical = result.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.Equal("pod.yaml", physical.GetProperty("artifactLocation").GetProperty("uri").GetString());
        Assert.Equal(5, physical.GetProperty("region").GetProperty("startLine").GetInt32());
        Assert.Equal(rules.IndexOf("pss/privileged"), result.GetProperty("ruleIndex").GetInt32());
    }

    [Fact]
    public void Scan_JUnit_IsValidXmlWithFailures()
    {
        var run = CliRunner.Run(_dir, PrivilegedPod, "scan", "-", "--format", "junit", "--pss-level", "baseline");
        var xml = XDocument.Parse(run.Out);
        var failures = xml.Descendants("failure").ToList();
        Assert.NotEmpty(failures);
        Assert.Contains(xml.Descendants("testcase"), t => t.Attribute("name")!.Value.StartsWith("pss/privileged", StringComparison.Ordinal));
        // The suites carry the counts (written as the scan streams; the root has no totals to keep memory flat).
        Assert.Equal(failures.Count, xml.Descendants("testsuite").Sum(t => int.Parse(t.Attribute("failures")!.Value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Scan_Table_GroupsByResourceWithCounts()
    {
        var run = CliRunner.Run(_dir, PrivilegedPod, "scan", "-", "--pss-level", "baseline");
        Assert.Contains("Pod/apps/p", run.Out, StringComparison.Ordinal);
        Assert.Contains("pss/privileged", run.Out, StringComparison.Ordinal);
        Assert.Contains("1 critical", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Checks_ListsEveryCheck()
    {
        var run = CliRunner.Run(_dir, null, "checks", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var ids = doc.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.Contains("pss/capabilities_restricted", ids);
        Assert.Contains("wl/trusted-registry", ids);
        Assert.True(ids.Count >= 36);
    }

    [Fact]
    public void Init_WritesConfigThatParses_AndRefusesToOverwrite()
    {
        var first = CliRunner.Run(_dir, null, "init");
        Assert.Equal(0, first.ExitCode);
        Assert.True(File.Exists(Path.Combine(_dir, "skjold.yaml")));
        var scan = CliRunner.Run(_dir, PrivilegedPod, "scan", "-");
        Assert.Equal(1, scan.ExitCode);
        var second = CliRunner.Run(_dir, null, "init");
        Assert.Equal(2, second.ExitCode);
        Assert.Equal(0, CliRunner.Run(_dir, null, "init", "--force").ExitCode);
    }

    [Fact]
    public void Version_Printed()
    {
        var run = CliRunner.Run(_dir, null, "--version");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^skjold \d+\.\d+\.\d+ \(commit ", run.Out.Trim());
    }

    [Fact]
    public void Help_DocumentsExitCodes()
    {
        var run = CliRunner.Run(_dir, null, "scan", "--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Exit codes", run.Out, StringComparison.Ordinal);
        Assert.Contains("--fail-on", run.Out, StringComparison.Ordinal);
    }
}
