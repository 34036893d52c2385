using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// From v1.19 the pod, or every container, must set seccompProfile.type to RuntimeDefault or
/// Localhost, and nothing may set another type. Windows pods are exempt from v1.25.
/// </summary>
internal sealed class SeccompProfileRestrictedCheck : PssCheck
{
    public override string Name => "seccompProfile_restricted";

    public override PssLevel Level => PssLevel.Restricted;

    public override int MinMinor => 19;

    public override string? Overrides => "seccompProfile_baseline";

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (minor >= 25 && pod.IsWindows)
        {
            return;
        }

        var podSet = false;
        if (pod.PodSecurityContext.SeccompProfile.ValueKind == JsonValueKind.Object)
        {
            if (Allowed(pod.PodSecurityContext.SeccompType))
            {
                podSet = true;
            }
            else
            {
                report.Report(pod.PodSecurityContextPath("seccompProfile") + ".type", "seccompProfile",
                    $"pod must not set securityContext.seccompProfile.type to {Quote(Json.AsString(pod.PodSecurityContext.SeccompType) ?? "")}");
            }
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.SecurityContext.SeccompProfile.ValueKind == JsonValueKind.Object)
            {
                if (!Allowed(c.SecurityContext.SeccompType))
                {
                    report.Report(c.SecurityContextPath("seccompProfile") + ".type", "seccompProfile",
                        $"{ContainerLabel(c)} must not set securityContext.seccompProfile.type to {Quote(Json.AsString(c.SecurityContext.SeccompType) ?? "")}");
                }
            }
            else if (!podSet)
            {
                report.Report(c.SecurityContextPath("seccompProfile"), "seccompProfile",
                    $"pod or {ContainerLabel(c)} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"");
            }
        }
    }

    private static bool Allowed(JsonElement type) =>
        Json.StringEquals(type, "RuntimeDefault"u8) || Json.StringEquals(type, "Localhost"u8);
}
