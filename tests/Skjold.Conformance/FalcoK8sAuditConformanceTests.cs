using System.Globalization;
using System.Text;
using System.Text.Json;
using Skjold.Detection.Falco;
using Skjold.TestSupport;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Skjold.Conformance;

/// <summary>
/// Falco's own k8s_audit regression cases (falco test/trace_files/k8s_audit/_falco_k8s_audit_tests.yaml)
/// run against Falco's own rule file (falcosecurity/plugins k8saudit/rules/k8s_audit_rules.yaml), as
/// Falco runs them: a detect: True case fires each named rule the expected number of times at the
/// expected priority; a detect: False case fires nothing. Every rule of the file is enabled, as in
/// Falco, and every rule an event matches fires. The count and each exclusion go to
/// artifacts/falco-k8saudit-conformance.txt.
/// </summary>
public sealed class FalcoK8sAuditConformanceTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(RepoPaths.Peers, "falco");

    private static string RuleFile => Path.Combine(Dir, "k8saudit-rules", "plugins_k8saudit_rules_k8s_audit_rules.yaml");

    private static string Traces => Path.Combine(Dir, "audit-events", "k8s_audit");

    /// <summary>The events of a trace file (one JSON audit Event or EventList per line; other lines are no events, as in Falco).</summary>
    internal static List<JsonElement> Events(string path)
    {
        using var reader = new StreamReader(path);
        return [.. AuditEventLines.Read(reader)];
    }

    [Fact]
    public void FalcosOwnCases_OnFalcosOwnRules_Agree()
    {
        var rules = new FalcoRuleSet();
        rules.Load(File.ReadAllText(RuleFile), "k8s_audit_rules.yaml");
        var names = rules.Rules.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);

        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Traces, "_falco_k8s_audit_tests.yaml"))));
        var cases = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("trace_files")];
        int run = 0, agree = 0;
        var report = new StringBuilder();
        var excluded = new StringBuilder();
        foreach (var (key, value) in cases.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            var c = (YamlMappingNode)value;
            string? S(string k) => c.Children.TryGetValue(new YamlScalarNode(k), out var v) ? (v as YamlScalarNode)?.Value : null;
            var ruleFiles = ((YamlSequenceNode)c.Children[new YamlScalarNode("rules_file")]).Children.Select(n => ((YamlScalarNode)n).Value!).ToList();
            var extra = ruleFiles.Where(f => !f.Contains("falco_rules.yaml", StringComparison.Ordinal) && !f.Contains("k8saudit-rules", StringComparison.Ordinal)).ToList();
            if (extra.Count > 0 || !ruleFiles.Any(f => f.Contains("k8saudit-rules", StringComparison.Ordinal)))
            {
                excluded.AppendLine(CultureInfo.InvariantCulture, $"excluded {name}: needs Falco's test rule files {string.Join(", ", extra.Select(Path.GetFileName))} (not in ../shared/peers)");
                continue;
            }

            var expected = new Dictionary<string, int>(StringComparer.Ordinal);
            if (c.Children.TryGetValue(new YamlScalarNode("detect_counts"), out var counts))
            {
                foreach (var m in ((YamlSequenceNode)counts).Children.Cast<YamlMappingNode>())
                {
                    foreach (var (rk, rv) in m.Children)
                    {
                        expected[((YamlScalarNode)rk).Value!] = int.Parse(((YamlScalarNode)rv).Value!, CultureInfo.InvariantCulture);
                    }
                }
            }

            if (expected.Keys.FirstOrDefault(r => !names.Contains(r)) is { } renamed)
            {
                excluded.AppendLine(CultureInfo.InvariantCulture, $"excluded {name}: expects rule '{renamed}', which the current k8s_audit_rules.yaml no longer has (split into K8s Role/ClusterRole(Binding) Created/Deleted)");
                continue;
            }

            var trace = Path.Combine(Traces, S("addl_cmdline_opts")!.Split('/')[^1]);
            var fired = new List<FalcoAlert>();
            foreach (var e in Events(trace))
            {
                fired.AddRange(rules.Evaluate(e));
            }

            run++;
            var detect = string.Equals(S("detect"), "true", StringComparison.OrdinalIgnoreCase);
            bool ok;
            string why;
            if (!detect)
            {
                ok = fired.Count == 0;
                why = ok ? "nothing fired" : "fired " + string.Join(", ", fired.Select(f => f.Rule));
            }
            else
            {
                var level = S("detect_level");
                var problems = new List<string>();
                foreach (var (rule, count) in expected)
                {
                    var got = fired.Where(f => f.Rule == rule).ToList();
                    if (got.Count != count)
                    {
                        problems.Add($"{rule}: {got.Count} alerts, expected {count}");
                    }

                    if (level is not null && got.Any(f => !PriorityMatches(f.Priority, level)))
                    {
                        problems.Add($"{rule}: priority {got[0].Priority}, expected {level}");
                    }
                }

                if (expected.Count == 0 && fired.Count == 0)
                {
                    problems.Add("nothing fired");
                }

                ok = problems.Count == 0;
                why = ok ? string.Join(", ", expected.Select(kv => $"{kv.Key} x{kv.Value}")) : string.Join("; ", problems);
            }

            agree += ok ? 1 : 0;
            report.AppendLine(CultureInfo.InvariantCulture, $"{(ok ? "agree" : "DIFFER")} {name}: {why}");
        }

        var summary = $"Falco k8saudit cases: {agree}/{run} agree ({cases.Children.Count - run} excluded, each named below)";
        output.WriteLine(summary);
        output.WriteLine(report.ToString());
        output.WriteLine(excluded.ToString());
        File.WriteAllText(RepoPaths.Artifact("falco-k8saudit-conformance.txt"), summary + "\n" + report + excluded);
        Assert.True(run >= 35, $"only {run} cases ran");
        Assert.Equal(run, agree);
    }

    private static bool PriorityMatches(FalcoPriority p, string level) => level.ToUpperInvariant() switch
    {
        "INFO" => p == FalcoPriority.Informational,
        var l => string.Equals(p.ToString(), l, StringComparison.OrdinalIgnoreCase),
    };
}
