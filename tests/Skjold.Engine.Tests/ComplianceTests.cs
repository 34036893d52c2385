using System.Globalization;
using Skjold.Engine.Checks;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

public sealed class ComplianceTests
{
    [Fact]
    public void EveryCheckMapsToControls_AndEveryControlIdIsInItsCatalog()
    {
        var catalog = FrameworkCatalog.Default; // loading fails on a control id not in its framework
        Assert.Equal(["cis", "nsa", "iso27001", "gdpr", "nsm", "pci-dss", "nis2"], catalog.Frameworks.Select(f => f.Id));
        foreach (var check in CheckCatalog.Default.All)
        {
            Assert.True(check.Controls.Values.Sum(v => v.Count) > 0, $"{check.Id} maps to no control");
            foreach (var (fw, ids) in check.Controls)
            {
                var framework = catalog.Find(fw);
                Assert.True(framework is not null, $"{check.Id}: unknown framework {fw}");
                Assert.All(ids, id => Assert.True(framework!.Control(id) is not null, $"{check.Id}: {fw} has no control {id}"));
            }
        }
    }

    [Fact]
    public void ControlTitlesAreSkjoldsOwn_NotTheReferenceText()
    {
        var reference = new Dictionary<string, (string File, string IdColumn, string TitleColumn)>
        {
            ["cis"] = ("cis-kubernetes-v1.12-recommendations.csv", "id", "title"),
            ["iso27001"] = ("iso27001-2022-annexA-container-relevant.csv", "control_id", "title"),
            ["pci-dss"] = ("pci-dss-v4-k8s-relevant.csv", "req", "paraphrased_short_title"),
            ["gdpr"] = ("gdpr-articles-relevant.csv", "article", "title"),
            ["nis2"] = ("nis2-art21-2-measures.csv", "id", "short_title"),
            ["nsm"] = ("nsm-grunnprinsipper-ikt-v2.1-principles.csv", "principle_id", "title_en_unofficial"),
        };
        foreach (var (fw, (file, idColumn, titleColumn)) in reference)
        {
            var rows = Csv(Path.Combine(RepoPaths.Shared, "catalogs", file));
            var framework = FrameworkCatalog.Default.Find(fw)!;
            var ids = rows.Select(r => r[idColumn]).ToHashSet(StringComparer.Ordinal);
            Assert.Equal(ids.Order(StringComparer.Ordinal), framework.Controls.Select(c => c.Id).Order(StringComparer.Ordinal));
            var same = framework.Controls.Where(c => rows.Any(r => r[idColumn] == c.Id && string.Equals(r[titleColumn], c.Title, StringComparison.OrdinalIgnoreCase))).Select(c => c.Id).ToList();
            // A handful of two-word titles can coincide ("Incident handling"); whole catalogs must not.
            Assert.True(same.Count <= 3, $"{fw}: titles copied from the reference: {string.Join(", ", same)}");
        }
    }

    private static List<Dictionary<string, string>> Csv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = Split(lines[0]);
        return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => header.Zip(Split(l)).ToDictionary(x => x.First, x => x.Second))];
    }

    private static List<string> Split(string line)
    {
        var result = new List<string>();
        var sb = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var ch in line)
        {
            if (ch == '"')
            {
                quoted = !quoted;
            }
            else if (ch == ',' && !quoted)
            {
                result.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(ch);
            }
        }

        result.Add(sb.ToString());
        return result;
    }

    private static Finding F(string checkId) =>
        new(checkId, Severity.High, new ResourceRef("v1", "Pod", "a", "p"), "spec", "msg", "fix", null);

    [Fact]
    public void Statuses_PassPartialFailManualNotApplicable_AndTheScore()
    {
        var fw = FrameworkCatalog.Default.Find("cis")!;
        // 5.2.7 maps pss/runAsNonRoot and pss/runAsUser; 5.2.2 pss/privileged; 5.2.6 allowPrivilegeEscalation.
        var evaluated = new HashSet<string> { "pss/runAsNonRoot", "pss/runAsUser", "pss/privileged", "pss/allowPrivilegeEscalation" };
        var findings = new[] { F("pss/runAsNonRoot"), F("pss/privileged") };
        var policy = ConfigParser.Parse("""
            attestations:
              - {framework: cis, control: "5.3.1", by: A. Auditor, date: 2026-10-01, validDays: 90, evidence: "https://evidence.example/1"}
              - {framework: cis, control: "5.4.2", by: A. Auditor, date: 2025-01-01, validDays: 30, evidence: "https://evidence.example/2"}
            """, "skjold.yaml", CheckCatalog.Default);
        var now = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        var report = ComplianceEvaluator.Evaluate(fw, findings, [], evaluated, policy, CheckCatalog.Default, now, "test", "sha256:x", ["in"]);
        ControlStatus Of(string id) => report.Controls.Single(c => c.Control.Id == id).Status;

        Assert.Equal(ControlStatus.Partial, Of("5.2.7"));
        Assert.Equal(ControlStatus.Fail, Of("5.2.2"));
        Assert.Equal(ControlStatus.Pass, Of("5.2.6"));
        Assert.Equal(ControlStatus.NotApplicable, Of("1.2.15")); // node check, no node results
        Assert.Equal(ControlStatus.Manual, Of("5.3.1"));
        Assert.Equal("valid", report.Controls.Single(c => c.Control.Id == "5.3.1").AttestationState(DateOnly.FromDateTime(now.UtcDateTime)));
        Assert.Equal("expired", report.Controls.Single(c => c.Control.Id == "5.4.2").AttestationState(DateOnly.FromDateTime(now.UtcDateTime)));

        // Score: (pass + ½ partial + valid attestations) / (pass + partial + fail + manual) × 100.
        var pass = report.Count(ControlStatus.Pass);
        var partial = report.Count(ControlStatus.Partial);
        var counted = pass + partial + report.Count(ControlStatus.Fail) + report.Count(ControlStatus.Manual);
        Assert.Equal(Math.Round(100.0 * (pass + (0.5 * partial) + 1) / counted, 1), report.Score);
    }

    [Fact]
    public void Baseline_DiffSaysWhatGotBetterAndWorse()
    {
        var fw = FrameworkCatalog.Default.Find("cis")!;
        var evaluated = new HashSet<string> { "pss/privileged", "pss/allowPrivilegeEscalation" };
        var before = new Dictionary<string, string> { ["5.2.2"] = "pass", ["5.2.6"] = "fail" };
        var report = ComplianceEvaluator.Evaluate(fw, [F("pss/privileged")], [], evaluated, ScanPolicy.Default, CheckCatalog.Default,
            DateTimeOffset.UnixEpoch, "t", "d", [], (DateTimeOffset.UnixEpoch, 10, before));
        Assert.Equal([("5.2.6", "fail", "pass")], report.Diff!.Better);
        Assert.Equal([("5.2.2", "pass", "fail")], report.Diff!.Worse);
    }

    [Fact]
    public void Baseline_CoverageChanges_AreNeitherBetterNorWorse()
    {
        var fw = FrameworkCatalog.Default.Find("cis")!;
        var evaluated = new HashSet<string> { "pss/privileged", "pss/allowPrivilegeEscalation" };

        // Measured now on other inputs: a control evaluated before is not applicable now, and one not
        // applicable before is evaluated (and failing) now.
        var now = ComplianceEvaluator.Evaluate(fw, [F("pss/privileged")], [], evaluated, ScanPolicy.Default, CheckCatalog.Default, DateTimeOffset.UnixEpoch, "t", "sha256:new", []);
        var evaluatedNow = now.Controls.Where(c => c.Status is ControlStatus.Pass or ControlStatus.Fail or ControlStatus.Partial).Select(c => c.Control.Id).ToList();
        var notApplicableNow = now.Controls.First(c => c.Status == ControlStatus.NotApplicable).Control.Id;
        var failingNow = now.Controls.First(c => c.Status == ControlStatus.Fail).Control.Id;
        var before = new Dictionary<string, string> { [failingNow] = "not applicable", [notApplicableNow] = "pass" };
        foreach (var id in evaluatedNow.Where(i => i != failingNow))
        {
            before[id] = ComplianceReport.StatusName(now.Controls.Single(c => c.Control.Id == id).Status);
        }

        var report = ComplianceEvaluator.Evaluate(fw, [F("pss/privileged")], [], evaluated, ScanPolicy.Default, CheckCatalog.Default,
            DateTimeOffset.UnixEpoch, "t", "sha256:new", [], (DateTimeOffset.UnixEpoch, 50, before), "sha256:old");

        Assert.Empty(report.Diff!.Worse);
        Assert.Empty(report.Diff.Better);
        Assert.Contains((failingNow, "not applicable", "fail"), report.Diff.CoverageChanged);
        Assert.Contains((notApplicableNow, "pass", "not applicable"), report.Diff.CoverageChanged);
        Assert.True(report.Diff.InputsDiffer);

        var same = ComplianceEvaluator.Evaluate(fw, [F("pss/privileged")], [], evaluated, ScanPolicy.Default, CheckCatalog.Default,
            DateTimeOffset.UnixEpoch, "t", "sha256:new", [], (DateTimeOffset.UnixEpoch, 50, before), "sha256:new");
        Assert.False(same.Diff!.InputsDiffer);
    }

    [Theory]
    [InlineData("attestations:\n  - {framework: sox, control: '1', by: x, date: 2026-01-01, evidence: e}", "unknown framework 'sox'")]
    [InlineData("attestations:\n  - {framework: iso27001, control: '9.99', by: x, date: 2026-01-01, evidence: e}", "'9.99' is not a control of iso27001")]
    [InlineData("attestations:\n  - {framework: iso27001, control: '5.24', by: x, date: 01.01.2026, evidence: e}", "is not a date")]
    [InlineData("attestations:\n  - {framework: iso27001, control: '5.24', date: 2026-01-01, evidence: e}", "needs framework, control, by, date and evidence")]
    public void Attestations_BadEntriesAreClearErrors(string yaml, string message)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigParser.Parse(yaml, "skjold.yaml", CheckCatalog.Default));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EvaluatedChecks_DependOnTheKindsInTheInput()
    {
        var onlyPods = Scans.Load("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: a}]}\n");
        var set = new Scanner(ScanPolicy.Default).EvaluatedChecks(onlyPods);
        Assert.Contains("pss/privileged", set);
        Assert.DoesNotContain("rbac/cluster-admin-binding", set); // no RBAC objects: not a pass
        Assert.DoesNotContain("residency/node-region", set);
        Assert.DoesNotContain("residency/global-registry", set); // disabled by default
        _ = CultureInfo.InvariantCulture;
    }

    [Fact]
    public void EvaluatedChecks_InactiveChecksAreNotEvaluated()
    {
        var pods = Scans.Load("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: a}]}\n");

        // No trusted-registry list: the check does nothing, so it did not pass either.
        Assert.DoesNotContain("wl/trusted-registry", new Scanner(ScanPolicy.Default).EvaluatedChecks(pods));
        var trusting = ConfigParser.Parse("registries:\n  trusted: [registry.example.com]\n", "skjold.yaml", CheckCatalog.Default);
        Assert.Contains("wl/trusted-registry", new Scanner(trusting).EvaluatedChecks(pods));

        // Pod Security checks run at the policy's level and version only.
        var baseline = new Scanner(new ScanPolicy(PssLevel.Baseline, PssVersion.Latest)).EvaluatedChecks(pods);
        Assert.Contains("pss/privileged", baseline);
        Assert.DoesNotContain("pss/runAsNonRoot", baseline);
        Assert.DoesNotContain(new Scanner(new ScanPolicy(PssLevel.Privileged, PssVersion.Latest)).EvaluatedChecks(pods), c => c.StartsWith("pss/", StringComparison.Ordinal));
        var restricted = new Scanner(ScanPolicy.Default).EvaluatedChecks(pods);
        Assert.Contains("pss/capabilities_restricted", restricted);
        Assert.DoesNotContain("pss/capabilities_baseline", restricted); // replaced at restricted
        Assert.DoesNotContain("pss/procMount_restricted", new Scanner(new ScanPolicy(PssLevel.Restricted, Scans.Version("v1.30"))).EvaluatedChecks(pods));

        // A control whose only check is inactive is not a pass.
        var fw = FrameworkCatalog.Default.Find("cis")!;
        var evaluated = new Scanner(ScanPolicy.Default).EvaluatedChecks(pods);
        var report = ComplianceEvaluator.Evaluate(fw, [], [], evaluated, ScanPolicy.Default, CheckCatalog.Default, DateTimeOffset.UnixEpoch, "t", "sha256:x", ["in"]);
        Assert.Equal(ControlStatus.NotApplicable, report.Controls.Single(c => c.Control.Id == "5.5.1").Status);
    }
}
