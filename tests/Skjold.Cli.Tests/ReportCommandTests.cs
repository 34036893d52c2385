using System.Runtime.Versioning;
using System.Text.Json;
using Skjold.TestSupport;
using Xunit.Abstractions;

namespace Skjold.Cli.Tests;

[UnsupportedOSPlatform("windows")]
public sealed class ReportCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Examples => Path.Combine(RepoPaths.Root, "examples");

    private static string Config => Path.Combine(RepoPaths.Root, "examples", "skjold.yaml");

    private static readonly DateTimeOffset Today = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("cis")]
    [InlineData("nsa")]
    [InlineData("iso27001")]
    [InlineData("gdpr")]
    [InlineData("nsm")]
    [InlineData("pci-dss")]
    [InlineData("nis2")]
    public void EveryFramework_EveryFormat_OnTheExamples(string framework)
    {
        foreach (var format in new[] { "html", "json", "md", "csv", "policyreport" })
        {
            var run = CliRunner.Run(_dir, null, "report", "--framework", framework, Examples, Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json"), "--config", Config, "--format", format);
            Assert.True(run.ExitCode == 0, $"{framework}/{format}: {run.Error}");
            Assert.Contains("score", run.Error, StringComparison.Ordinal);
            switch (format)
            {
                case "json":
                    using (var doc = JsonDocument.Parse(run.Out))
                    {
                        Assert.Equal(framework, doc.RootElement.GetProperty("framework").GetProperty("id").GetString());
                        Assert.StartsWith("sha256:", doc.RootElement.GetProperty("inputDigest").GetString(), StringComparison.Ordinal);
                        var statuses = doc.RootElement.GetProperty("controls").EnumerateArray().Select(c => c.GetProperty("status").GetString()).ToHashSet();
                        Assert.Contains("fail", statuses); // the examples are deliberately insecure
                        Assert.Contains("manual", statuses);
                    }

                    break;
                case "html":
                    Assert.Contains("<table id=\"summary-table\">", run.Out, StringComparison.Ordinal);
                    break;
                case "csv":
                    Assert.StartsWith("framework,control,title,status", run.Out, StringComparison.Ordinal);
                    break;
                case "policyreport":
                    Assert.Contains("apiVersion: wgpolicyk8s.io/v1alpha2", run.Out, StringComparison.Ordinal);
                    Assert.Contains("result: fail", run.Out, StringComparison.Ordinal);
                    break;
                default:
                    Assert.Contains("**Score:", run.Out, StringComparison.Ordinal);
                    break;
            }
        }
    }

    [Fact]
    public void Attestations_ValidAndExpiredShowInTheReport()
    {
        // The example attestations: ISO 5.24 of 2026-03-02 for 365 days, GDPR 28 of 2024-09-01 for 730 days.
        var run = CliRunner.RunAt(Today, _dir, null, "report", "--framework", "gdpr", Examples, "--config", Config, "--format", "json");
        using var doc = JsonDocument.Parse(run.Out);
        var dpa = doc.RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "28");
        Assert.Equal("manual", dpa.GetProperty("status").GetString());
        Assert.Equal("expired", dpa.GetProperty("attestation").GetProperty("state").GetString());
        Assert.True(dpa.GetProperty("providerQuestions").GetArrayLength() >= 2);

        var iso = CliRunner.RunAt(Today, _dir, null, "report", "--framework", "iso27001", Examples, "--config", Config, "--format", "json");
        using var isoDoc = JsonDocument.Parse(iso.Out);
        var plan = isoDoc.RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "5.24");
        Assert.Equal("valid", plan.GetProperty("attestation").GetProperty("state").GetString());

        // A year and a day later the plan's attestation has lapsed and the score drops.
        var later = CliRunner.RunAt(new DateTimeOffset(2027, 3, 4, 0, 0, 0, TimeSpan.Zero), _dir, null, "report", "--framework", "iso27001", Examples, "--config", Config, "--format", "json");
        using var laterDoc = JsonDocument.Parse(later.Out);
        var lapsed = laterDoc.RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "5.24");
        Assert.Equal("expired", lapsed.GetProperty("attestation").GetProperty("state").GetString());
        Assert.True(laterDoc.RootElement.GetProperty("score").GetDouble() < isoDoc.RootElement.GetProperty("score").GetDouble());
    }

    [Fact]
    public void InputDigest_IsStable_AndCoversTheConfiguration()
    {
        string Digest(string config) => JsonDocument.Parse(CliRunner.RunAt(Today, _dir, null, "report", "--framework", "nis2", Examples, "--config", config, "--format", "json").Out)
            .RootElement.GetProperty("inputDigest").GetString()!;
        var first = Digest(Config);
        Assert.StartsWith("sha256:", first, StringComparison.Ordinal);
        Assert.Equal(first, Digest(Config));
        var edited = Path.Combine(_dir, "edited.yaml");
        File.WriteAllText(edited, File.ReadAllText(Config) + "\n# reviewed\n");
        Assert.NotEqual(first, Digest(edited));
    }

    [Fact]
    public void NodeResults_MakeNodeControlsApplicable_AndBaselineShowsTheChange()
    {
        var before = Path.Combine(_dir, "before.json");
        Assert.Equal(0, CliRunner.Run(_dir, null, "report", "--framework", "cis", Examples, "--format", "json", "--output", before).ExitCode);
        using (var doc = JsonDocument.Parse(File.ReadAllText(before)))
        {
            Assert.Equal("not applicable", doc.RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "1.2.15").GetProperty("status").GetString());
        }

        var node = Path.Combine(_dir, "node");
        NodeTrees.KubeadmDefault(node);
        Assert.Equal(1, CliRunner.Run(_dir, null, "node-check", "--root", node, "--format", "json", "--output", "node.json").ExitCode);
        var run = CliRunner.Run(_dir, null, "report", "--framework", "cis", Examples, "--node-results", "node.json", "--format", "json", "--baseline", before);
        Assert.Equal(0, run.ExitCode);
        using var after = JsonDocument.Parse(run.Out);
        var controls = after.RootElement.GetProperty("controls").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("fail", controls["1.2.15"]); // kubeadm leaves profiling on
        Assert.Equal("pass", controls["1.2.8"]); // RBAC on
        // Node results were added: the node controls moved from not applicable to evaluated. That is
        // coverage, not progress: neither better (1.2.8 now passes) nor worse (1.2.15 now fails).
        var diff = after.RootElement.GetProperty("diff");
        Assert.Contains(diff.GetProperty("coverageChanged").EnumerateArray(), c => c.GetProperty("control").GetString() == "1.2.8" && c.GetProperty("before").GetString() == "not applicable");
        Assert.Contains(diff.GetProperty("coverageChanged").EnumerateArray(), c => c.GetProperty("control").GetString() == "1.2.15" && c.GetProperty("after").GetString() == "fail");
        Assert.DoesNotContain(diff.GetProperty("better").EnumerateArray(), c => c.GetProperty("control").GetString() == "1.2.8");
        Assert.DoesNotContain(diff.GetProperty("worse").EnumerateArray(), c => c.GetProperty("control").GetString() == "1.2.15");
        Assert.True(diff.GetProperty("inputsDiffer").GetBoolean());
        Assert.Contains("because the inputs differ from the baseline's", run.Error, StringComparison.Ordinal);

        var wrong = CliRunner.Run(_dir, null, "report", "--framework", "nis2", Examples, "--baseline", before);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("is a cis report", wrong.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void SignedBundle_VerifiesAndDetectsTampering()
    {
        Assert.Equal(0, CliRunner.Run(_dir, null, "report", "keygen", "--output", "keys").ExitCode);
        Assert.Equal(2, CliRunner.Run(_dir, null, "report", "keygen", "--output", "keys").ExitCode); // never overwrites
        var key = Path.Combine(_dir, "keys", "evidence-signing.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        var run = CliRunner.Run(_dir, null, "report", "--framework", "iso27001", Examples, "--format", "json", "--output", "r.json", "--bundle", "bundle.json", "--signing-key", key);
        Assert.Equal(0, run.ExitCode);

        var ok = CliRunner.Run(_dir, null, "report", "verify", "bundle.json", "--public-key", "keys/evidence-signing.pub.pem", "--extract", "verified.json");
        Assert.Equal(0, ok.ExitCode);
        Assert.StartsWith("VALID: ISO/IEC 27001:2022 Annex A", ok.Out, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(_dir, "r.json")), File.ReadAllText(Path.Combine(_dir, "verified.json")));

        // Change one control's status inside the signed report.
        var bundle = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "bundle.json"))).RootElement;
        var payload = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(bundle.GetProperty("report").GetString()!));
        var forged = payload.Replace("\"status\": \"fail\"", "\"status\": \"pass\"", StringComparison.Ordinal);
        Assert.NotEqual(payload, forged);
        var tampered = File.ReadAllText(Path.Combine(_dir, "bundle.json")).Replace(bundle.GetProperty("report").GetString()!, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(forged)), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "tampered.json"), tampered);
        var bad = CliRunner.Run(_dir, null, "report", "verify", "tampered.json", "--public-key", "keys/evidence-signing.pub.pem");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("altered", bad.Out, StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run(_dir, null, "report", "keygen", "--output", "other").ExitCode);
        var otherKey = CliRunner.Run(_dir, null, "report", "verify", "bundle.json", "--public-key", "other/evidence-signing.pub.pem");
        Assert.Equal(1, otherKey.ExitCode);
        Assert.Contains("signed with key", otherKey.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void UsageErrors_ExitTwo()
    {
        Assert.Contains("give --framework", CliRunner.Run(_dir, null, "report", Examples).Error, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run(_dir, null, "report", "--framework", "sox", Examples).ExitCode);
        Assert.Equal(2, CliRunner.Run(_dir, null, "report", "--framework", "cis").ExitCode);
        Assert.Equal(2, CliRunner.Run(_dir, null, "report", "--framework", "cis", Examples, "--bundle", "b.json").ExitCode);
        Assert.Equal(1, CliRunner.Run(_dir, null, "report", "--framework", "cis", Examples, "--fail-under", "99", "-f", "json").ExitCode);
    }

    [Fact]
    public void Frameworks_ListsCoverage()
    {
        var run = CliRunner.Run(_dir, null, "frameworks", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        var rows = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(7, rows.Count);
        Assert.All(rows, r => Assert.Equal(r.GetProperty("controls").GetInt32(), r.GetProperty("automated").GetInt32() + r.GetProperty("manual").GetInt32()));
    }

    [Fact]
    public void Frameworks_OneFramework_ListsControlsChecksAndProviderQuestions()
    {
        var run = CliRunner.Run(_dir, null, "frameworks", "gdpr", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        var rows = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Equal("manual", rows["28"].GetProperty("kind").GetString());
        Assert.Contains(rows["28"].GetProperty("providerQuestions").EnumerateArray(), q => q.GetString()!.Contains("audit log", StringComparison.Ordinal));
        Assert.Contains(rows["32"].GetProperty("checks").EnumerateArray(), c => c.GetString() == "pss/privileged");

        var text = CliRunner.Run(_dir, null, "frameworks", "nis2");
        Assert.Contains("ask the provider:", text.Out, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run(_dir, null, "frameworks", "sox").ExitCode);
    }

    /// <summary>The HTML report in headless Chromium: it loads, its script runs, the summary table is there; a screenshot is kept.</summary>
    [Fact]
    public void HtmlReport_RendersInChromium()
    {
        var html = Path.Combine(_dir, "report.html");
        Assert.Equal(0, CliRunner.Run(_dir, null, "report", "--framework", "iso27001", Examples, Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json"),
            "--config", Config, "--output", html).ExitCode);

        var (dom, domErrors, domExit) = Chromium.Headless("--virtual-time-budget=5000", "--dump-dom", new Uri(html).AbsoluteUri);
        Assert.Equal(0, domExit);
        Assert.Contains("id=\"summary-table\"", dom, StringComparison.Ordinal);
        Assert.Contains("data-ready=\"54\"", dom, StringComparison.Ordinal); // the inline script ran and counted every ISO control row
        Assert.DoesNotContain("Uncaught", domErrors, StringComparison.Ordinal);

        var shot = RepoPaths.Artifact("report-screenshot.png");
        File.Delete(shot);
        var (_, shotErrors, shotExit) = Chromium.Headless("--window-size=1280,1800", "--screenshot=" + shot, new Uri(html).AbsoluteUri);
        output.WriteLine(shotErrors);
        Assert.Equal(0, shotExit);
        var png = File.ReadAllBytes(shot);
        Assert.True(png.Length > 20_000, "the screenshot should show a rendered page");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
    }
}
