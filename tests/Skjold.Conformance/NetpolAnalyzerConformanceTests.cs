using System.Globalization;
using System.Text;
using Skjold.Engine.Network;
using Skjold.Kubernetes.Loading;
using Skjold.TestSupport;
using Xunit.Abstractions;

namespace Skjold.Conformance;

/// <summary>
/// Runs the connectivity cases of np-guard's netpol-analyzer (inputs in tests/, expected lists in
/// test_outputs/connlist/&lt;case&gt;_connlist_output.txt) that fall in Skjold's scope: NetworkPolicy
/// v1 over pods, workloads and namespaces. Cases that need AdminNetworkPolicy, user-defined
/// networks, virtual machines, OpenShift routes or ingress controllers are out of scope and
/// counted as such. A case agrees when Skjold's connectivity list equals the expected one line
/// for line. The agreement count and each disagreement go to artifacts/netpol-conformance.txt.
/// </summary>
public sealed class NetpolAnalyzerConformanceTests(ITestOutputHelper output)
{
    private static string Root => Path.Combine(RepoPaths.Peers, "netpol-analyzer");

    /// <summary>Disagreements understood and explained (see docs/network.md); every other one fails the test.</summary>
    private const string OwnerWithoutKind =
        "pods whose ownerReference has no kind: netpol-analyzer merges them by owner name into one workload (internal-security[Pod]) " +
        "although their labels differ; Skjold keeps each pod separate, and each of their lines corresponds to ours for both pods";

    internal static readonly Dictionary<string, string> Explained = new(StringComparer.Ordinal)
    {
        ["example_pods_w_same_owner_and_labels_gap_no_policy"] = OwnerWithoutKind,
        ["example_pods_w_same_owner_and_labels_gap_with_good_match_expression"] = OwnerWithoutKind,
        ["example_pods_w_same_owner_and_labels_gap_with_good_match_expression2"] = OwnerWithoutKind,
        ["example_pods_w_same_owner_and_labels_gap_with_policy_selector_not_in_gap"] = OwnerWithoutKind,
    };

    [Fact]
    public void ConnectivityLists_AgreeWithNetpolAnalyzer()
    {
        var expectedDir = Path.Combine(Root, "test_outputs", "connlist");
        Assert.True(Directory.Exists(expectedDir), $"netpol-analyzer outputs not found at {expectedDir}");
        var loader = new ManifestLoader();
        int total = 0, agreed = 0, outOfScope = 0, agreedTreatingHostNetworkAsPods = 0;
        var report = new StringBuilder();
        var unexplained = new List<string>();
        foreach (var file in Directory.GetFiles(expectedDir, "*_connlist_output.txt").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file)[..^"_connlist_output.txt".Length];
            var input = Path.Combine(Root, "tests", name);
            var expected = File.ReadAllLines(file).Where(l => l.Length > 0).ToList();
            var reason = OutOfScope(name, input, expected);
            if (reason is not null)
            {
                outOfScope++;
                report.AppendLine(CultureInfo.InvariantCulture, $"out of scope: {name}: {reason}");
                continue;
            }

            total++;
            var loaded = loader.LoadPaths([input]);
            var model = NetworkModel.Build(loaded.Resources);
            var actual = ConnectivityList.Build(model).Select(c => c.ToString()).ToList();
            var asPods = ConnectivityList.Build(NetworkModel.Build(loaded.Resources, hostNetworkOutsidePolicy: false)).Select(c => c.ToString()).ToList();
            if (asPods.Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal)))
            {
                agreedTreatingHostNetworkAsPods++;
            }

            var missing = expected.Except(actual).ToList();
            var extra = actual.Except(expected).ToList();
            if (missing.Count == 0 && extra.Count == 0)
            {
                agreed++;
                continue;
            }

            var why = Explained.GetValueOrDefault(name);
            if (why is null && UsesHostNetwork(input) && asPods.Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal)))
            {
                why = "host-network pods: netpol-analyzer applies policies to them, Skjold (like Kubernetes' common plugins) treats them as outside NetworkPolicy; with that one difference removed the lists are identical";
            }

            report.AppendLine(CultureInfo.InvariantCulture, $"DISAGREE {name}: {missing.Count} expected lines missing, {extra.Count} unexpected{(why is null ? string.Empty : " (explained: " + why + ")")}");
            foreach (var l in missing.Take(5))
            {
                report.AppendLine("    - " + l);
            }

            foreach (var l in extra.Take(5))
            {
                report.AppendLine("    + " + l);
            }

            if (why is null)
            {
                unexplained.Add(name);
            }
        }

        var summary = $"netpol-analyzer connectivity lists: {agreed}/{total} in-scope cases agree ({100.0 * agreed / Math.Max(total, 1):F1}%); " +
            $"{agreedTreatingHostNetworkAsPods}/{total} when host-network pods are treated as ordinary pods as netpol-analyzer does; {outOfScope} cases out of scope";
        output.WriteLine(summary);
        output.WriteLine(report.ToString());
        File.WriteAllText(RepoPaths.Artifact("netpol-conformance.txt"), summary + "\n" + report);
        Assert.True(unexplained.Count == 0, "unexplained disagreements: " + string.Join(", ", unexplained) + "\n" + report);
    }

    private static bool UsesHostNetwork(string input) =>
        Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Any(f => File.ReadAllText(f).Contains("hostNetwork", StringComparison.Ordinal));

    private static string? OutOfScope(string name, string input, List<string> expected)
    {
        if (!Directory.Exists(input))
        {
            return "input directory not in the shared copy";
        }

        var text = string.Join('\n', Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        if (text.Contains("AdminNetworkPolicy", StringComparison.Ordinal))
        {
            return "AdminNetworkPolicy / BaselineAdminNetworkPolicy";
        }

        if (text.Contains("UserDefinedNetwork", StringComparison.Ordinal) || text.Contains("NetworkAttachmentDefinition", StringComparison.Ordinal))
        {
            return "user-defined or secondary networks";
        }

        if (text.Contains("kind: VirtualMachine", StringComparison.Ordinal) || text.Contains("\"VirtualMachine\"", StringComparison.Ordinal))
        {
            return "virtual machines (KubeVirt)";
        }

        if (expected.Any(l => l.StartsWith("{ingress-controller}", StringComparison.Ordinal)) || text.Contains("kind: Route", StringComparison.Ordinal))
        {
            return "ingress-controller connectivity from Ingress and Route objects";
        }

        if (name.Contains("focus", StringComparison.Ordinal) || name.Contains("explain", StringComparison.Ordinal) || name.Contains("exposure", StringComparison.Ordinal))
        {
            return "a focus or explain view, not the plain connectivity list";
        }

        if (expected.Any(l => l.Contains(':', StringComparison.Ordinal) && l.Contains("::", StringComparison.Ordinal)))
        {
            return "IPv6 address ranges";
        }

        if (expected.Count == 0 || expected.Any(l => !l.Contains(" => ", StringComparison.Ordinal)))
        {
            return "output is not a plain connectivity list";
        }

        return null;
    }
}
