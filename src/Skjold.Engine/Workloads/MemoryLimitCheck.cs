using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Workloads;

/// <summary>Every container and init container has a memory limit.</summary>
internal sealed class MemoryLimitCheck : WorkloadCheck
{
    public override string Id => "wl/memory-limit";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.Kind != ContainerKind.Ephemeral && !Json.Exists(Json.Get(Json.Get(c.Resources, "limits"u8), "memory"u8)))
            {
                report.Report(JsonPath.Child(JsonPath.Child(c.Path, "resources"), "limits"),
                    $"container \"{c.DisplayName}\" has no memory limit");
            }
        }
    }
}
