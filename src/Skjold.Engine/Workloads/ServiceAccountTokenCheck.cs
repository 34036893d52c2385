using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>
/// Pods should not mount a service account token unless they call the API. The pod's own
/// automountServiceAccountToken wins; otherwise its service account's setting (when in the scan).
/// </summary>
internal sealed class ServiceAccountTokenCheck : WorkloadCheck
{
    public override string Id => "wl/sa-token-automount";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
        {
            return;
        }

        if (Json.IsFalse(pod.AutomountServiceAccountToken))
        {
            return;
        }

        var saName = Json.AsString(pod.ServiceAccountName) ?? "default";
        if (!Json.IsTrue(pod.AutomountServiceAccountToken)
            && input.Index.ServiceAccount(input.Resource.Ref.Namespace, saName) is { } sa
            && Json.IsFalse(Json.Get(sa.Root, "automountServiceAccountToken"u8)))
        {
            return;
        }

        report.Report(JsonPath.Child(pod.SpecPath, "automountServiceAccountToken"),
            $"pod mounts a token for service account \"{saName}\"; set automountServiceAccountToken=false unless it calls the API");
    }
}
