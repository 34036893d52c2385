using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>From v1.8 every container must set allowPrivilegeEscalation=false; Windows pods exempt from v1.25.</summary>
internal sealed class AllowPrivilegeEscalationCheck : PssCheck
{
    public override string Name => "allowPrivilegeEscalation";

    public override PssLevel Level => PssLevel.Restricted;

    public override int MinMinor => 8;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (minor >= 25 && pod.IsWindows)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (!Json.IsFalse(c.SecurityContext.AllowPrivilegeEscalation))
            {
                report.Report(c.SecurityContextPath("allowPrivilegeEscalation"), "allowPrivilegeEscalation != false",
                    ContainerLabel(c) + " must set securityContext.allowPrivilegeEscalation=false");
            }
        }
    }
}
