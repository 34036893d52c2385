using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Containers run with a read-only root filesystem.</summary>
internal sealed class ReadOnlyRootFilesystemCheck : WorkloadCheck
{
    public override string Id => "wl/readonly-root-fs";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod || pod.IsWindows)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (!Json.IsTrue(c.SecurityContext.ReadOnlyRootFilesystem))
            {
                report.Report(c.SecurityContextPath("readOnlyRootFilesystem"),
                    $"container \"{c.DisplayName}\" must set securityContext.readOnlyRootFilesystem=true");
            }
        }
    }
}
