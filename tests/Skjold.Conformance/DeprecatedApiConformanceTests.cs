using System.Globalization;
using System.Text;
using Skjold.Engine;
using Skjold.Engine.Cluster;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Loading;
using Skjold.TestSupport;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Skjold.Conformance;

/// <summary>
/// Skjold's deprecated-API data against FairwindsOps/pluto's list (Kubernetes entries), and
/// kube-no-trouble's fixtures through <c>skjold scan</c>: every fixture with a deprecated or removed
/// API (in the object, or in its last-applied annotation) must yield an upgrade finding.
/// </summary>
public sealed class DeprecatedApiConformanceTests(ITestOutputHelper output)
{
    private static string Pluto => Path.Combine(RepoPaths.Peers, "deprecated-apis", "pluto", "versions.yaml");

    private static string Kubent => Path.Combine(RepoPaths.Peers, "deprecated-apis", "kubent", "fixtures");

    /// <summary>
    /// Where Skjold's data differs from pluto on purpose, with the reason (from the Kubernetes
    /// deprecation guide); these are counted as disagreements, not hidden.
    /// </summary>
    private static readonly Dictionary<(string, string), string> KnownDifferences = new()
    {
        [("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema")] = "no longer served as of 1.26 (pluto: 1.29)",
        [("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration")] = "no longer served as of 1.26 (pluto: 1.29)",
        [("flowcontrol.apiserver.k8s.io/v1beta1", "FlowControl")] = "not a kind; FlowSchema and PriorityLevelConfiguration are listed instead",
    };

    [Fact]
    public void DeprecatedApiData_AgreesWithPluto()
    {
        Assert.True(File.Exists(Pluto), $"pluto's versions.yaml not found at {Pluto}");
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Pluto))
        {
            yaml.Load(reader);
        }

        var ours = ReferenceData.DeprecatedApis.ToDictionary(a => (a.ApiVersion, a.Kind));
        var entries = ((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children["deprecated-versions"]).Children.Cast<YamlMappingNode>()
            .Where(e => S(e, "component") == "k8s")
            .Select(e => (ApiVersion: S(e, "version"), Kind: S(e, "kind"), Deprecated: Minor(S(e, "deprecated-in")), Removed: Minor(S(e, "removed-in"))))
            .Distinct()
            .ToList();

        int removedAgree = 0, deprecatedAgree = 0, viaList = 0;
        var report = new StringBuilder();
        var unexplained = new List<string>();
        foreach (var e in entries)
        {
            if (e.Kind.EndsWith("List", StringComparison.Ordinal) && ours.ContainsKey((e.ApiVersion, e.Kind[..^4])))
            {
                // Lists are expanded into their items by the loader; the item kind's entry applies.
                viaList++;
                removedAgree++;
                deprecatedAgree++;
                continue;
            }

            if (!ours.TryGetValue((e.ApiVersion, e.Kind), out var api))
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"missing: {e.ApiVersion} {e.Kind} (pluto: deprecated 1.{e.Deprecated}, removed 1.{e.Removed})");
                if (!KnownDifferences.ContainsKey((e.ApiVersion, e.Kind)))
                {
                    unexplained.Add($"{e.ApiVersion} {e.Kind} missing");
                }

                continue;
            }

            if (api.RemovedIn == e.Removed)
            {
                removedAgree++;
            }
            else
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"removed-in differs: {e.ApiVersion} {e.Kind}: skjold 1.{api.RemovedIn}, pluto 1.{e.Removed}");
                if (!KnownDifferences.ContainsKey((e.ApiVersion, e.Kind)))
                {
                    unexplained.Add($"{e.ApiVersion} {e.Kind} removed-in");
                }
            }

            if (api.DeprecatedIn == e.Deprecated)
            {
                deprecatedAgree++;
            }
            else
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"deprecated-in differs: {e.ApiVersion} {e.Kind}: skjold 1.{api.DeprecatedIn}, pluto {(e.Deprecated is null ? "(none)" : "1." + e.Deprecated)}");
            }
        }

        var summary = $"Deprecated APIs vs pluto (Kubernetes entries): {entries.Count} entries; removed-in agrees on {removedAgree}/{entries.Count} " +
            $"({100.0 * removedAgree / entries.Count:F1}%), deprecated-in on {deprecatedAgree}/{entries.Count} ({100.0 * deprecatedAgree / entries.Count:F1}%); " +
            $"{viaList} *List kinds covered through list expansion";
        output.WriteLine(summary);
        output.WriteLine(report.ToString());
        WriteArtifact("deprecated-apis-conformance.txt", summary + "\n" + report);

        // Removal versions decide whether an upgrade breaks: every disagreement must be a known, explained one.
        Assert.Empty(unexplained);
    }

    [Fact]
    public void KubentFixtures_YieldUpgradeFindings()
    {
        Assert.True(Directory.Exists(Kubent), $"kubent fixtures not found at {Kubent}");
        var loader = new ManifestLoader();
        var scanner = new Scanner(ScanPolicy.Default); // target: the newest known Kubernetes release
        int total = 0, agreed = 0;
        var report = new StringBuilder();
        foreach (var file in Directory.GetFiles(Kubent).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || (f.EndsWith(".json", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith("expected", StringComparison.Ordinal))).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            var loaded = loader.LoadPaths([file]);
            Assert.DoesNotContain(loaded.Diagnostics, d => d.Level == Engine.Model.DiagnosticLevel.Error);
            var findings = scanner.Scan(loaded.Resources).Findings.Where(f => f.CheckId.StartsWith("upgrade/", StringComparison.Ordinal)).ToList();

            // Out of scope: add-on APIs (cert-manager, external-snapshotter CRDs) versioned by their own projects.
            var addOn = loaded.Resources.All(r => r.Ref.ApiVersion.StartsWith("cert-manager.io/", StringComparison.Ordinal) || r.Ref.ApiVersion.StartsWith("snapshot.storage.k8s.io/", StringComparison.Ordinal));
            var expectFinding = !name.Contains("no-annotation", StringComparison.Ordinal) && !addOn;
            var ok = expectFinding == (findings.Count > 0);
            if (addOn)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"out of scope (add-on API): {name}");
                continue;
            }

            total++;
            if (ok)
            {
                agreed++;
            }
            else
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"DISAGREE {name}: expected {(expectFinding ? "a finding" : "none")}, got {findings.Count}");
            }
        }

        var summary = $"kube-no-trouble fixtures: {agreed}/{total} agree ({100.0 * agreed / total:F1}%)";
        output.WriteLine(summary);
        output.WriteLine(report.ToString());
        WriteArtifact("kubent-conformance.txt", summary + "\n" + report);
        Assert.Equal(total, agreed);
    }

    private static void WriteArtifact(string name, string text) => File.WriteAllText(RepoPaths.Artifact(name), text);

    private static int? Minor(string version) =>
        version.Length == 0 ? null : int.Parse(version.TrimStart('v').Split('.')[1], CultureInfo.InvariantCulture);

    private static string S(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(key, out var v) && v is YamlScalarNode s ? s.Value ?? string.Empty : string.Empty;
}
