using System.Globalization;
using Skjold.Engine.Compliance;
using Skjold.Engine.Text;

namespace Skjold.Reports.Compliance;

/// <summary>The report as CSV, one row per control, for spreadsheets and GRC tools.</summary>
public sealed class ComplianceCsvWriter : IComplianceWriter
{
    public void Write(ComplianceReport report, TextWriter output) => WriteCsv(report, output);

    private static void WriteCsv(ComplianceReport r, TextWriter o)
    {
        o.WriteLine("framework,control,title,status,explanation,checks,failed_checks,findings,attestation");
        foreach (var c in r.Controls)
        {
            var failed = c.Checks.Where(x => x.Findings.Count > 0).Select(x => x.CheckId).ToList();
            o.WriteLine(string.Join(',', r.Framework.Id, Csv.Field(c.Control.Id), Csv.Field(c.Control.Title), ComplianceReport.StatusName(c.Status), Csv.Field(c.Explanation),
                Csv.Field(string.Join(' ', c.Checks.Select(x => x.CheckId))), Csv.Field(string.Join(' ', failed)), c.Checks.Sum(x => x.Findings.Count).ToString(CultureInfo.InvariantCulture),
                Csv.Field(c.Attestation is { } a ? $"{a.By} {a.Date:yyyy-MM-dd} ({c.AttestationState(ComplianceText.Today(r))}) {a.Evidence}" : string.Empty)));
        }
    }
}
