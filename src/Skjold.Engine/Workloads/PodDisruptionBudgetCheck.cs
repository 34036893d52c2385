using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>
/// PodDisruptionBudgets that allow no eviction: maxUnavailable 0 or 0%, minAvailable 100%, or
/// minAvailable at least the replica count of the workloads it selects (when they are in the scan).
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

        if (Json.GetInt64(minAvailable) is not { } min)
        {
            return;
        }

        var selector = ResourceIndex.ReadSelector(Json.Get(spec, "selector"u8));
        foreach (var w in input.Index.WorkloadsSelectedBy(input.Resource.Ref.Namespace, selector))
        {
            var replicas = Json.GetInt64(Json.Get(Json.Get(w.Root, "spec"u8), "replicas"u8)) ?? 1;
            if (replicas > 0 && min >= replicas)
            {
                report.Report("spec.minAvailable",
                    $"PodDisruptionBudget requires {min.ToString(CultureInfo.InvariantCulture)} available pods but {w.Ref.Kind} {w.Ref.Name} runs {replicas.ToString(CultureInfo.InvariantCulture)}, so no pod can be evicted");
                return;
            }
        }
    }

    private static bool IsZero(JsonElement value) =>
        (value.ValueKind == JsonValueKind.Number && Json.GetInt64(value) == 0)
        || Json.StringEquals(value, "0%"u8) || Json.StringEquals(value, "0"u8);
}
