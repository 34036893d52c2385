using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Workloads;

/// <summary>Long-running containers have a liveness (or readiness) probe. Batch workloads are exempt.</summary>
internal sealed class ProbeCheck(bool liveness) : WorkloadCheck
{
    public override string Id => liveness ? "wl/liveness-probe" : "wl/readiness-probe";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod || input.IsBatch)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.Kind != ContainerKind.Container)
            {
                continue;
            }

            var probe = liveness ? c.LivenessProbe : c.ReadinessProbe;
            if (!Json.Exists(probe))
            {
                var field = liveness ? "livenessProbe" : "readinessProbe";
                report.Report(JsonPath.Child(c.Path, field), $"container \"{c.DisplayName}\" has no {field}");
            }
        }
    }
}
