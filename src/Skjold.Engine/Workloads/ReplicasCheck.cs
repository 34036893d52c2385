using System.Globalization;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>
/// Deployments, StatefulSets, ReplicaSets and ReplicationControllers run at least two replicas
/// (or are scaled by an autoscaler with minReplicas of two or more). Zero means deliberately
/// scaled down and is not reported; ReplicaSets owned by a Deployment are judged through it.
/// </summary>
internal sealed class ReplicasCheck : WorkloadCheck
{
    public override string Id => "wl/replicas";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Kind is not ("Deployment" or "StatefulSet" or "ReplicaSet" or "ReplicationController"))
        {
            return;
        }

        if (ResourceIndex.ControllerKind(input.Resource) is not null)
        {
            return;
        }

        var replicas = Json.GetInt64(Json.Get(Json.Get(input.Resource.Root, "spec"u8), "replicas"u8)) ?? 1;
        if (replicas == 0 || replicas >= 2 || input.Index.AutoscalerMinimum(input.Resource) >= 2)
        {
            return;
        }

        report.Report("spec.replicas", $"{input.Kind} runs {replicas.ToString(CultureInfo.InvariantCulture)} replica; a node drain or crash takes it down");
    }
}
