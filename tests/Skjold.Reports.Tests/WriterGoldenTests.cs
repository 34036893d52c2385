using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Skjold.Engine;
using Skjold.Engine.Checks;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Loading;
using Skjold.Reports.Compliance;
using Skjold.Reports.Evidence;
using Skjold.TestSupport;

namespace Skjold.Reports.Tests;

/// <summary>
/// Every report writer against a golden file under testdata/report-writers, compared line by line
/// in order: two files (a pod with a waived finding, a deployment), one input problem, a fixed
/// clock, and for the compliance formats a baseline so the diff sections are written.
/// Regenerate with SKJOLD_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public sealed class WriterGoldenTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private const string PodYaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: shop
          annotations:
            skjold.io/suppress: wl/replicas
            skjold.io/suppress-reason: One pod on purpose (test).
        spec:
          containers:
          - name: app
            image: registry.example.com/web:1.2
            securityContext: {privileged: true}
        """;

    private const string DeploymentYaml = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: shop}
        spec:
          replicas: 1
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec:
              containers:
              - name: api
                image: nginx
        """;

    private static IReadOnlyList<Resource> Resources()
    {
        var loader = new ManifestLoader(new LoaderOptions { DefaultNamespace = "default" });
        return [.. loader.LoadText("manifests/pod.yaml", PodYaml).Resources, .. loader.LoadText("manifests/api.yaml", DeploymentYaml).Resources];
    }

    private static ReportContext ScanContext()
    {
        var resources = Resources();
        var input = new[] { Diagnostic.Error("yaml-syntax", "manifests/bad.yaml:3:1: invalid YAML: mapping values are not allowed here", new SourceLocation("manifests/bad.yaml", 3, 1)) };
        var result = new Scanner(ScanPolicy.Default, CheckCatalog.Default, new FakeTimeProvider(Now)).Scan(resources, input);
        return new ReportContext(result, ScanPolicy.Default, CheckCatalog.Default, "1.2.3", Now, "/repo");
    }

    private static string Write(IReportWriter writer)
    {
        var sw = new StringWriter();
        writer.Write(ScanContext(), sw);
        return sw.ToString();
    }

    [Theory]
    [InlineData("json", "scan.json")]
    [InlineData("sarif", "scan.sarif")]
    [InlineData("junit", "scan.junit.xml")]
    [InlineData("table", "scan.table.txt")]
    [InlineData("wide", "scan.wide.txt")]
    public void ScanWriter_MatchesGolden(string format, string golden) =>
        Golden.AssertText(RepoPaths.TestData("report-writers", golden), Write(ReportWriters.For(format)));

    private static ComplianceReport Report()
    {
        var framework = FrameworkCatalog.Default.Find("cis")!;
        var builder = new EvidenceBuilder(ScanPolicy.Default, CheckCatalog.Default, new FakeTimeProvider(Now), "1.2.3", "/repo");
        var first = builder.Build(framework, new EvidenceInputs { Resources = Resources(), ResourceLabels = ["manifests"] });

        // The baseline: the same report a quarter earlier, with two controls' statuses changed.
        var baselineJson = ComplianceWriters.Json(first)
            .Replace("\"generatedAt\": \"2026-11-24T12:00:00Z\"", "\"generatedAt\": \"2026-08-24T12:00:00Z\"", StringComparison.Ordinal);
        var changed = 0;
        var lines = baselineJson.Split('\n');
        for (var i = 0; i < lines.Length && changed < 2; i++)
        {
            if (lines[i].Contains("\"status\": \"fail\"", StringComparison.Ordinal))
            {
                lines[i] = lines[i].Replace("\"status\": \"fail\"", "\"status\": \"pass\"", StringComparison.Ordinal);
                changed++;
            }
        }

        Assert.Equal(2, changed);
        var baseline = ComplianceBaseline.Read(string.Join('\n', lines));
        return builder.Build(framework, new EvidenceInputs { Resources = Resources(), ResourceLabels = ["manifests"], Baseline = baseline });
    }

    [Theory]
    [InlineData("json", "cis.json")]
    [InlineData("markdown", "cis.md")]
    [InlineData("csv", "cis.csv")]
    [InlineData("policyreport", "cis.policyreport.yaml")]
    [InlineData("html", "cis.html")]
    public void ComplianceWriter_MatchesGolden(string format, string golden)
    {
        var sw = new StringWriter();
        ComplianceWriters.For(format).Write(Report(), sw);
        Golden.AssertText(RepoPaths.TestData("report-writers", golden), sw.ToString());
    }

    [Fact]
    public void EvidenceBuilder_DigestCoversEveryInput_AndTheBaselineMustBeOfTheSameFramework()
    {
        var builder = new EvidenceBuilder(ScanPolicy.Default, CheckCatalog.Default, new FakeTimeProvider(Now), "1.2.3", "/repo");
        var cis = FrameworkCatalog.Default.Find("cis")!;
        var plain = builder.Build(cis, new EvidenceInputs { Resources = Resources() });
        var withConfig = builder.Build(cis, new EvidenceInputs { Resources = Resources(), Configuration = new EvidenceFile("skjold.yaml", "pss: {level: baseline}\n"u8.ToArray()) });

        Assert.StartsWith("sha256:", plain.InputDigest, StringComparison.Ordinal);
        Assert.NotEqual(plain.InputDigest, withConfig.InputDigest);
        Assert.Contains("skjold.yaml (configuration)", withConfig.Inputs);
        Assert.Equal(plain.InputDigest, builder.Build(cis, new EvidenceInputs { Resources = Resources() }).InputDigest);

        var nsa = ComplianceBaseline.Read(ComplianceWriters.Json(builder.Build(FrameworkCatalog.Default.Find("nsa")!, new EvidenceInputs { Resources = Resources() })));
        var wrong = Assert.Throws<EvidenceInputException>(() => builder.Build(cis, new EvidenceInputs { Resources = Resources(), Baseline = nsa }));
        Assert.Equal(EvidenceInputKind.Baseline, wrong.Kind);
        Assert.Contains("is a nsa report, not cis", wrong.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", "is not JSON (line 1)")]
    [InlineData("{\"findings\": []}", "is not a skjold node-check JSON report (no evaluatedChecks)")]
    [InlineData("{\"evaluatedChecks\": [], \"findings\": [{\"checkId\": \"node/1.1.1\"}]}", "is not a skjold node-check JSON report")]
    [InlineData("[]", "no evaluatedChecks")]
    public void NodeResults_ThatAreNotANodeCheckReport_AreRefusedNamingTheFile(string json, string expected)
    {
        var ex = Assert.Throws<EvidenceInputException>(() => NodeResults.Read(Encoding.UTF8.GetBytes(json), "node-1.json", CheckCatalog.Default));
        Assert.Equal(EvidenceInputKind.NodeResults, ex.Kind);
        Assert.StartsWith("node-1.json ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "not JSON (line 1)")]
    [InlineData("{\"kind\": \"List\"}", "not a Skjold compliance report")]
    [InlineData("{\"kind\": \"SkjoldComplianceReport\"}", "not a complete Skjold compliance report")]
    public void Baseline_ThatIsNotAReport_IsRefused(string json, string expected)
    {
        var ex = Assert.Throws<EvidenceInputException>(() => ComplianceBaseline.Read(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EvidenceBundle_Verifies_AndEveryAlterationIsInvalid_NotMalformed()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = key.ExportSubjectPublicKeyInfoPem();
        var bundle = EvidenceBundle.Create(Report(), key);

        var ok = EvidenceBundle.Verify(bundle, pem);
        Assert.Equal(EvidenceVerdict.Valid, ok.Verdict);
        Assert.Equal(ComplianceWriters.Json(Report()), Encoding.UTF8.GetString(ok.Payload!));
        Assert.Contains($"signed with key {EvidenceBundle.KeyIdOf(key)}", ok.Summary, StringComparison.Ordinal);

        Assert.Equal(EvidenceVerdict.Invalid, EvidenceBundle.Verify(bundle, other.ExportSubjectPublicKeyInfoPem()).Verdict);
        var sha = System.Text.Json.JsonDocument.Parse(bundle).RootElement.GetProperty("reportSha256").GetString()!;
        var digestEdited = bundle.Replace(sha, new string('0', sha.Length), StringComparison.Ordinal);
        Assert.Equal(EvidenceVerdict.Invalid, EvidenceBundle.Verify(digestEdited, pem).Verdict);
        var report = System.Text.Json.JsonDocument.Parse(bundle).RootElement.GetProperty("report").GetString()!;
        var forged = Convert.ToBase64String(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Convert.FromBase64String(report)).Replace("\"score\": ", "\"score\": 1", StringComparison.Ordinal)));
        var reportEdited = bundle.Replace(report, forged, StringComparison.Ordinal);
        Assert.Equal(EvidenceVerdict.Invalid, EvidenceBundle.Verify(reportEdited, pem).Verdict);

        Assert.Equal(EvidenceVerdict.Malformed, EvidenceBundle.Verify("garbage", pem).Verdict);
        Assert.Equal(EvidenceVerdict.Malformed, EvidenceBundle.Verify("{\"kind\":\"List\"}", pem).Verdict);
        Assert.Equal(EvidenceVerdict.Malformed, EvidenceBundle.Verify(bundle, "not a key").Verdict);
    }
}
