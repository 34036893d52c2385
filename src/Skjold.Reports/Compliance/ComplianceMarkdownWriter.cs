using System.Globalization;
using Skjold.Engine.Compliance;

namespace Skjold.Reports.Compliance;

/// <summary>The report as Markdown: a summary table, the changes since the baseline, then each control.</summary>
public sealed class ComplianceMarkdownWriter : IComplianceWriter
{
    public void Write(ComplianceReport report, TextWriter output) => Markdown(report, output);

    private static void Markdown(ComplianceReport r, TextWriter o)
    {
        o.WriteLine($"# {r.Framework.Title}: compliance report");
        o.WriteLine();
        o.WriteLine($"Generated {ComplianceText.Iso(r.GeneratedAt)} by Skjold {r.ToolVersion}. Input digest `{r.InputDigest}` ({string.Join(", ", r.Inputs)}).");
        o.WriteLine();
        o.WriteLine($"**Score: {r.Score.ToString("0.0", CultureInfo.InvariantCulture)}** ({ComplianceReport.ScoreFormula}).");
        o.WriteLine();
        o.WriteLine("| pass | partial | fail | manual | not applicable |");
        o.WriteLine("|---:|---:|---:|---:|---:|");
        o.WriteLine($"| {r.Count(ControlStatus.Pass)} | {r.Count(ControlStatus.Partial)} | {r.Count(ControlStatus.Fail)} | {r.Count(ControlStatus.Manual)} | {r.Count(ControlStatus.NotApplicable)} |");
        if (r.Diff is { } d)
        {
            o.WriteLine();
            o.WriteLine($"Against the report of {ComplianceText.Iso(d.BaselineGeneratedAt)}: score {d.BaselineScore.ToString("0.0", CultureInfo.InvariantCulture)} → {r.Score.ToString("0.0", CultureInfo.InvariantCulture)}; " +
                $"better: {ComplianceText.Join(d.Better)}; worse: {ComplianceText.Join(d.Worse)}.");
            if (d.CoverageChanged.Any())
            {
                o.WriteLine();
                o.WriteLine($"Coverage changed{(d.InputsDiffer ? " (**the inputs differ from the baseline's**)" : string.Empty)}: {ComplianceText.Join(d.CoverageChanged)}. These moved between evaluated and manual or not applicable and count as neither better nor worse.");
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
                o.WriteLine($"- `{check.CheckId}` {Md(check.Title)}: {ComplianceText.Plural(check.Findings.Count, "finding")}");
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
                var state = c.AttestationState(ComplianceText.Today(r));
                o.WriteLine($"- **{c.Control.Id} {Md(c.Control.Title)}**: attestation {state}" +
                    (c.Attestation is { } a ? $" ({Md(a.By)}, {a.Date:yyyy-MM-dd}, valid until {a.ValidUntil:yyyy-MM-dd}; evidence: {Md(a.Evidence)})" : string.Empty));
                foreach (var q in c.Control.Questions)
                {
                    o.WriteLine($"  - Ask the provider: {Md(q)}");
                }
            }
        }
    }

    private static string Md(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
