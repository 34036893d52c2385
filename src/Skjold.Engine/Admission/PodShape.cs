using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Admission;

/// <summary>
/// Whether an object sent for admission has the shape of its kind where the checks read it: a Pod
/// (or a controller's pod template) whose spec or container lists are not what the API defines
/// would be judged on nothing, so such objects are refused rather than allowed by default.
/// </summary>
public static class PodShape
{
    private static readonly string[] ContainerLists = ["containers", "initContainers", "ephemeralContainers"];

    /// <summary>Where a kind keeps its pod template ("spec.template", "spec.jobTemplate.spec.template"), or null for kinds without one (and for Pod itself).</summary>
    public static string? TemplatePath(string kind) => PodTemplateView.TemplatePath(kind);

    /// <summary>What is malformed in the object, or null when its pod spec has the expected shape (or it has none).</summary>
    public static string? Problem(JsonElement obj, string kind)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return "the object is not a JSON object";
        }

        string prefix;
        JsonElement spec;
        if (kind == "Pod")
        {
            prefix = "spec";
            spec = Json.Get(obj, "spec"u8);
        }
        else if (PodTemplateView.TemplatePath(kind) is { } path)
        {
            var template = obj;
            foreach (var part in path.Split('.'))
            {
                template = Json.Get(template, part);
                if (template.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined))
                {
                    return $"{path} is not an object";
                }
            }

            prefix = path + ".spec";
            spec = Json.Get(template, "spec"u8);
        }
        else
        {
            return null;
        }

        if (spec.ValueKind != JsonValueKind.Object)
        {
            return spec.ValueKind == JsonValueKind.Undefined ? $"{prefix} is missing" : $"{prefix} is not an object";
        }

        foreach (var list in ContainerLists)
        {
            var containers = Json.Get(spec, list);
            if (containers.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                if (list == "containers")
                {
                    return $"{prefix}.containers is missing";
                }

                continue;
            }

            if (containers.ValueKind != JsonValueKind.Array)
            {
                return $"{prefix}.{list} is not a list";
            }

            var i = 0;
            foreach (var c in containers.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.Object)
                {
                    return $"{prefix}.{list}[{i}] is not an object";
                }

                var sc = Json.Get(c, "securityContext"u8);
                if (sc.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
                {
                    return $"{prefix}.{list}[{i}].securityContext is not an object";
                }

                i++;
            }
        }

        var podSc = Json.Get(spec, "securityContext"u8);
        if (podSc.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            return $"{prefix}.securityContext is not an object";
        }

        var volumes = Json.Get(spec, "volumes"u8);
        if (volumes.ValueKind is not (JsonValueKind.Array or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            return $"{prefix}.volumes is not a list";
        }

        return null;
    }
}
