using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>hostPath volumes are forbidden.</summary>
internal sealed class HostPathVolumesCheck : PssCheck
{
    public override string Name => "hostPathVolumes";

    public override PssLevel Level => PssLevel.Baseline;

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (pod.Volumes.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var i = 0;
        foreach (var volume in pod.Volumes.EnumerateArray())
        {
            if (volume.ValueKind == JsonValueKind.Object && volume.TryGetProperty("hostPath"u8, out var hp) && hp.ValueKind != JsonValueKind.Null)
            {
                var name = Json.GetString(volume, "name") ?? $"#{i}";
                report.Report(JsonPath.Child(JsonPath.Index(JsonPath.Child(pod.SpecPath, "volumes"), i), "hostPath"),
                    "hostPath volumes", "volume " + Quote(name) + " must not use hostPath");
            }

            i++;
        }
    }
}
