using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Images must carry a tag other than latest (or a digest).</summary>
internal sealed class ImageTagCheck : WorkloadCheck
{
    public override string Id => "wl/image-tag";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
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
            if (reference.HasValidDigest)
            {
                continue;
            }

            if (reference.Tag is null)
            {
                report.Report(JsonPath.Child(c.Path, "image"), $"container \"{c.DisplayName}\" image {image} has no tag (defaults to latest)");
            }
            else if (reference.Tag == "latest")
            {
                report.Report(JsonPath.Child(c.Path, "image"), $"container \"{c.DisplayName}\" image {image} uses the latest tag");
            }
        }
    }
}
