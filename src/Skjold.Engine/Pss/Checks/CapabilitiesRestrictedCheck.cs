using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// From v1.22 every container must drop ALL capabilities and may add back only NET_BIND_SERVICE.
/// Windows pods are exempt from v1.25.
/// </summary>
internal sealed class CapabilitiesRestrictedCheck : PssCheck
{
    public override string Name => "capabilities_restricted";

    public override PssLevel Level => PssLevel.Restricted;

    public override int MinMinor => 22;

    public override string? Overrides => "capabilities_baseline";

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (minor >= 25 && pod.IsWindows)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (!Contains(c.SecurityContext.CapDrop, "ALL"u8))
            {
                report.Report(c.SecurityContextPath("capabilities") + ".drop", "unrestricted capabilities",
                    ContainerLabel(c) + " must set securityContext.capabilities.drop=[\"ALL\"]");
            }

            if (c.SecurityContext.CapAdd.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var j = 0;
            foreach (var cap in c.SecurityContext.CapAdd.EnumerateArray())
            {
                if (!Json.StringEquals(cap, "NET_BIND_SERVICE"u8))
                {
                    report.Report(JsonPath.Index(c.SecurityContextPath("capabilities") + ".add", j), "unrestricted capabilities",
                        $"{ContainerLabel(c)} must not include {Quote(Json.AsString(cap) ?? cap.GetRawText())} in securityContext.capabilities.add");
                }

                j++;
            }
        }
    }

    internal static bool Contains(JsonElement array, ReadOnlySpan<byte> value)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var item in array.EnumerateArray())
        {
            if (Json.StringEquals(item, value))
            {
                return true;
            }
        }

        return false;
    }
}
