using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>Informational: images pinned by digest.</summary>
internal sealed class ImageDigestCheck : WorkloadCheck
{
    public override string Id => "wl/image-digest";

    public override void Evaluate(EvaluationInput input, ViolationSink report)
    {
        if (input.Pod is not { } pod)
        {
            return;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            var c = pod.Container(i);
            if (Json.AsString(c.Image) is { Length: > 0 } image && ImageReference.Parse(image).Digest is null)
            {
                report.Report(JsonPath.Child(c.Path, "image"), $"container \"{c.DisplayName}\" image {image} is not pinned by digest");
            }
        }
    }
}
