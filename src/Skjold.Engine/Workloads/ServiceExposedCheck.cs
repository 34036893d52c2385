using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Services of type LoadBalancer or NodePort.</summary>
internal sealed class ServiceExposedCheck : WorkloadCheck
{
    public override string Id => "wl/service-exposed";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Kind != "Service")
        {
            return;
        }

        var type = Json.GetString(Json.Get(input.Resource.Root, "spec"u8), "type");
        if (type is "LoadBalancer" or "NodePort")
        {
            report.Report("spec.type", $"Service is of type {type} and reachable from outside the cluster");
        }
    }
}
