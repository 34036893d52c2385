using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// The default /proc masks must stay. From v1.35 the baseline level allows other procMount values
/// for pods in a user namespace (<c>hostUsers: false</c>); restricted never does.
/// </summary>
internal sealed class ProcMountCheck(bool restricted) : PssCheck
{
    public override string Name => restricted ? "procMount_restricted" : "procMount";

    public override PssLevel Level => restricted ? PssLevel.Restricted : PssLevel.Baseline;

    public override int MinMinor => restricted ? 35 : 0;

    public override string? Overrides => restricted ? "procMount" : null;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (!restricted && minor >= 35 && pod.InUserNamespace)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            var pm = c.SecurityContext.ProcMount;
            if (Json.Exists(pm) && !Json.StringEquals(pm, "Default"u8))
            {
                report.Report(c.SecurityContextPath("procMount"), "procMount",
                    $"{ContainerLabel(c)} must not set securityContext.procMount to {Quote(Json.AsString(pm) ?? pm.GetRawText())}");
            }
        }
    }
}
