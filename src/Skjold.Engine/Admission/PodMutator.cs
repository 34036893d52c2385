using System.Text;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;

namespace Skjold.Engine.Admission;

/// <summary>
/// Computes the safe defaults that bring a pod closer to restricted, as an RFC 6902 JSON Patch.
/// Only fills what is missing, never overrides an explicit choice, and never adds something the
/// API server would reject (allowPrivilegeEscalation=false beside privileged or CAP_SYS_ADMIN).
/// runAsNonRoot is added only where a non-zero runAsUser already guarantees it holds.
/// </summary>
public static class PodMutator
{
    public static (byte[]? Patch, IReadOnlyList<string> Changes) Mutate(JsonElement pod)
    {
        var view = new PodTemplateView();
        view.Read(pod, string.Empty);
        if (view.Spec.ValueKind != JsonValueKind.Object || view.IsWindows)
        {
            return (null, []);
        }

        var ops = new List<(string Op, string Path, string ValueJson)>();
        var changes = new List<string>();
        var podSc = view.PodSecurityContext;

        var allContainersSetSeccomp = view.ContainerCount > 0;
        var allContainersNonZeroUser = view.ContainerCount > 0;
        for (var i = 0; i < view.ContainerCount; i++)
        {
            var sc = view.Container(i).SecurityContext;
            allContainersSetSeccomp &= sc.SeccompProfile.ValueKind == JsonValueKind.Object;
            allContainersNonZeroUser &= Json.GetInt64(sc.RunAsUser) is > 0;
        }

        var podFields = new List<string>();
        if (podSc.SeccompProfile.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null && !allContainersSetSeccomp)
        {
            podFields.Add("\"seccompProfile\":{\"type\":\"RuntimeDefault\"}");
            changes.Add("pod: set securityContext.seccompProfile.type=RuntimeDefault");
        }

        var podUserNonZero = Json.GetInt64(podSc.RunAsUser) is > 0;
        if (!Json.Exists(podSc.RunAsNonRoot) && (podUserNonZero || allContainersNonZeroUser) && !AnyContainerRunsAsRoot(view))
        {
            podFields.Add("\"runAsNonRoot\":true");
            changes.Add("pod: set securityContext.runAsNonRoot=true (runAsUser is non-zero)");
        }

        if (podFields.Count > 0)
        {
            if (podSc.IsSet)
            {
                foreach (var f in podFields)
                {
                    var colon = f.IndexOf(':', StringComparison.Ordinal);
                    ops.Add(("add", "/spec/securityContext/" + f[1..(colon - 1)], f[(colon + 1)..]));
                }
            }
            else
            {
                ops.Add(("add", "/spec/securityContext", "{" + string.Join(",", podFields) + "}"));
            }
        }

        for (var i = 0; i < view.ContainerCount; i++)
        {
            var c = view.Container(i);
            if (c.Kind == ContainerKind.Ephemeral)
            {
                continue;
            }

            var basePath = $"/spec/{c.KindField}/{c.Index}";
            var who = $"container \"{Escape(c.DisplayName)}\"";
            var sc = c.SecurityContext;
            var privileged = Json.IsTrue(sc.Privileged);
            var addsSysAdmin = AddsSysAdmin(sc.CapAdd);
            if (!sc.IsSet)
            {
                ops.Add(("add", basePath + "/securityContext", "{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]}}"));
                changes.Add($"{who}: set allowPrivilegeEscalation=false and capabilities.drop=[ALL]");
                continue;
            }

            if (!Json.Exists(sc.AllowPrivilegeEscalation) && !privileged && !addsSysAdmin)
            {
                ops.Add(("add", basePath + "/securityContext/allowPrivilegeEscalation", "false"));
                changes.Add($"{who}: set allowPrivilegeEscalation=false");
            }

            var caps = SecurityContextView.Field(sc.Element, "capabilities"u8);
            if (caps.ValueKind != JsonValueKind.Object)
            {
                ops.Add(("add", basePath + "/securityContext/capabilities", "{\"drop\":[\"ALL\"]}"));
                changes.Add($"{who}: set capabilities.drop=[ALL]");
            }
            else if (sc.CapDrop.ValueKind != JsonValueKind.Array)
            {
                ops.Add(("add", basePath + "/securityContext/capabilities/drop", "[\"ALL\"]"));
                changes.Add($"{who}: set capabilities.drop=[ALL]");
            }
            else if (!Pss.Checks.CapabilitiesRestrictedCheck.Contains(sc.CapDrop, "ALL"u8))
            {
                ops.Add(("add", basePath + "/securityContext/capabilities/drop/-", "\"ALL\""));
                changes.Add($"{who}: add ALL to capabilities.drop");
            }
        }

        if (ops.Count == 0)
        {
            return (null, []);
        }

        var sb = new StringBuilder("[");
        for (var i = 0; i < ops.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append("{\"op\":\"").Append(ops[i].Op).Append("\",\"path\":").Append(JsonSerializer.Serialize(ops[i].Path, EngineJsonContext.Default.String))
                .Append(",\"value\":").Append(ops[i].ValueJson).Append('}');
        }

        sb.Append(']');
        return (Encoding.UTF8.GetBytes(sb.ToString()), changes);
    }

    private static bool AnyContainerRunsAsRoot(PodTemplateView view)
    {
        for (var i = 0; i < view.ContainerCount; i++)
        {
            var sc = view.Container(i).SecurityContext;
            if (Json.GetInt64(sc.RunAsUser) == 0 || Json.IsFalse(sc.RunAsNonRoot))
            {
                return true;
            }
        }

        return false;
    }

    private static bool AddsSysAdmin(JsonElement add)
    {
        if (add.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var c in add.EnumerateArray())
        {
            var s = Json.AsString(c);
            if (s is not null && (s.Equals("SYS_ADMIN", StringComparison.OrdinalIgnoreCase) || s.Equals("CAP_SYS_ADMIN", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static string Escape(string s) => s.Replace("\"", "\\\"", StringComparison.Ordinal);
}
