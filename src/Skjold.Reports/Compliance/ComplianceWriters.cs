using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;

namespace Skjold.Reports.Compliance;

/// <summary>Writes a framework report as JSON, Markdown, CSV, HTML or a PolicyReport.</summary>
public static class ComplianceWriters
{
    public static readonly string[] Formats = ["html", "json", "markdown", "csv", "policyreport"];

    public static void Write(ComplianceReport report, string format, TextWriter output)
    {
        switch (format)
        {
            case "json":
                output.Write(Json(report));
                break;
            case "md" or "markdown":
                Markdown(report, output);
                break;
            case "csv":
                WriteCsv(report, output);
                break;
            case "policyreport":
                PolicyReport(report, output);
                break;
            default:
                Html(report, output);
                break;
        }
    }

    private static DateOnly Today(ComplianceReport r) => DateOnly.FromDateTime(r.GeneratedAt.UtcDateTime);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ JSON

    /// <summary>The report as JSON (UTF-8 text); the signed bundle signs exactly these bytes.</summary>
    public static string Json(ComplianceReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 1);
            w.WriteString("kind", "SkjoldComplianceReport");
            w.WriteStartObject("framework");
            w.WriteString("id", r.Framework.Id);
            w.WriteString("name", r.Framework.Name);
            w.WriteString("version", r.Framework.Version);
            w.WriteEndObject();
            w.WriteString("generatedAt", Iso(r.GeneratedAt));
            w.WriteString("toolVersion", r.ToolVersion);
            w.WriteString("inputDigest", r.InputDigest);
            w.WriteStartArray("inputs");
            foreach (var i in r.Inputs)
            {
                w.WriteStringValue(i);
            }

            w.WriteEndArray();
            w.WriteNumber("score", r.Score);
            w.WriteString("scoreFormula", ComplianceReport.ScoreFormula);
            w.WriteStartObject("counts");
            foreach (var s in Enum.GetValues<ControlStatus>())
            {
                w.WriteNumber(ComplianceReport.StatusName(s), r.Count(s));
            }

            w.WriteEndObject();
            w.WriteStartArray("controls");
            foreach (var c in r.Controls)
            {
                w.WriteStartObject();
                w.WriteString("id", c.Control.Id);
                w.WriteString("title", c.Control.Title);
                if (c.Control.Group is { } g)
                {
                    w.WriteString("group", g);
                }

                w.WriteString("status", ComplianceReport.StatusName(c.Status));
                w.WriteString("explanation", c.Explanation);
                w.WriteStartArray("checks");
                foreach (var check in c.Checks)
                {
                    w.WriteStartObject();
                    w.WriteString("id", check.CheckId);
                    w.WriteString("title", check.Title);
                    w.WriteString("outcome", check.Outcome);
                    w.WriteNumber("suppressed", check.Suppressed);
                    w.WriteStartArray("findings");
                    foreach (var f in check.Findings)
                    {
                        w.WriteStartObject();
                        w.WriteString("resource", f.Resource.ToString());
                        w.WriteString("severity", f.Severity.ToName());
                        w.WriteString("message", f.Message);
                        if (f.Location is { } l)
                        {
                            w.WriteString("location", $"{l.File}:{l.Line}");
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (c.Attestation is { } a)
                {
                    w.WriteStartObject("attestation");
                    w.WriteString("by", a.By);
                    w.WriteString("date", a.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    w.WriteString("validUntil", a.ValidUntil.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    w.WriteString("evidence", a.Evidence);
                    w.WriteString("state", c.AttestationState(Today(r)));
                    if (a.Note is { } note)
                    {
                        w.WriteString("note", note);
                    }

                    w.WriteEndObject();
                }

                if (c.Control.Questions.Count > 0)
                {
                    w.WriteStartArray("providerQuestions");
                    foreach (var q in c.Control.Questions)
                    {
                        w.WriteStringValue(q);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (r.Diff is { } d)
            {
                w.WriteStartObject("diff");
                w.WriteString("baselineGeneratedAt", Iso(d.BaselineGeneratedAt));
                w.WriteNumber("baselineScore", d.BaselineScore);
                w.WriteNumber("scoreChange", Math.Round(r.Score - d.BaselineScore, 1));
                WriteChanges(w, "better", d.Better);
                WriteChanges(w, "worse", d.Worse);
                WriteChanges(w, "coverageChanged", d.CoverageChanged);
                w.WriteBoolean("inputsDiffer", d.InputsDiffer);
                if (d.BaselineInputDigest is { } bd)
                {
                    w.WriteString("baselineInputDigest", bd);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteChanges(Utf8JsonWriter w, string name, IEnumerable<(string Control, string Before, string After)> changes)
    {
        w.WriteStartArray(name);
        foreach (var (control, before, after) in changes)
        {
            w.WriteStartObject();
            w.WriteString("control", control);
            w.WriteString("before", before);
            w.WriteString("after", after);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>Reads what a diff needs from an earlier JSON report.</summary>
    public static (DateTimeOffset GeneratedAt, double Score, IReadOnlyDictionary<string, string> Statuses, string Framework, string? InputDigest) ReadBaseline(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (!root.TryGetProperty("kind", out var kind) || kind.GetString() != "SkjoldComplianceReport")
        {
            throw new FormatException("not a Skjold compliance report in JSON (kind SkjoldComplianceReport)");
        }

        var statuses = root.GetProperty("controls").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString()!, StringComparer.Ordinal);
        var digest = root.TryGetProperty("inputDigest", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        return (DateTimeOffset.Parse(root.GetProperty("generatedAt").GetString()!, CultureInfo.InvariantCulture), root.GetProperty("score").GetDouble(), statuses,
            root.GetProperty("framework").GetProperty("id").GetString()!, digest);
    }

    // ------------------------------------------------------------------ Markdown and CSV

    private static void Markdown(ComplianceReport r, TextWriter o)
    {
        o.WriteLine($"# {r.Framework.Title}: compliance report");
        o.WriteLine();
        o.WriteLine($"Generated {Iso(r.GeneratedAt)} by Skjold {r.ToolVersion}. Input digest `{r.InputDigest}` ({string.Join(", ", r.Inputs)}).");
        o.WriteLine();
        o.WriteLine($"**Score: {r.Score.ToString("0.0", CultureInfo.InvariantCulture)}** ({ComplianceReport.ScoreFormula}).");
        o.WriteLine();
        o.WriteLine("| pass | partial | fail | manual | not applicable |");
        o.WriteLine("|---:|---:|---:|---:|---:|");
        o.WriteLine($"| {r.Count(ControlStatus.Pass)} | {r.Count(ControlStatus.Partial)} | {r.Count(ControlStatus.Fail)} | {r.Count(ControlStatus.Manual)} | {r.Count(ControlStatus.NotApplicable)} |");
        if (r.Diff is { } d)
        {
            o.WriteLine();
            o.WriteLine($"Against the report of {Iso(d.BaselineGeneratedAt)}: score {d.BaselineScore.ToString("0.0", CultureInfo.InvariantCulture)} → {r.Score.ToString("0.0", CultureInfo.InvariantCulture)}; " +
                $"better: {Join(d.Better)}; worse: {Join(d.Worse)}.");
            if (d.CoverageChanged.Any())
            {
                o.WriteLine();
                o.WriteLine($"Coverage changed{(d.InputsDiffer ? " (**the inputs differ from the baseline's**)" : string.Empty)}: {Join(d.CoverageChanged)}. These moved between evaluated and manual or not applicable and count as neither better nor worse.");
            }
        }

        o.WriteLine();
        o.WriteLine("| control | title | status | evidence |");
        o.WriteLine("|---|---|---|---|");
        foreach (var c in r.Controls)
        {
            o.WriteLine($"| {c.Control.Id} | {Md(c.Control.Title)} | {ComplianceReport.StatusName(c.Status)} | {Md(c.Explanation)} |");
        }

        foreach (var c in r.Controls.Where(c => c.Status is ControlStatus.Fail or ControlStatus.Partial))
        {
            o.WriteLine();
            o.WriteLine($"## {c.Control.Id} {Md(c.Control.Title)}: {ComplianceReport.StatusName(c.Status)}");
            foreach (var check in c.Checks.Where(x => x.Findings.Count > 0))
            {
                o.WriteLine();
                o.WriteLine($"- `{check.CheckId}` {Md(check.Title)}: {Plural(check.Findings.Count, "finding")}");
                foreach (var f in check.Findings.Take(20))
                {
                    o.WriteLine($"  - {Md(f.Resource.ToString())}: {Md(f.Message)}");
                }

                if (check.Findings.Count > 20)
                {
                    o.WriteLine($"  - … and {check.Findings.Count - 20} more (see the JSON report)");
                }
            }
        }

        var manual = r.Controls.Where(c => c.Status == ControlStatus.Manual).ToList();
        if (manual.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("## Manual controls");
            o.WriteLine();
            o.WriteLine("Software cannot check these; each is met by an attestation in the configuration (`attestations:`).");
            foreach (var c in manual)
            {
                o.WriteLine();
                var state = c.AttestationState(Today(r));
                o.WriteLine($"- **{c.Control.Id} {Md(c.Control.Title)}**: attestation {state}" +
                    (c.Attestation is { } a ? $" ({Md(a.By)}, {a.Date:yyyy-MM-dd}, valid until {a.ValidUntil:yyyy-MM-dd}; evidence: {Md(a.Evidence)})" : string.Empty));
                foreach (var q in c.Control.Questions)
                {
                    o.WriteLine($"  - Ask the provider: {Md(q)}");
                }
            }
        }
    }

    private static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";

    private static string Join(IEnumerable<(string Control, string Before, string After)> changes)
    {
        var list = changes.Select(c => $"{c.Control} ({c.Before} → {c.After})").ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }

    private static string Md(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static void WriteCsv(ComplianceReport r, TextWriter o)
    {
        o.WriteLine("framework,control,title,status,explanation,checks,failed_checks,findings,attestation");
        foreach (var c in r.Controls)
        {
            var failed = c.Checks.Where(x => x.Findings.Count > 0).Select(x => x.CheckId).ToList();
            o.WriteLine(string.Join(',', r.Framework.Id, Csv.Field(c.Control.Id), Csv.Field(c.Control.Title), ComplianceReport.StatusName(c.Status), Csv.Field(c.Explanation),
                Csv.Field(string.Join(' ', c.Checks.Select(x => x.CheckId))), Csv.Field(string.Join(' ', failed)), c.Checks.Sum(x => x.Findings.Count).ToString(CultureInfo.InvariantCulture),
                Csv.Field(c.Attestation is { } a ? $"{a.By} {a.Date:yyyy-MM-dd} ({c.AttestationState(Today(r))}) {a.Evidence}" : string.Empty)));
        }
    }


    // ------------------------------------------------------------------ PolicyReport

    /// <summary>
    /// wgpolicyk8s.io/v1alpha2 ClusterPolicyReport: one result per failed check and resource, and
    /// one pass result per check that ran clean, with the framework controls as the category.
    /// </summary>
    private static void PolicyReport(ComplianceReport r, TextWriter o)
    {
        var results = new List<Dictionary<string, object>>();
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
                results.Add(new() { ["policy"] = $"skjold-{r.Framework.Id}", ["rule"] = check.CheckId, ["category"] = category, ["result"] = "pass", ["message"] = check.Title, ["source"] = "skjold" });
                continue;
            }

            foreach (var f in check.Findings)
            {
                var resource = new Dictionary<string, object> { ["apiVersion"] = f.Resource.ApiVersion, ["kind"] = f.Resource.Kind, ["name"] = f.Resource.Name };
                if (f.Resource.Namespace is { } ns)
                {
                    resource["namespace"] = ns;
                }

                results.Add(new()
                {
                    ["policy"] = $"skjold-{r.Framework.Id}",
                    ["rule"] = check.CheckId,
                    ["category"] = category,
                    ["result"] = "fail",
                    ["severity"] = f.Severity.ToName(),
                    ["message"] = f.Message,
                    ["source"] = "skjold",
                    ["resources"] = new[] { resource },
                });
            }
        }

        var report = new Dictionary<string, object>
        {
            ["apiVersion"] = "wgpolicyk8s.io/v1alpha2",
            ["kind"] = "ClusterPolicyReport",
            ["metadata"] = new Dictionary<string, object>
            {
                ["name"] = $"skjold-{r.Framework.Id}",
                ["annotations"] = new Dictionary<string, object>
                {
                    ["skjold.io/framework"] = r.Framework.Title,
                    ["skjold.io/score"] = r.Score.ToString("0.0", CultureInfo.InvariantCulture),
                    ["skjold.io/generated-at"] = Iso(r.GeneratedAt),
                    ["skjold.io/input-digest"] = r.InputDigest,
                },
            },
            ["summary"] = new Dictionary<string, object>
            {
                ["pass"] = results.Count(x => (string)x["result"] == "pass"),
                ["fail"] = results.Count(x => (string)x["result"] == "fail"),
                ["warn"] = 0,
                ["error"] = 0,
                ["skip"] = 0,
            },
            ["results"] = results,
        };
        var yaml = new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(report);
        o.Write(yaml);
    }

    // ------------------------------------------------------------------ HTML

    private static string H(string s) => WebUtility.HtmlEncode(s);

    private static void Html(ComplianceReport r, TextWriter o)
    {
        var today = Today(r);
        var sb = new StringBuilder();
        sb.Append($$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{H(r.Framework.Title)}} compliance report</title>
            <style>
            :root { --pass:#1b7f3b; --fail:#b3261e; --partial:#a15c00; --manual:#3a5ba0; --na:#6b6b6b; }
            body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1d1d1f; }
            h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
            .meta { color: #555; font-size: .9rem; } .score { font-size: 2.4rem; font-weight: 700; }
            table { border-collapse: collapse; width: 100%; margin: .6rem 0; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
            th { background: #f5f5f7; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
            .status { font-weight: 600; white-space: nowrap; } .pass { color: var(--pass); } .fail { color: var(--fail); } .partial { color: var(--partial); } .manual { color: var(--manual); } .na { color: var(--na); }
            .control { border: 1px solid #e5e5e5; border-radius: 6px; padding: .6rem .9rem; margin: .7rem 0; page-break-inside: avoid; }
            .control h3 { font-size: 1rem; margin: 0 0 .3rem 0; } .finding { font-size: .88rem; color: #333; } .fix { font-size: .85rem; color: #444; margin: .2rem 0; } .sev { font-size: .75rem; font-weight: 600; padding: 0 .3rem; border-radius: 3px; background: #eee; } .sev-critical { background: #7a0010; color: #fff; } .sev-high { background: #c62828; color: #fff; } .sev-medium { background: #f9a825; } .sev-low { background: #90caf9; } summary { cursor: pointer; font-size: .88rem; } code { font-size: .85rem; background: #f5f5f7; padding: 0 .2rem; border-radius: 3px; }
            ul { margin: .3rem 0 .3rem 1.2rem; padding: 0; } .questions { font-size: .9rem; color: #333; }
            @media print { body { margin: 0; max-width: none; font-size: 11pt; } .control { border-color: #bbb; } a { color: inherit; text-decoration: none; } h2 { page-break-after: avoid; } }
            </style>
            </head>
            <body data-ready="false">
            <header>
            <h1>{{H(r.Framework.Title)}}</h1>
            <p class="meta">Compliance report generated {{H(Iso(r.GeneratedAt))}} by Skjold {{H(r.ToolVersion)}}.<br>
            Input: {{H(string.Join(", ", r.Inputs))}} (digest <code>{{H(r.InputDigest)}}</code>).</p>
            </header>
            <section id="summary">
            <h2>Summary</h2>
            <p><span class="score">{{r.Score.ToString("0.0", CultureInfo.InvariantCulture)}}</span> / 100</p>
            <table id="summary-table">
            <thead><tr><th>Status</th><th>Controls</th><th>Meaning</th></tr></thead>
            <tbody>
            <tr><td class="status pass">pass</td><td class="num">{{r.Count(ControlStatus.Pass)}}</td><td>every check mapped to the control ran on this input and passed</td></tr>
            <tr><td class="status partial">partial</td><td class="num">{{r.Count(ControlStatus.Partial)}}</td><td>some of its checks failed</td></tr>
            <tr><td class="status fail">fail</td><td class="num">{{r.Count(ControlStatus.Fail)}}</td><td>all of its checks that ran failed</td></tr>
            <tr><td class="status manual">manual</td><td class="num">{{r.Count(ControlStatus.Manual)}}</td><td>software cannot check it; met by a valid attestation ({{r.Controls.Count(c => c.Status == ControlStatus.Manual && c.Attestation?.IsValidOn(today) == true)}} attested)</td></tr>
            <tr><td class="status na">not applicable</td><td class="num">{{r.Count(ControlStatus.NotApplicable)}}</td><td>its checks need input not given (for example node-check results)</td></tr>
            </tbody>
            </table>
            <p class="meta">Score: {{H(ComplianceReport.ScoreFormula)}}.</p>

            """);
        if (r.Diff is { } d)
        {
            sb.Append($"<p id=\"diff\">Against the report of {H(Iso(d.BaselineGeneratedAt))}: score {d.BaselineScore.ToString("0.0", CultureInfo.InvariantCulture)} → {r.Score.ToString("0.0", CultureInfo.InvariantCulture)}. " +
                $"Better: {H(Join(d.Better))}. Worse: {H(Join(d.Worse))}.</p>\n");
            if (d.CoverageChanged.Any())
            {
                sb.Append($"<p id=\"coverage-changed\">Coverage changed{(d.InputsDiffer ? " (<strong>the inputs differ from the baseline's</strong>)" : string.Empty)}: {H(Join(d.CoverageChanged))}. These moved between evaluated and manual or not applicable and count as neither better nor worse.</p>\n");
            }
        }

        sb.Append("</section>\n<section id=\"controls\">\n<h2>Controls</h2>\n<table id=\"controls-table\"><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Evidence</th></tr></thead><tbody>\n");
        foreach (var c in r.Controls)
        {
            sb.Append($"<tr><td><a href=\"#c-{H(c.Control.Id)}\">{H(c.Control.Id)}</a></td><td>{H(c.Control.Title)}</td><td class=\"status {Css(c.Status)}\">{ComplianceReport.StatusName(c.Status)}</td><td>{H(c.Explanation)}</td></tr>\n");
        }

        sb.Append("</tbody></table>\n</section>\n<section id=\"detail\">\n<h2>Detail</h2>\n");
        foreach (var c in r.Controls)
        {
            sb.Append($"<div class=\"control\" id=\"c-{H(c.Control.Id)}\"><h3>{H(c.Control.Id)} {H(c.Control.Title)} <span class=\"status {Css(c.Status)}\">{ComplianceReport.StatusName(c.Status)}</span></h3>\n");
            if (c.Control.Group is { } g)
            {
                sb.Append($"<div class=\"meta\">{H(g)}</div>\n");
            }

            sb.Append($"<div>{H(c.Explanation)}</div>\n");
            if (c.Checks.Count > 0)
            {
                sb.Append("<ul>\n");
                foreach (var check in c.Checks)
                {
                    sb.Append($"<li><code>{H(check.CheckId)}</code> {H(check.Title)}: <span class=\"{(check.Outcome == "pass" ? "pass" : check.Outcome == "fail" ? "fail" : "na")}\">{H(check.Outcome)}</span>");
                    if (check.Suppressed > 0)
                    {
                        sb.Append($" ({check.Suppressed} waived)");
                    }

                    if (check.Findings.Count > 0)
                    {
                        // Severity on every finding, the fix once per check, long lists folded.
                        var fold = check.Findings.Count > 5;
                        sb.Append($"<div class=\"fix\">Fix: {H(check.Findings[0].Remediation)}</div>");
                        if (fold)
                        {
                            sb.Append($"<details><summary>{check.Findings.Count} findings</summary>");
                        }

                        sb.Append("<ul>");
                        foreach (var f in check.Findings.Take(200))
                        {
                            var sev = f.Severity.ToName();
                            sb.Append($"<li class=\"finding\"><span class=\"sev sev-{sev}\">{sev}</span> {H(f.Resource.ToString())}: {H(f.Message)}{(f.Location is { } l ? $" <span class=\"meta\">({H(l.File)}:{l.Line})</span>" : string.Empty)}</li>");
                        }

                        if (check.Findings.Count > 200)
                        {
                            sb.Append($"<li class=\"finding\">… and {check.Findings.Count - 200} more (see the JSON report)</li>");
                        }

                        sb.Append("</ul>");
                        if (fold)
                        {
                            sb.Append("</details>");
                        }
                    }

                    sb.Append("</li>\n");
                }

                sb.Append("</ul>\n");
            }

            if (c.Attestation is { } a)
            {
                sb.Append($"<div>Attestation: {H(a.By)}, {a.Date:yyyy-MM-dd}, valid until {a.ValidUntil:yyyy-MM-dd} ({H(c.AttestationState(today))}); evidence: <a href=\"{H(a.Evidence)}\">{H(a.Evidence)}</a>{(a.Note is { } n ? " — " + H(n) : string.Empty)}</div>\n");
            }

            if (c.Control.Questions.Count > 0)
            {
                sb.Append("<div class=\"questions\">Questions for the Kubernetes provider:<ul>");
                foreach (var q in c.Control.Questions)
                {
                    sb.Append($"<li>{H(q)}</li>");
                }

                sb.Append("</ul></div>\n");
            }

            sb.Append("</div>\n");
        }

        sb.Append("</section>\n<script>document.body.setAttribute('data-ready', String(document.querySelectorAll('#controls-table tbody tr').length));</script>\n</body>\n</html>\n");
        o.Write(sb.ToString());
    }

    private static string Css(ControlStatus s) => s switch
    {
        ControlStatus.Pass => "pass",
        ControlStatus.Fail => "fail",
        ControlStatus.Partial => "partial",
        ControlStatus.Manual => "manual",
        _ => "na",
    };
}
