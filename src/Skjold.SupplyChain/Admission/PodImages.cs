using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Admission;

namespace Skjold.SupplyChain.Admission;

/// <summary>The images a pod (or a controller's pod template) runs, with the JSON Pointer of each image field.</summary>
public static class PodImages
{
    private static readonly string[] Lists = ["containers", "initContainers", "ephemeralContainers"];

    public static IReadOnlyList<(string Pointer, string Container, string Image)> Of(JsonElement obj, string kind)
    {
        var result = new List<(string, string, string)>();
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return result;
        }

        string prefix;
        JsonElement template;
        if (kind == "Pod")
        {
            template = obj;
            prefix = "";
        }
        else if (PodShape.TemplatePath(kind) is { } path)
        {
            template = obj;
            foreach (var part in path.Split('.'))
            {
                if (template.ValueKind != JsonValueKind.Object || !template.TryGetProperty(part, out template))
                {
                    return result;
                }
            }

            prefix = "/" + path.Replace('.', '/');
        }
        else
        {
            return result;
        }

        if (template.ValueKind != JsonValueKind.Object || !template.TryGetProperty("spec", out var spec) || spec.ValueKind != JsonValueKind.Object)
        {
            return result;
        }

        foreach (var list in Lists)
        {
            if (!spec.TryGetProperty(list, out var containers) || containers.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var i = 0;
            foreach (var c in containers.EnumerateArray())
            {
                if (c.ValueKind == JsonValueKind.Object && c.TryGetProperty("image", out var image) && image.ValueKind == JsonValueKind.String)
                {
                    var name = c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : i.ToString(CultureInfo.InvariantCulture);
                    result.Add(($"{prefix}/spec/{list}/{i}/image", name, image.GetString()!));
                }

                i++;
            }
        }

        return result;
    }
}
