using Skjold.Engine.Model;

namespace Skjold.Reports;

/// <summary>
/// Writes a scan in one format. A report is written as the scan runs (<see cref="Begin"/>, then
/// <see cref="IReportStream.Add"/> per finding, then <see cref="IReportStream.Complete"/>), so
/// memory does not grow with the number of findings; <see cref="ReportWriters.Write"/> writes a
/// finished <see cref="ScanResult"/> the same way.
/// </summary>
public interface IReportWriter
{
    /// <summary>Starts a report; <paramref name="context"/>'s result is not read (the findings come through the stream).</summary>
    IReportStream Begin(ReportContext context, TextWriter output);
}

/// <summary>A report being written.</summary>
public interface IReportStream : IDisposable
{
    void Add(Finding finding);

    /// <summary>Ends the report with the totals, the waived findings and the input problems.</summary>
    void Complete(ScanTotals totals, IReadOnlyList<SuppressedFinding> suppressed, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string>? evaluatedChecks);
}

/// <summary>How much a scan found, counted while its findings streamed past.</summary>
public sealed class ScanTotals
{
    private readonly int[] _bySeverity = new int[Enum.GetValues<Severity>().Length];

    public int Resources { get; set; }

    public int Findings { get; private set; }

    public int Suppressed { get; set; }

    /// <summary>--severity: the severities a human view shows (null: all); counts and the exit code still cover every finding.</summary>
    public IReadOnlySet<Severity>? ShownSeverities { get; set; }

    public int Count(Severity s) => _bySeverity[(int)s];

    public int CountAtOrAbove(Severity min)
    {
        var n = 0;
        for (var s = (int)min; s < _bySeverity.Length; s++)
        {
            n += _bySeverity[s];
        }

        return n;
    }

    public void Add(Finding f)
    {
        Findings++;
        _bySeverity[(int)f.Severity]++;
    }

    public static ScanTotals Of(ScanResult result)
    {
        var totals = new ScanTotals { Resources = result.ResourceCount, Suppressed = result.Suppressed.Count };
        foreach (var f in result.Findings)
        {
            totals.Add(f);
        }

        return totals;
    }
}

/// <summary>The scan report formats, the writer of each, and writing a finished result through a writer.</summary>
public static class ReportWriters
{
    /// <summary>The writer of a scan format: json, sarif, junit, or a table (table, wide) laid out by <paramref name="table"/>.</summary>
    public static IReportWriter For(string format, TableOptions? table = null) => format switch
    {
        "json" => new JsonReportWriter(),
        "sarif" => new SarifReportWriter(),
        "junit" => new JUnitReportWriter(),
        "table" => new TableReportWriter(table ?? new TableOptions()),
        "wide" => new TableReportWriter((table ?? new TableOptions()) with { Wide = true }),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a scan report format (table, wide, json, sarif, junit)"),
    };

    public static void Write(this IReportWriter writer, ReportContext context, TextWriter output)
    {
        using var stream = writer.Begin(context, output);

        // A finished result can keep each resource's findings together (in order of first appearance).
        foreach (var group in context.Result.Findings.GroupBy(f => (f.Resource, f.Location?.File)))
        {
            foreach (var f in group)
            {
                stream.Add(f);
            }
        }

        stream.Complete(ScanTotals.Of(context.Result), context.Result.Suppressed, context.Result.Diagnostics, context.Result.EvaluatedChecks);
    }
}
