namespace Skjold.Engine.Model;

/// <summary>The outcome of a scan: findings, waived findings, input problems and how much was read.</summary>
public sealed record ScanResult(
    IReadOnlyList<Finding> Findings,
    IReadOnlyList<SuppressedFinding> Suppressed,
    IReadOnlyList<Diagnostic> Diagnostics,
    int ResourceCount)
{
    /// <summary>The checks that applied to the input, when the scan knows (node checks); null otherwise.</summary>
    public IReadOnlyList<string>? EvaluatedChecks { get; init; }

    public bool HasErrors
    {
        get
        {
            foreach (var d in Diagnostics)
            {
                if (d.Level == DiagnosticLevel.Error)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Findings at or above a severity.</summary>
    public int CountAtOrAbove(Severity severity)
    {
        var n = 0;
        foreach (var f in Findings)
        {
            if (f.Severity >= severity)
            {
                n++;
            }
        }

        return n;
    }
}
