using System.Globalization;
using System.Text.Json.Nodes;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;

namespace Skjold.Reports.Compliance;

/// <summary>The report as a wgpolicyk8s.io ClusterPolicyReport (YAML), for tools that read PolicyReports.</summary>
public sealed class PolicyReportWriter : IComplianceWriter
{

    /// <summary>
    /// wgpolicyk8s.io/v1alpha2 ClusterPolicyReport: one result per failed check and resource, and
    /// one pass result per check that ran clean, with the framework controls as the category.
    /// </summary>
    public void Write(ComplianceReport report, TextWriter output) => PolicyReport(report, output);

    private static void PolicyReport(ComplianceReport r, TextWriter o)
    {
        var results = new JsonArray();
        var (pass, fail) = (0, 0);
        var checks = r.Controls.SelectMany(c => c.Checks.Select(x => (Control: c.Control.Id, Check: x))).GroupBy(x => x.Check.CheckId);
        foreach (var g in checks.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var check = g.First().Check;
            if (!check.Evaluated)
            {
                continue;
            }

            var category = $"{r.Framework.Id} {string.Join(", ", g.Select(x => x.Control).Distinct())}";
            if (check.Findings.Count == 0)
            {
                results.Add((JsonNode)new JsonObject { ["policy"] = $"skjold-{r.Framework.Id}", ["rule"] = check.CheckId, ["category"] = category, ["result"] = "pass", ["message"] = check.Title, ["source"] = "skjold" });
                pass++;
                continue;
            }

            foreach (var f in check.Findings)
            {
                var resource = new JsonObject { ["apiVersion"] = f.Resource.ApiVersion, ["kind"] = f.Resource.Kind, ["name"] = f.Resource.Name };
                if (f.Resource.Namespace is { } ns)
                {
                    resource["namespace"] = ns;
                }

                fail++;
                results.Add((JsonNode)new JsonObject
                {
                    ["policy"] = $"skjold-{r.Framework.Id}",
                    ["rule"] = check.CheckId,
                    ["category"] = category,
                    ["result"] = "fail",
                    ["severity"] = f.Severity.ToName(),
                    ["message"] = f.Message,
                    ["source"] = "skjold",
                    ["resources"] = new JsonArray(resource),
                });
            }
        }

        var report = new JsonObject
        {
            ["apiVersion"] = "wgpolicyk8s.io/v1alpha2",
            ["kind"] = "ClusterPolicyReport",
            ["metadata"] = new JsonObject
            {
                ["name"] = $"skjold-{r.Framework.Id}",
                ["annotations"] = new JsonObject
                {
                    ["skjold.io/framework"] = r.Framework.Title,
                    ["skjold.io/score"] = r.Score.ToString("0.0", CultureInfo.InvariantCulture),
                    ["skjold.io/generated-at"] = ComplianceText.Iso(r.GeneratedAt),
                    ["skjold.io/input-digest"] = r.InputDigest,
                },
            },
            ["summary"] = new JsonObject
            {
                ["pass"] = pass,
                ["fail"] = fail,
                ["warn"] = 0,
                ["error"] = 0,
                ["skip"] = 0,
            },
            ["results"] = results,
        };
        YamlText.Write([report], o);
    }
}
