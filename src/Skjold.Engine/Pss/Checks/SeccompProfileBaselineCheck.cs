using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// Seccomp may not be switched off: before v1.19 through the alpha annotations, from v1.19 through
/// the securityContext.seccompProfile fields.
/// </summary>
internal sealed class SeccompProfileBaselineCheck : PssCheck
{
    private const string PodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
    private const string ContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/";

    public override string Name => "seccompProfile_baseline";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (minor < 19)
        {
            EvaluateAnnotations(pod, report);
            return;
        }

        if (Json.StringEquals(pod.PodSecurityContext.SeccompType, "Unconfined"u8))
        {
            report.Report(pod.PodSecurityContextPath("seccompProfile") + ".type", "seccompProfile",
                "pod must not set securityContext.seccompProfile.type to \"Unconfined\"");
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (Json.StringEquals(c.SecurityContext.SeccompType, "Unconfined"u8))
            {
                report.Report(c.SecurityContextPath("seccompProfile") + ".type", "seccompProfile",
                    ContainerLabel(c) + " must not set securityContext.seccompProfile.type to \"Unconfined\"");
            }
        }
    }

    private static void EvaluateAnnotations(PodTemplateView pod, ViolationSink report)
    {
        var annotationsPath = JsonPath.Child(pod.MetadataPath, "annotations");
        if (Json.StringEquals(Json.Get(pod.Annotations, PodAnnotation), "unconfined"u8))
        {
            report.Report(JsonPath.Child(annotationsPath, PodAnnotation), "seccompProfile",
                $"annotation {PodAnnotation}=\"unconfined\" must not disable seccomp");
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            var key = ContainerAnnotationPrefix + c.DisplayName;
            if (Json.StringEquals(Json.Get(pod.Annotations, key), "unconfined"u8))
            {
                report.Report(JsonPath.Child(annotationsPath, key), "seccompProfile",
                    $"annotation {key}=\"unconfined\" must not disable seccomp for {ContainerLabel(c)}");
            }
        }
    }
}
