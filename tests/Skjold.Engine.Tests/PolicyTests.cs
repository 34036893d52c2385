using Microsoft.Extensions.Time.Testing;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

public sealed class PolicyTests
{
    private const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: legacy-agent
          namespace: legacy
          labels: {team: ops}
        spec:
          containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
        """;

    private static ScanPolicy Parse(string yaml) => ConfigParser.Parse(yaml, "skjold.yaml", CheckCatalog.Default);

    [Fact]
    public void Parse_FullConfig()
    {
        var policy = Parse("""
            pss:
              level: baseline
              version: v1.29
            checks:
              disable: [wl/replicas, wl/image-*]
              enable: []
              severity:
                wl/memory-limit: high
            registries:
              trusted: [registry.example.com]
            exemptions:
              - checks: [pss/privileged]
                namespaces: [legacy]
                reason: Node agent, reviewed in RISK-7
                expires: 2030-01-01
            """);
        Assert.Equal(PssLevel.Baseline, policy.PssLevel);
        Assert.Equal(29, policy.PssVersion.Minor);
        Assert.False(policy.IsEnabled(CheckCatalog.Default["wl/replicas"]));
        Assert.False(policy.IsEnabled(CheckCatalog.Default["wl/image-tag"]));
        Assert.True(policy.IsEnabled(CheckCatalog.Default["wl/memory-limit"]));
        Assert.Equal(Severity.High, policy.SeverityOf(CheckCatalog.Default["wl/memory-limit"]));
        Assert.Equal(["registry.example.com"], policy.TrustedRegistries);
        Assert.Single(policy.Exemptions);
    }

    [Theory]
    [InlineData("pss:\n  levle: baseline\n", 2, "unknown key 'levle'")]
    [InlineData("pss:\n  level: strict\n", 2, "pss.level: 'strict' is not a level")]
    [InlineData("pss:\n  version: v2.0\n", 2, "pss.version")]
    [InlineData("checks:\n  disable: [wl/nope]\n", 2, "unknown check 'wl/nope'")]
    [InlineData("checks:\n  severity:\n    wl/replicas: urgent\n", 3, "'urgent' is not a severity")]
    [InlineData("exemptions:\n  - checks: [pss/privileged]\n    namespaces: [x]\n", 2, "needs a reason")]
    [InlineData("exemptions:\n  - checks: [pss/privileged]\n    reason: r\n    expires: next week\n", 4, "is not a date")]
    [InlineData("registries:\n  trusted: registry.example.com\n", 2, "expected a list")]
    [InlineData("pss: [\n", 2, "not valid YAML")]
    [InlineData("- a\n- b\n", 1, "top level must be a mapping")]
    public void Parse_InvalidConfig_NamesKeyAndLine(string yaml, int line, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => Parse(yaml));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(line, ex.Location!.Value.Line);
        Assert.Equal("skjold.yaml", ex.Location!.Value.File);
    }

    [Fact]
    public void Parse_CollectsEveryProblem_WithItsLine_NotOnlyTheFirst()
    {
        const string Yaml = """
            pss:
              level: strict
            checks:
              disable: [wl/nope, wl/replicas, wl/also-nope]
              severity:
                wl/replicas: urgent
            typo: 1
            registries:
              trusted: ["", registry.example.com]
            exemptions:
              - checks: [pss/privileged]
                namespaces: [x]
              - checks: [pss/privileged]
                reason: fine
                expires: next week
            """;
        var ex = Assert.Throws<ConfigException>(() => Parse(Yaml));
        var problems = ex.Errors.Select(e => (e.Location!.Value.Line, e.Detail!)).ToList();
        Assert.Contains(problems, p => p.Line == 2 && p.Item2.Contains("'strict' is not a level", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 4 && p.Item2.Contains("unknown check 'wl/nope'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 4 && p.Item2.Contains("unknown check 'wl/also-nope'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 6 && p.Item2.Contains("'urgent' is not a severity", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 7 && p.Item2.Contains("unknown key 'typo'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 9 && p.Item2.Contains("an entry is empty", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 11 && p.Item2.Contains("needs a reason", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Line == 15 && p.Item2.Contains("is not a date", StringComparison.Ordinal));
        Assert.Equal(8, ex.Errors.Count);
        Assert.Contains("(and 7 more problems)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Location!.Value.Line); // the exception itself points at the first
    }

    [Fact]
    public void Parse_EmptyFile_IsDefaultPolicy()
    {
        var policy = Parse("# nothing here\n");
        Assert.Equal(PssLevel.Restricted, policy.PssLevel);
        Assert.True(policy.PssVersion.IsLatest);
    }

    [Fact]
    public void Exemption_ByNamespace_SuppressesWithReason()
    {
        var policy = Parse("""
            exemptions:
              - checks: [pss/privileged]
                namespaces: [legacy]
                reason: Node agent, reviewed in RISK-7
            """);
        var result = Scans.Scan(PrivilegedPod, policy);
        Assert.DoesNotContain("pss/privileged", result.Ids());
        var s = Assert.Single(result.Suppressed, x => x.Finding.CheckId == "pss/privileged");
        Assert.Equal("Node agent, reviewed in RISK-7", s.Reason);
        Assert.StartsWith("skjold.yaml:2", s.Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kinds: [Pod]", true)]
    [InlineData("kinds: [Deployment]", false)]
    [InlineData("names: [legacy-*]", true)]
    [InlineData("names: [other]", false)]
    [InlineData("selector: {matchLabels: {team: ops}}", true)]
    [InlineData("selector: {matchExpressions: [{key: team, operator: In, values: [dev]}]}", false)]
    [InlineData("selector: {matchExpressions: [{key: team, operator: Exists}]}", true)]
    public void Exemption_CriteriaMustAllMatch(string criterion, bool exempt)
    {
        var policy = Parse($"exemptions:\n  - checks: [\"pss/*\"]\n    namespaces: [legacy]\n    {criterion}\n    reason: test\n");
        Assert.Equal(!exempt, Scans.Scan(PrivilegedPod, policy).Ids().Contains("pss/privileged"));
    }

    [Fact]
    public void Exemption_Expired_NoLongerAppliesAndIsReported()
    {
        var policy = Parse("""
            exemptions:
              - checks: [pss/privileged]
                namespaces: [legacy]
                reason: Temporary, until the agent is rebuilt
                expires: 2026-06-30
            """);
        var before = new FakeTimeProvider(new DateTimeOffset(2026, 6, 30, 23, 0, 0, TimeSpan.Zero));
        Assert.DoesNotContain("pss/privileged", Scans.Scan(PrivilegedPod, policy, before).Ids());
        Assert.DoesNotContain("config/exemption-expired", Scans.Scan(PrivilegedPod, policy, before).Ids());

        var after = new FakeTimeProvider(new DateTimeOffset(2026, 7, 1, 0, 0, 1, TimeSpan.Zero));
        var result = Scans.Scan(PrivilegedPod, policy, after);
        Assert.Contains("pss/privileged", result.Ids());
        var expired = Assert.Single(result.Findings, f => f.CheckId == "config/exemption-expired");
        Assert.Equal(2, expired.Location!.Value.Line);
        Assert.Contains("2026-06-30", expired.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InlineSuppression_WithReason_Suppresses()
    {
        var yaml = PrivilegedPod.Replace("  labels: {team: ops}", "  labels: {team: ops}\n  annotations:\n    skjold.io/suppress: \"pss/privileged, wl/*\"\n    skjold.io/suppress-reason: Vendor agent, see RISK-9", StringComparison.Ordinal);
        var result = Scans.Scan(yaml);
        Assert.DoesNotContain("pss/privileged", result.Ids());
        Assert.Empty(result.Ids("wl/"));
        Assert.Contains(result.Suppressed, s => s.Finding.CheckId == "pss/privileged" && s.Reason == "Vendor agent, see RISK-9");
    }

    [Fact]
    public void InlineSuppression_WithoutReason_IgnoredWithWarning()
    {
        var yaml = PrivilegedPod.Replace("  labels: {team: ops}", "  labels: {team: ops}\n  annotations:\n    skjold.io/suppress: pss/privileged", StringComparison.Ordinal);
        var result = Scans.Scan(yaml);
        Assert.Contains("pss/privileged", result.Ids());
        Assert.Contains(result.Diagnostics, d => d.Code == "suppress-without-reason" && d.Level == DiagnosticLevel.Warning);
    }

    [Fact]
    public void SeverityOverride_AppliesToFindings()
    {
        var policy = Parse("checks:\n  severity:\n    pss/privileged: low\n");
        Assert.Equal(Severity.Low, Assert.Single(Scans.Scan(PrivilegedPod, policy).Findings, f => f.CheckId == "pss/privileged").Severity);
    }

    [Fact]
    public void Catalog_EveryImplementedCheckHasMetadataAndViceVersa()
    {
        var implemented = Scanner.ImplementedCheckIds.Concat(Node.NodeEvaluator.RuleIds).Concat(Scanner.HostCheckIds).ToHashSet(StringComparer.Ordinal);
        var cataloged = CheckCatalog.Default.All.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(implemented.Except(cataloged));
        Assert.Empty(cataloged.Except(implemented));
        Assert.All(CheckCatalog.Default.All, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Title));
            Assert.False(string.IsNullOrWhiteSpace(c.Description));
            Assert.False(string.IsNullOrWhiteSpace(c.Remediation));
        });
    }

    [Fact]
    public void Catalog_Parse_RejectsDuplicatesAndBadSeverity()
    {
        Assert.Contains("duplicate id 'a'", Assert.Throws<FormatException>(() => CheckCatalog.Parse("checks:\n- {id: a, title: t, severity: low, remediation: r, reads: [Pod]}\n- {id: a, title: t, severity: low, remediation: r, reads: [Pod]}\n")).Message, StringComparison.Ordinal);
        Assert.Contains("severity 'bad'", Assert.Throws<FormatException>(() => CheckCatalog.Parse("checks:\n- {id: a, title: t, severity: bad, remediation: r, reads: [Pod]}\n")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{id: a, title: t, severity: low, remediation: r}", "needs reads:")]
    [InlineData("{id: a, title: t, severity: low, remediation: r, reads: [pods]}", "reads 'pods', which is neither a kind")]
    [InlineData("{id: a, title: t, severity: low, remediation: r, reads: [Pod], requires: [magic]}", "requires 'magic'")]
    public void Catalog_Parse_RequiresWhatEachCheckReads(string entry, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => CheckCatalog.Parse("checks:\n- " + entry + "\n")).Message, StringComparison.Ordinal);

    [Fact]
    public void Catalog_EveryImplementedCheckDeclaresWhatItReads_NodeChecksReadNodes()
    {
        foreach (var id in Scanner.ImplementedCheckIds)
        {
            var meta = CheckCatalog.Default[id];
            Assert.True(meta.Reads.Count > 0 || meta.Requires.Count > 0, id);
            Assert.DoesNotContain(CheckMetadata.NodeCheck, meta.Reads);
            Assert.All(meta.Reads, k => Assert.True(k == CheckMetadata.AnyKind || char.IsUpper(k[0]), $"{id} reads {k}"));
        }

        foreach (var id in Node.NodeEvaluator.RuleIds)
        {
            Assert.Equal([CheckMetadata.NodeCheck], CheckCatalog.Default[id].Reads);
        }

        // Groups expand to kinds.
        Assert.Contains("CronJob", CheckCatalog.Default["wl/image-tag"].Reads);
        Assert.Contains("ClusterRoleBinding", CheckCatalog.Default["rbac/wildcard"].Reads);
    }

    [Fact]
    public void EvaluatedChecks_FollowWhatTheCatalogSaysEachReads()
    {
        var scanner = new Scanner(ScanPolicy.Default);
        var onlyService = Scans.Load("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {type: LoadBalancer}\n");
        var evaluated = scanner.EvaluatedChecks(onlyService);
        Assert.Contains("wl/service-exposed", evaluated);
        Assert.Contains("upgrade/removed-api", evaluated); // reads any object
        Assert.DoesNotContain("wl/image-tag", evaluated); // no workload: an image check did not run
        Assert.DoesNotContain("rbac/wildcard", evaluated);
        Assert.DoesNotContain("config/exemption-expired", evaluated); // requires exemptions
        Assert.DoesNotContain("wl/trusted-registry", evaluated); // requires a trusted list (and workloads)

        var pod = Scans.Load("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, image: x}]}\n");
        Assert.Contains("wl/image-tag", scanner.EvaluatedChecks(pod));
        Assert.Contains("pss/runAsNonRoot", scanner.EvaluatedChecks(pod)); // restricted by default
        var baseline = new Scanner(new ScanPolicy(Skjold.Engine.Pss.PssLevel.Baseline, Scans.Version("latest")));
        Assert.DoesNotContain("pss/runAsNonRoot", baseline.EvaluatedChecks(pod)); // requires pss-level: not at baseline
        Assert.Contains("pss/privileged", baseline.EvaluatedChecks(pod));
        Assert.Empty(scanner.EvaluatedChecks([])); // nothing read, nothing evaluated (no exemptions or destinations configured)
    }

    [Fact]
    public void Scanner_WithInjectedChecks_RunsOnlyThose_SuppressionsStillApply()
    {
        const string Yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              namespace: a
              annotations: {skjold.io/suppress: wl/image-digest, skjold.io/suppress-reason: test}
            spec: {containers: [{name: c, image: "x:1", securityContext: {privileged: true}}]}
            """;
        var only = new Scanner(ScanPolicy.Default, CheckCatalog.Default, null, [new Workloads.ImageTagCheck(), new Workloads.ImageDigestCheck()], [], podSecurity: false);
        var result = only.Scan(Scans.Load(Yaml));
        Assert.Empty(result.Findings); // x:1 has a tag; the digest finding is waived; no PSS, no other checks
        Assert.Equal("wl/image-digest", Assert.Single(result.Suppressed).Finding.CheckId);
        Assert.Contains(new Scanner(ScanPolicy.Default).Scan(Scans.Load(Yaml)).Findings, f => f.CheckId == "pss/privileged");
    }

    [Fact]
    public void PssOverride_GivenLevelAndVersion_ReplaceTheConfigured_NullKeepsThem()
    {
        var configured = Parse("pss:\n  level: baseline\n  version: v1.30\n");
        Assert.True(PssOverride.TryApply(configured, "restricted", "v1.28", out var both, out var error));
        Assert.Null(error);
        Assert.Equal(PssLevel.Restricted, both.PssLevel);
        Assert.Equal(28, both.PssVersion.Minor);
        Assert.True(PssOverride.TryApply(configured, null, null, out var kept, out _));
        Assert.Equal(PssLevel.Baseline, kept.PssLevel);
        Assert.Equal(30, kept.PssVersion.Minor);
    }

    [Theory]
    [InlineData("strict", null, "Pod Security level")]
    [InlineData(null, "1.x", "Pod Security version")]
    [InlineData("baseline", "v2.0", "Pod Security version")]
    public void PssOverride_NotALevelOrVersion_RefusedWithTheProblem(string? level, string? version, string problem)
    {
        Assert.False(PssOverride.TryApply(ScanPolicy.Default, level, version, out var result, out var error));
        Assert.Same(ScanPolicy.Default, result);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void SeverityList_ParsesCommaSeparated_AndNamesTheFirstUnknown()
    {
        Assert.True(SeverityNames.TryParseList(" critical, HIGH ,,", out var set, out var unknown));
        Assert.Null(unknown);
        Assert.Equal(new HashSet<Severity> { Severity.Critical, Severity.High }, set);
        Assert.False(SeverityNames.TryParseList("high,severe,bogus", out _, out unknown));
        Assert.Equal("severe", unknown);
    }
}
