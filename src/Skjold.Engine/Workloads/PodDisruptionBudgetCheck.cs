using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>
/// PodDisruptionBudgets that allow no eviction, judged as the disruption controller counts:
/// maxUnavailable 0 or 0%, minAvailable 100%, or, for each workload it selects (when it is in the
/// scan), a budget that keeps every pod: a percentage is scaled to the workload's pods and rounded
/// up (70% of 3 is 3), and a workload an autoscaler manages is judged at the autoscaler's minimum.
/// </summary>
internal sealed class PodDisruptionBudgetCheck : WorkloadCheck
{
    public override string Id => "wl/pdb-no-disruption";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Kind != "PodDisruptionBudget")
        {
            return;
        }

        var spec = Json.Get(input.Resource.Root, "spec"u8);
        var maxUnavailable = Json.Get(spec, "maxUnavailable"u8);
        if (IsZero(maxUnavailable))
        {
            report.Report("spec.maxUnavailable", "PodDisruptionBudget sets maxUnavailable to 0, so no pod can ever be evicted");
            return;
        }

        var minAvailable = Json.Get(spec, "minAvailable"u8);
        if (Json.StringEquals(minAvailable, "100%"u8))
        {
            report.Report("spec.minAvailable", "PodDisruptionBudget sets minAvailable to 100%, so no pod can ever be evicted");
            return;
        }

        var useMin = Json.Exists(minAvailable);
        var value = useMin ? minAvailable : maxUnavailable;
        if (!Json.Exists(value) || Parse(value) is not { } bound)
        {
            return;
        }

        var selector = ResourceIndex.ReadSelector(Json.Get(spec, "selector"u8));
        foreach (var w in input.Index.WorkloadsSelectedBy(input.Resource.Ref.Namespace, selector))
        {
            var autoscaled = input.Index.AutoscalerMinimum(w);
            var expected = autoscaled ?? Json.GetInt64(Json.Get(Json.Get(w.Root, "spec"u8), "replicas"u8)) ?? 1;
            if (expected <= 0)
            {
                continue;
            }

            var scaled = bound.Percent ? (long)Math.Ceiling(bound.Value * expected / 100.0) : bound.Value;
            var desiredHealthy = useMin ? scaled : expected - scaled;
            if (desiredHealthy < expected)
            {
                continue;
            }

            var how = bound.Percent
                ? $"{(useMin ? "minAvailable" : "maxUnavailable")} {Text(value)} of {expected.ToString(CultureInfo.InvariantCulture)} rounds up to {scaled.ToString(CultureInfo.InvariantCulture)}"
                : $"{(useMin ? "minAvailable" : "maxUnavailable")} {bound.Value.ToString(CultureInfo.InvariantCulture)}";
            var runs = autoscaled is not null
                ? $"runs as few as {expected.ToString(CultureInfo.InvariantCulture)} (its autoscaler's minReplicas)"
                : $"runs {expected.ToString(CultureInfo.InvariantCulture)}";
            report.Report(useMin ? "spec.minAvailable" : "spec.maxUnavailable",
                $"PodDisruptionBudget keeps {desiredHealthy.ToString(CultureInfo.InvariantCulture)} pods available ({how}) but {w.Ref.Kind} {w.Ref.Name} {runs}, so no pod can be evicted");
            return;
        }
    }

    private static (long Value, bool Percent)? Parse(JsonElement value)
    {
        if (Json.GetInt64(value) is { } n)
        {
            return (n, false);
        }

        if (Json.AsString(value) is { } s)
        {
            if (s.EndsWith('%') && long.TryParse(s.AsSpan(0, s.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                return (p, true);
            }

            if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                return (i, false);
            }
        }

        return null;
    }

    private static string Text(JsonElement value) => Json.AsString(value) ?? value.GetRawText();

    private static bool IsZero(JsonElement value) =>
        (value.ValueKind == JsonValueKind.Number && Json.GetInt64(value) == 0)
        || Json.StringEquals(value, "0%"u8) || Json.StringEquals(value, "0"u8);
}
