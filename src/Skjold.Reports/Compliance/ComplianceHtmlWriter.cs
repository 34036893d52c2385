using System.Globalization;
using System.Net;
using System.Text;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;

namespace Skjold.Reports.Compliance;

/// <summary>The report as one self-contained HTML page for people: severity, remediation and folded detail lists.</summary>
public sealed class ComplianceHtmlWriter : IComplianceWriter
{
    private static string H(string s) => WebUtility.HtmlEncode(s);

    public void Write(ComplianceReport report, TextWriter output) => Html(report, output);

    private static void Html(ComplianceReport r, TextWriter o)
    {
        var today = ComplianceText.Today(r);
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
            <p class="meta">Compliance report generated {{H(ComplianceText.Iso(r.GeneratedAt))}} by Skjold {{H(r.ToolVersion)}}.<br>
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
            sb.Append($"<p id=\"diff\">Against the report of {H(ComplianceText.Iso(d.BaselineGeneratedAt))}: score {d.BaselineScore.ToString("0.0", CultureInfo.InvariantCulture)} → {r.Score.ToString("0.0", CultureInfo.InvariantCulture)}. " +
                $"Better: {H(ComplianceText.Join(d.Better))}. Worse: {H(ComplianceText.Join(d.Worse))}.</p>\n");
            if (d.CoverageChanged.Any())
            {
                sb.Append($"<p id=\"coverage-changed\">Coverage changed{(d.InputsDiffer ? " (<strong>the inputs differ from the baseline's</strong>)" : string.Empty)}: {H(ComplianceText.Join(d.CoverageChanged))}. These moved between evaluated and manual or not applicable and count as neither better nor worse.</p>\n");
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
