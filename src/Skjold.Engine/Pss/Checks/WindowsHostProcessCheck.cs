using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>Windows HostProcess containers are forbidden.</summary>
internal sealed class WindowsHostProcessCheck : PssCheck
{
    public override string Name => "windowsHostProcess";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (Json.IsTrue(pod.PodSecurityContext.HostProcess))
        {
            report.Report(pod.PodSecurityContextPath("windowsOptions") + ".hostProcess", "hostProcess",
                "pod must not set securityContext.windowsOptions.hostProcess=true");
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (Json.IsTrue(c.SecurityContext.HostProcess))
            {
                report.Report(c.SecurityContextPath("windowsOptions") + ".hostProcess", "hostProcess",
                    ContainerLabel(c) + " must not set securityContext.windowsOptions.hostProcess=true");
            }
        }
    }
}
