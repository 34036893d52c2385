using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// The pod, or every container, must set runAsNonRoot=true and nothing may set it to false.
/// From v1.35 pods in a user namespace (<c>hostUsers: false</c>) are exempt.
/// </summary>
internal sealed class RunAsNonRootCheck : PssCheck
{
    public override string Name => "runAsNonRoot";

    public override PssLevel Level => PssLevel.Restricted;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (minor >= 35 && pod.InUserNamespace)
        {
            return;
        }

        var podValue = pod.PodSecurityContext.RunAsNonRoot;
        var podTrue = Json.IsTrue(podValue);
        if (Json.IsFalse(podValue))
        {
            report.Report(pod.PodSecurityContextPath("runAsNonRoot"), "runAsNonRoot != true",
                "pod must not set securityContext.runAsNonRoot=false");
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            var value = c.SecurityContext.RunAsNonRoot;
            if (Json.IsFalse(value))
            {
                report.Report(c.SecurityContextPath("runAsNonRoot"), "runAsNonRoot != true",
                    ContainerLabel(c) + " must not set securityContext.runAsNonRoot=false");
            }
            else if (!Json.Exists(value) && !podTrue)
            {
                report.Report(c.SecurityContextPath("runAsNonRoot"), "runAsNonRoot != true",
                    $"pod or {ContainerLabel(c)} must set securityContext.runAsNonRoot=true");
            }
        }
    }
}
