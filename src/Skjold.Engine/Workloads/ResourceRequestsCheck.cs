using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Workloads;

/// <summary>Every container and init container requests CPU and memory.</summary>
internal sealed class ResourceRequestsCheck : WorkloadCheck
{
    public override string Id => "wl/resource-requests";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.Kind == ContainerKind.Ephemeral)
            {
                continue;
            }

            var requests = Json.Get(c.Resources, "requests"u8);
            var missingCpu = !Json.Exists(Json.Get(requests, "cpu"u8));
            var missingMemory = !Json.Exists(Json.Get(requests, "memory"u8));
            if (missingCpu || missingMemory)
            {
                var what = missingCpu && missingMemory ? "CPU and memory" : missingCpu ? "CPU" : "memory";
                report.Report(JsonPath.Child(JsonPath.Child(c.Path, "resources"), "requests"),
                    $"container \"{c.DisplayName}\" has no {what} request");
            }
        }
    }
}
