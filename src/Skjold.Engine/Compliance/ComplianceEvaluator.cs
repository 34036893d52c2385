using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;

namespace Skjold.Engine.Compliance;

public enum ControlStatus
{
    Pass,
    Partial,
    Fail,
    Manual,
    NotApplicable,
}

/// <summary>One check behind a control: whether it ran on this input, and what it found.</summary>
public sealed record ControlCheck(string CheckId, string Title, bool Evaluated, IReadOnlyList<Finding> Findings, int Suppressed)
{
    public string Outcome => !Evaluated ? "not evaluated" : Findings.Count == 0 ? "pass" : "fail";
}

/// <summary>A control's status with the evidence behind it.</summary>
public sealed record ControlResult(Control Control, ControlStatus Status, IReadOnlyList<ControlCheck> Checks, Attestation? Attestation, string Explanation)
{
    public string AttestationState(DateOnly today) =>
        Attestation is null ? "missing" : Attestation.IsValidOn(today) ? "valid" : "expired";
}

/// <summary>
/// What changed against an earlier report of the same framework. Better and worse compare only
/// controls evaluated in both reports (pass, partial or fail); a control that moved to or from
/// manual or not applicable moved because what was measured differs (other inputs, node results,
/// attestations): that is a change of coverage, listed apart, never counted as better or worse.
/// </summary>
public sealed record ReportDiff(DateTimeOffset BaselineGeneratedAt, double BaselineScore, IReadOnlyList<(string Control, string Before, string After)> Changed)
{
    /// <summary>The baseline's input digest, when it recorded one.</summary>
    public string? BaselineInputDigest { get; init; }

    /// <summary>The two reports were measured on different inputs (digests differ).</summary>
    public bool InputsDiffer { get; init; }

    public IEnumerable<(string Control, string Before, string After)> Better =>
        Changed.Where(c => Evaluated(c.Before) && Evaluated(c.After) && Rank(c.After) > Rank(c.Before));

    public IEnumerable<(string Control, string Before, string After)> Worse =>
        Changed.Where(c => Evaluated(c.Before) && Evaluated(c.After) && Rank(c.After) < Rank(c.Before));

    /// <summary>Controls that moved between evaluated and manual or not applicable (or between those two).</summary>
    public IEnumerable<(string Control, string Before, string After)> CoverageChanged =>
        Changed.Where(c => !Evaluated(c.Before) || !Evaluated(c.After));

    private static bool Evaluated(string status) => status is "pass" or "partial" or "fail";

    private static int Rank(string status) => status switch
    {
        "pass" => 2,
        "partial" => 1,
        _ => 0,
    };
}

/// <summary>A framework report: every control's status, the score, and how it was measured.</summary>
public sealed record ComplianceReport(
    Framework Framework,
    DateTimeOffset GeneratedAt,
    string ToolVersion,
    string InputDigest,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<ControlResult> Controls,
    double Score,
    ReportDiff? Diff)
{
    public int Count(ControlStatus status) => Controls.Count(c => c.Status == status);

    public static string StatusName(ControlStatus s) => s switch
    {
        ControlStatus.Pass => "pass",
        ControlStatus.Partial => "partial",
        ControlStatus.Fail => "fail",
        ControlStatus.Manual => "manual",
        _ => "not applicable",
    };

    /// <summary>The documented score formula: 100 × (pass + ½ partial + attested manual) / (pass + partial + fail + manual).</summary>
    public const string ScoreFormula = "100 × (pass + ½ × partial + manual controls with a valid attestation) / (pass + partial + fail + manual); not-applicable controls are left out";
}

/// <summary>
/// Turns scan results (and node-check results) into a framework report. A control's status: the
/// checks mapped to it that ran on this input all passed (pass), all failed (fail) or some of each
/// (partial); none mapped (manual: met only by a valid attestation); mapped but none could run on
/// this input (not applicable, for example node checks without node results). Pure.
/// </summary>
public static class ComplianceEvaluator
{
    public static ComplianceReport Evaluate(
        Framework framework,
        IReadOnlyList<Finding> findings,
        IReadOnlyList<SuppressedFinding> suppressed,
        IReadOnlySet<string> evaluatedChecks,
        ScanPolicy policy,
        CheckCatalog catalog,
        DateTimeOffset now,
        string toolVersion,
        string inputDigest,
        IReadOnlyList<string> inputs,
        (DateTimeOffset GeneratedAt, double Score, IReadOnlyDictionary<string, string> Statuses)? baseline = null,
        string? baselineInputDigest = null)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var byCheck = findings.GroupBy(f => f.CheckId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var suppressedByCheck = suppressed.GroupBy(s => s.Finding.CheckId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var results = new List<ControlResult>();
        double earned = 0;
        var counted = 0;
        foreach (var control in framework.Controls)
        {
            var attestation = policy.Attestations.Where(a => a.Framework == framework.Id && a.Control == control.Id).OrderByDescending(a => a.Date).FirstOrDefault();
            var checkIds = framework.ChecksOf(control.Id);
            ControlResult result;
            if (checkIds.Count == 0)
            {
                var state = attestation is null ? "no attestation recorded" : attestation.IsValidOn(today)
                    ? $"attested by {attestation.By} on {attestation.Date:yyyy-MM-dd}, valid until {attestation.ValidUntil:yyyy-MM-dd}"
                    : $"attestation by {attestation.By} of {attestation.Date:yyyy-MM-dd} expired on {attestation.ValidUntil:yyyy-MM-dd}";
                result = new ControlResult(control, ControlStatus.Manual, [], attestation, $"manual control: {state}");
                counted++;
                earned += attestation?.IsValidOn(today) == true ? 1 : 0;
            }
            else
            {
                var checks = checkIds.Select(id => new ControlCheck(id, catalog.TryGet(id, out var m) ? m.Title : id,
                    evaluatedChecks.Contains(id), byCheck.GetValueOrDefault(id) ?? [], suppressedByCheck.GetValueOrDefault(id))).ToList();
                var ran = checks.Where(c => c.Evaluated).ToList();
                var failed = ran.Count(c => c.Findings.Count > 0);
                ControlStatus status;
                string explanation;
                if (ran.Count == 0)
                {
                    status = ControlStatus.NotApplicable;
                    explanation = checks.All(c => c.CheckId.StartsWith("node/", StringComparison.Ordinal))
                        ? $"{(checks.Count == 1 ? "its check runs" : $"its {checks.Count} checks run")} on nodes: give skjold node-check results (--node-results)"
                        : checks.Count == 1 ? "its check does not apply to this input" : $"none of its {checks.Count} checks applies to this input";
                }
                else if (failed == 0)
                {
                    status = ControlStatus.Pass;
                    explanation = $"{ran.Count} of {checks.Count} checks ran, all passed";
                }
                else if (failed == ran.Count)
                {
                    status = ControlStatus.Fail;
                    explanation = $"{ran.Count} of {checks.Count} checks ran, all failed";
                }
                else
                {
                    status = ControlStatus.Partial;
                    explanation = $"{ran.Count} of {checks.Count} checks ran, {failed} failed";
                }

                if (status != ControlStatus.NotApplicable)
                {
                    counted++;
                    earned += status == ControlStatus.Pass ? 1 : status == ControlStatus.Partial ? 0.5 : 0;
                }

                result = new ControlResult(control, status, checks, attestation, explanation);
            }

            results.Add(result);
        }

        var score = counted == 0 ? 0 : Math.Round(100.0 * earned / counted, 1);
        ReportDiff? diff = null;
        if (baseline is { } b)
        {
            var changed = new List<(string, string, string)>();
            foreach (var r in results)
            {
                var now2 = ComplianceReport.StatusName(r.Status);
                if (b.Statuses.TryGetValue(r.Control.Id, out var before) && before != now2)
                {
                    changed.Add((r.Control.Id, before, now2));
                }
            }

            diff = new ReportDiff(b.GeneratedAt, b.Score, changed)
            {
                BaselineInputDigest = baselineInputDigest,
                InputsDiffer = baselineInputDigest is not null && baselineInputDigest != inputDigest,
            };
        }

        return new ComplianceReport(framework, now, toolVersion, inputDigest, inputs, results, score, diff);
    }
}
