using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>SELinux type limited to the container types; user and role must not be set.</summary>
internal sealed class SeLinuxOptionsCheck : PssCheck
{
    public override string Name => "seLinuxOptions";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        Check(pod.PodSecurityContext.SeLinuxOptions, pod, null, minor, report);
        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            Check(c.SecurityContext.SeLinuxOptions, pod, c, minor, report);
        }
    }

    private static void Check(JsonElement options, PodTemplateView pod, ContainerView? c, int minor, ViolationSink report)
    {
        if (options.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var type = Json.Get(options, "type"u8);
        var badType = Json.IsNonEmptyString(type) && !AllowedType(type, minor);
        var badUser = Json.IsNonEmptyString(Json.Get(options, "user"u8));
        var badRole = Json.IsNonEmptyString(Json.Get(options, "role"u8));
        if (!(badType || badUser || badRole))
        {
            return;
        }

        var path = c is null ? pod.PodSecurityContextPath("seLinuxOptions") : c.SecurityContextPath("seLinuxOptions");
        var who = c is null ? "pod" : ContainerLabel(c);

        if (badType)
        {
            report.Report(path + ".type", "seLinuxOptions",
                $"{who} must not set securityContext.seLinuxOptions.type to {Quote(type.GetString()!)}");
        }

        if (badUser)
        {
            report.Report(path + ".user", "seLinuxOptions", who + " must not set securityContext.seLinuxOptions.user");
        }

        if (badRole)
        {
            report.Report(path + ".role", "seLinuxOptions", who + " must not set securityContext.seLinuxOptions.role");
        }
    }

    private static bool AllowedType(JsonElement type, int minor) =>
        type.ValueEquals("container_t"u8) || type.ValueEquals("container_init_t"u8) || type.ValueEquals("container_kvm_t"u8)
        || (minor >= 31 && type.ValueEquals("container_engine_t"u8));
}
