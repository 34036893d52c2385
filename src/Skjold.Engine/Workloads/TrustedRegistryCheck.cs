using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Images only from the registries trusted in skjold.yaml (inactive while that list is empty).</summary>
internal sealed class TrustedRegistryCheck : WorkloadCheck
{
    public override string Id => "wl/trusted-registry";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        var trusted = input.Policy.TrustedRegistries;
        if (input.Pod is not { } pod || trusted.Count == 0)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (Json.AsString(c.Image) is not { Length: > 0 } image)
            {
                continue;
            }

            var reference = ImageReference.Parse(image);
            var ok = false;
            foreach (var t in trusted)
            {
                if (reference.IsFrom(t))
                {
                    ok = true;
                    break;
                }
            }

            if (!ok)
            {
                report.Report(JsonPath.Child(c.Path, "image"),
                    $"container \"{c.DisplayName}\" uses image from {reference.Registry}, which is not a trusted registry");
            }
        }
    }
}
