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
            if (Json.AsString(c.Image) is { Length: > 0 } image && ImageReference.Parse(image) is { HasValidDigest: false } reference)
            {
                report.Report(JsonPath.Child(c.Path, "image"), reference.Digest is null
                    ? $"container \"{c.DisplayName}\" image {image} is not pinned by digest"
                    : $"container \"{c.DisplayName}\" image {image} has a malformed digest (expected sha256: with 64 or sha512: with 128 lower-case hex digits), so it is not pinned");
            }
        }
    }
}
