using Skjold.Engine;
using Skjold.Engine.Model;

namespace Skjold.Reports;

/// <summary>
/// One scan written as one report: the scanner's findings go to the writer as they are produced
/// (memory does not grow with their number), with locations relative to <c>workingDirectory</c>,
/// findings of the host's own checks (supply chain) after the scanner's, and an optional severity
/// filter that limits what is listed but never what is counted.
/// </summary>
public sealed class ScanReport(Scanner scanner, IReportWriter writer, ReportContext context, string workingDirectory)
{
    /// <summary>The name that replaces stdin's "-" (the loader's name for it) in locations, when the user gave one.</summary>
    public string? StdinName { get; init; }

    /// <summary>The severities listed; null lists every finding.</summary>
    public IReadOnlySet<Severity>? Shown { get; init; }

    /// <summary>Findings of checks the host ran itself (image signatures), reported after the scanner's.</summary>
    public IReadOnlyList<Finding> HostFindings { get; init; } = [];

    /// <summary>How many resources are scanned so far, for a progress line.</summary>
    public IProgress<int>? Progress { get; init; }

    /// <summary>Scans <paramref name="resources"/> into <paramref name="output"/>; returns the totals and every diagnostic (the input's and the scan's).</summary>
    public (ScanTotals Totals, List<Diagnostic> Diagnostics) Write(IReadOnlyList<Resource> resources, IReadOnlyList<Diagnostic> inputDiagnostics, TextWriter output)
    {
        var totals = new ScanTotals { Resources = resources.Count, ShownSeverities = Shown };
        var suppressed = new List<SuppressedFinding>();
        using var stream = writer.Begin(context, output);
        var relative = SourcePaths.PerFile(workingDirectory);
        void Add(Finding finding)
        {
            totals.Add(finding);
            if (Shown is null || Shown.Contains(finding.Severity))
            {
                stream.Add(finding);
            }
        }

        var diagnostics = scanner.Scan(resources, inputDiagnostics, f =>
        {
            var location = relative(f.Location);
            if (location is { File: "-" } l && StdinName is { Length: > 0 } pseudo)
            {
                location = l with { File = pseudo };
            }

            Add(location == f.Location ? f : f with { Location = location });
        }, suppressed.Add, Progress);
        foreach (var f in HostFindings)
        {
            Add(f with { Location = SourcePaths.Relativize(f.Location, workingDirectory) });
        }

        totals.Suppressed = suppressed.Count;
        stream.Complete(totals, suppressed, diagnostics, null);
        return (totals, diagnostics);
    }
}
