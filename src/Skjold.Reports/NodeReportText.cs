using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Node;

namespace Skjold.Reports;

/// <summary>
/// node-check's human view, as CIS benchmark reports read: each check as [PASS], [FAIL] or [INFO]
/// (not applicable on this node) under its CIS section, the evidence, the fix for each failure, a
/// summary per section and in total.
/// </summary>
public static class NodeReportText
{
    /// <summary>Our own short names of the CIS Kubernetes Benchmark sections node-check covers.</summary>
    private static readonly Dictionary<string, string> Sections = new(StringComparer.Ordinal)
    {
        ["1"] = "Control plane",
        ["1.1"] = "Control plane files",
        ["1.2"] = "API server",
        ["1.3"] = "Controller manager",
        ["1.4"] = "Scheduler",
        ["2"] = "etcd",
        ["3"] = "Control plane configuration",
        ["3.2"] = "Logging",
        ["4"] = "Worker nodes",
        ["4.1"] = "Worker node files",
        ["4.2"] = "Kubelet",
        ["4.3"] = "kube-proxy",
    };

    public static void Write(IReadOnlyList<NodeCheckResult> results, CheckCatalog catalog, TextWriter o, bool color)
    {
        string Tag(NodeStatus s) => s switch
        {
            NodeStatus.Pass => color ? "\u001b[32m[PASS]\u001b[0m" : "[PASS]",
            NodeStatus.Fail => color ? "\u001b[31m[FAIL]\u001b[0m" : "[FAIL]",
            _ => color ? "\u001b[90m[INFO]\u001b[0m" : "[INFO]",
        };

        var ordered = results.OrderBy(r => Key(r.Id)).ToList();
        foreach (var top in ordered.GroupBy(r => Number(r.Id).Split('.')[0]))
        {
            o.WriteLine($"{Tag(NodeStatus.NotApplicable)} {top.Key} {Sections.GetValueOrDefault(top.Key, "Section " + top.Key)}");
            // Subsections where the numbering has them (1.2.15 is in 1.2; etcd's 2.1 to 2.6 are directly in 2).
            foreach (var sub in top.GroupBy(r => Number(r.Id).Split('.') is { Length: >= 3 } p ? $"{p[0]}.{p[1]}" : top.Key))
            {
                if (sub.Key != top.Key)
                {
                    o.WriteLine($"{Tag(NodeStatus.NotApplicable)} {sub.Key} {Sections.GetValueOrDefault(sub.Key, "Section " + sub.Key)}");
                }

                foreach (var r in sub)
                {
                    var meta = catalog[r.Id];
                    o.WriteLine($"{Tag(r.Status)} {Number(r.Id)} {meta.Title}{(r.Status == NodeStatus.Fail ? $" ({meta.Severity.ToName()})" : string.Empty)}");
                    if (r.Evidence.Length > 0)
                    {
                        o.WriteLine($"       {r.Evidence}");
                    }
                }

                o.WriteLine();
            }
        }

        var failures = ordered.Where(r => r.Status == NodeStatus.Fail).ToList();
        if (failures.Count > 0)
        {
            o.WriteLine("== Remediations ==");
            foreach (var r in failures)
            {
                o.WriteLine($"{Number(r.Id)} {catalog[r.Id].Remediation}");
            }

            o.WriteLine();
        }

        o.WriteLine("== Summary ==");
        foreach (var top in ordered.GroupBy(r => Number(r.Id).Split('.')[0]))
        {
            o.WriteLine($"{top.Key} {Sections.GetValueOrDefault(top.Key, "Section " + top.Key)}: {Counts(top)}");
        }

        o.WriteLine($"Total: {Counts(ordered)}");
    }

    private static string Counts(IEnumerable<NodeCheckResult> rs)
    {
        var list = rs.ToList();
        return $"{list.Count(r => r.Status == NodeStatus.Pass)} checks PASS, {list.Count(r => r.Status == NodeStatus.Fail)} checks FAIL, {list.Count(r => r.Status == NodeStatus.NotApplicable)} checks INFO (not applicable here)";
    }

    private static string Number(string id) => id.StartsWith("node/", StringComparison.Ordinal) ? id[5..] : id;

    /// <summary>1.2.10 after 1.2.9: numeric order of the dotted parts.</summary>
    private static string Key(string id) => string.Join('.', Number(id).Split('.').Select(p => int.TryParse(p, out var n) ? n.ToString("D4", System.Globalization.CultureInfo.InvariantCulture) : p));
}
