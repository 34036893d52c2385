using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// AppArmor may not be disabled: profile types RuntimeDefault or Localhost only, and the legacy
/// per-container annotations only runtime/default or localhost/*.
/// </summary>
internal sealed class AppArmorProfileCheck : PssCheck
{
    private const string AnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";

    public override string Name => "appArmorProfile";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (pod.PodSecurityContext.AppArmorProfile.ValueKind == JsonValueKind.Object && !AllowedType(pod.PodSecurityContext.AppArmorType))
        {
            report.Report(pod.PodSecurityContextPath("appArmorProfile") + ".type", "forbidden AppArmor profile",
                "pod must not set AppArmor profile type to " + Quote(Json.AsString(pod.PodSecurityContext.AppArmorType) ?? ""));
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (c.SecurityContext.AppArmorProfile.ValueKind == JsonValueKind.Object && !AllowedType(c.SecurityContext.AppArmorType))
            {
                report.Report(c.SecurityContextPath("appArmorProfile") + ".type", "forbidden AppArmor profile",
                    $"{ContainerLabel(c)} must not set AppArmor profile type to {Quote(Json.AsString(c.SecurityContext.AppArmorType) ?? "")}");
            }
        }

        if (pod.Annotations.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var a in pod.Annotations.EnumerateObject())
        {
            if (!System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(a).StartsWith("container.apparmor.security.beta.kubernetes.io/"u8)
                || !a.Name.StartsWith(AnnotationPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var value = Json.AsString(a.Value) ?? string.Empty;
            if (value.Length == 0 || value == "runtime/default" || value.StartsWith("localhost/", StringComparison.Ordinal))
            {
                continue;
            }

            report.Report(JsonPath.Child(JsonPath.Child(pod.MetadataPath, "annotations"), a.Name), "forbidden AppArmor profile",
                $"annotation {a.Name}={Quote(value)} must not disable AppArmor");
        }
    }

    private static bool AllowedType(JsonElement type) =>
        Json.StringEquals(type, "RuntimeDefault"u8) || Json.StringEquals(type, "Localhost"u8);
}
