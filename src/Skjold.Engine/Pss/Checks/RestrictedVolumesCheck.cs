using System.Runtime.InteropServices;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss.Checks;

/// <summary>
/// Inline volumes limited to configMap, csi, downwardAPI, emptyDir, ephemeral, image,
/// persistentVolumeClaim, projected and secret. A volume with no source is defaulted to emptyDir
/// by the API server and is allowed.
/// </summary>
internal sealed class RestrictedVolumesCheck : PssCheck
{
    public override string Name => "restrictedVolumes";

    public override PssLevel Level => PssLevel.Restricted;

    public override string? Overrides => "hostPathVolumes";

    public override void Evaluate(PodTemplateView pod, int minor, ViolationSink report)
    {
        if (pod.Volumes.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var i = 0;
        foreach (var volume in pod.Volumes.EnumerateArray())
        {
            var index = i++;
            if (volume.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            string? forbidden = null;
            var allowed = false;
            foreach (var p in volume.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                var name = JsonMarshal.GetRawUtf8PropertyName(p);
                if (name.SequenceEqual("name"u8))
                {
                    continue;
                }

                if (IsAllowedSource(name))
                {
                    allowed = true;
                    break;
                }

                forbidden ??= p.Name;
            }

            if (allowed || forbidden is null)
            {
                continue;
            }

            var volumeName = Json.GetString(volume, "name") ?? $"#{index}";
            report.Report(JsonPath.Child(JsonPath.Index(JsonPath.Child(pod.SpecPath, "volumes"), index), forbidden),
                "restricted volume types", $"volume {Quote(volumeName)} must not use volume type {Quote(forbidden)}");
        }
    }

    private static bool IsAllowedSource(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("configMap"u8) || name.SequenceEqual("csi"u8) || name.SequenceEqual("downwardAPI"u8) ||
        name.SequenceEqual("emptyDir"u8) || name.SequenceEqual("ephemeral"u8) || name.SequenceEqual("image"u8) ||
        name.SequenceEqual("persistentVolumeClaim"u8) || name.SequenceEqual("projected"u8) || name.SequenceEqual("secret"u8);
}
