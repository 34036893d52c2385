using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>No container may run privileged.</summary>
internal sealed class PrivilegedCheck : PssCheck
{
    public override string Name => "privileged";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (Json.IsTrue(c.SecurityContext.Privileged))
            {
                report.Report(c.SecurityContextPath("privileged"), "privileged",
                    ContainerLabel(c) + " must not set securityContext.privileged=true");
            }
        }
    }
}
