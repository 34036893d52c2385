using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>From v1.23 nothing may set runAsUser=0; from v1.35 pods in a user namespace are exempt.</summary>
internal sealed class RunAsUserCheck : PssCheck
{
    public override string Name => "runAsUser";

    public override PssLevel Level => PssLevel.Restricted;

    public override int MinMinor => 23;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (minor >= 35 && pod.InUserNamespace)
        {
            return;
        }

        if (Json.GetInt64(pod.PodSecurityContext.RunAsUser) == 0)
        {
            report.Report(pod.PodSecurityContextPath("runAsUser"), "runAsUser=0", "pod must not set runAsUser=0");
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (Json.GetInt64(c.SecurityContext.RunAsUser) == 0)
            {
                report.Report(c.SecurityContextPath("runAsUser"), "runAsUser=0", ContainerLabel(c) + " must not set runAsUser=0");
            }
        }
    }
}
