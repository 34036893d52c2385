using Skjold.Engine.Compliance;

namespace Skjold.Reports.Compliance;

/// <summary>One writer per compliance report format.</summary>
public interface IComplianceWriter
{
    void Write(ComplianceReport report, TextWriter output);
}

/// <summary>The compliance report formats and the writer of each.</summary>
public static class ComplianceWriters
{
    /// <summary>The format names (md is accepted as markdown: the CLI maps it before parsing).</summary>
    public static readonly string[] Formats = ["html", "json", "markdown", "csv", "policyreport"];

    /// <summary>The writer of <paramref name="format"/> (one of <see cref="Formats"/>).</summary>
    public static IComplianceWriter For(string format) => format switch
    {
        "json" => ComplianceJsonWriter.Instance,
        "md" or "markdown" => new ComplianceMarkdownWriter(),
        "csv" => new ComplianceCsvWriter(),
        "policyreport" => new PolicyReportWriter(),
        "html" => new ComplianceHtmlWriter(),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, $"not a compliance report format ({string.Join(", ", Formats)})"),
    };

    public static void Write(ComplianceReport report, string format, TextWriter output) => For(format).Write(report, output);

    /// <summary>The report as JSON (UTF-8 text); the signed bundle signs exactly these bytes.</summary>
    public static string Json(ComplianceReport report) => ComplianceJsonWriter.Text(report);

    /// <summary>One line for a terminal: the framework, its score and how many controls have each status.</summary>
    public static string Summary(ComplianceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return $"{report.Framework.Title}: score {report.Score.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}; " +
            $"{report.Count(ControlStatus.Pass)} pass, {report.Count(ControlStatus.Partial)} partial, {report.Count(ControlStatus.Fail)} fail, " +
            $"{report.Count(ControlStatus.Manual)} manual, {report.Count(ControlStatus.NotApplicable)} not applicable";
    }

    /// <summary>A warning when controls moved in or out of evaluation against the baseline (so better and worse do not tell the whole story), else null.</summary>
    public static string? CoverageWarning(ComplianceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Diff is { } diff && diff.CoverageChanged.Any()
            ? $"{diff.CoverageChanged.Count()} controls moved between evaluated and manual or not applicable against the baseline" +
                (diff.InputsDiffer ? " because the inputs differ from the baseline's" : string.Empty) +
                "; better and worse count only controls evaluated in both"
            : null;
    }
}
