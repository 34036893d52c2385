using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>Containers may add only capabilities from the container runtime's default set.</summary>
internal sealed class CapabilitiesBaselineCheck : PssCheck
{
    public override string Name => "capabilities_baseline";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            var add = c.SecurityContext.CapAdd;
            if (add.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var j = 0;
            foreach (var cap in add.EnumerateArray())
            {
                if (!IsDefault(cap))
                {
                    report.Report(
                        JsonPath.Index(c.SecurityContextPath("capabilities") + ".add", j),
                        "non-default capabilities",
                        $"{ContainerLabel(c)} must not include {Quote(Json.AsString(cap) ?? cap.GetRawText())} in securityContext.capabilities.add");
                }

                j++;
            }
        }
    }

    internal static bool IsDefault(JsonElement cap) =>
        cap.ValueKind == JsonValueKind.String && (
            cap.ValueEquals("AUDIT_WRITE"u8) || cap.ValueEquals("CHOWN"u8) || cap.ValueEquals("DAC_OVERRIDE"u8) ||
            cap.ValueEquals("FOWNER"u8) || cap.ValueEquals("FSETID"u8) || cap.ValueEquals("KILL"u8) ||
            cap.ValueEquals("MKNOD"u8) || cap.ValueEquals("NET_BIND_SERVICE"u8) || cap.ValueEquals("SETFCAP"u8) ||
            cap.ValueEquals("SETGID"u8) || cap.ValueEquals("SETPCAP"u8) || cap.ValueEquals("SETUID"u8) ||
            cap.ValueEquals("SYS_CHROOT"u8));
}
