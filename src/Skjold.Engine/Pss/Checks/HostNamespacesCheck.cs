using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>hostNetwork, hostPID and hostIPC must be unset or false.</summary>
internal sealed class HostNamespacesCheck : PssCheck
{
    public override string Name => "hostNamespaces";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (Json.IsTrue(pod.HostNetwork))
        {
            report.Report(JsonPath.Child(pod.SpecPath, "hostNetwork"), "host namespaces", "hostNetwork=true");
        }

        if (Json.IsTrue(pod.HostPid))
        {
            report.Report(JsonPath.Child(pod.SpecPath, "hostPID"), "host namespaces", "hostPID=true");
        }

        if (Json.IsTrue(pod.HostIpc))
        {
            report.Report(JsonPath.Child(pod.SpecPath, "hostIPC"), "host namespaces", "hostIPC=true");
        }
    }
}
