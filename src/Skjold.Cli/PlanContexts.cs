using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Incidents;

namespace Skjold.Cli;

/// <summary>What a snapshot tells a runbook plan about its target: containers, images, service account, secrets, pods on a node, mounters, bindings.</summary>
internal static class PlanContexts
{
    public static PlanContext From(Incident incident, IReadOnlyList<Resource> resources)
    {
        var t = incident.Targets[0];
        var plan = new PlanContext();
        switch (incident.Type)
        {
            case IncidentType.PodCompromise when resources.FirstOrDefault(r => r.Kind == "Pod" && r.Ref.Namespace == t.Namespace && r.Ref.Name == t.Name) is { } pod:
                var spec = pod.Root.GetProperty("spec");
                var containers = Strings(spec, "containers", "name").Concat(Strings(spec, "initContainers", "name")).ToList();
                var images = Strings(spec, "containers", "image").Concat(Strings(spec, "initContainers", "image")).Distinct().ToList();
                plan = plan with
                {
                    Containers = containers,
                    Images = images,
                    ServiceAccount = spec.TryGetProperty("serviceAccountName", out var sa) ? sa.GetString() : "default",
                    MountedSecrets = spec.TryGetProperty("volumes", out var vols) && vols.ValueKind == JsonValueKind.Array
                        ? [.. vols.EnumerateArray().Where(v => v.TryGetProperty("secret", out _)).Select(v => v.GetProperty("secret").TryGetProperty("secretName", out var n) ? n.GetString()! : "?")]
                        : [],
                    Node = spec.TryGetProperty("nodeName", out var node) ? node.GetString() : null,
                };
                break;
            case IncidentType.NodeCompromise:
                plan = plan with
                {
                    PodsOnNode = [.. resources.Where(r => r.Kind == "Pod" && r.Root.TryGetProperty("spec", out var s) && s.TryGetProperty("nodeName", out var n) && n.GetString() == t.Name).Select(r => $"{r.Ref.Namespace}/{r.Ref.Name}")],
                };
                break;
            case IncidentType.SecretExposed:
                var model = Skjold.Engine.Rbac.RbacModel.Build(resources, new Skjold.Engine.Rbac.RbacModelOptions());
                var readers = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var verb in new[] { "get", "list", "watch" })
                {
                    foreach (var g in model.WhoCan(verb, "secrets", ns: t.Namespace, name: verb == "get" ? t.Name : null))
                    {
                        readers.Add($"{g.Subject.Kind} {(g.Subject.Namespace is null ? "" : g.Subject.Namespace + "/")}{g.Subject.Name} ({verb}, {g.Via})");
                    }
                }

                plan = plan with
                {
                    Readers = [.. readers],
                    Mounters = [.. resources.Where(r => r.Ref.Namespace == t.Namespace && r.Kind is "Deployment" or "StatefulSet" or "DaemonSet" && r.Root.GetRawText().Contains($"\"{t.Name}\"", StringComparison.Ordinal))
                        .Select(r => $"{r.Kind}/{r.Ref.Namespace}/{r.Ref.Name}")],
                };
                break;
            case IncidentType.UnauthorizedAccess:
                var subjectKind = t.Kind == "serviceaccount" ? "ServiceAccount" : "User";
                plan = plan with
                {
                    Bindings = [.. resources.Where(r => r.Kind is "RoleBinding" or "ClusterRoleBinding" && r.Root.TryGetProperty("subjects", out var subs) && subs.ValueKind == JsonValueKind.Array
                        && subs.EnumerateArray().Any(s => s.TryGetProperty("kind", out var k) && k.GetString() == subjectKind && s.TryGetProperty("name", out var n) && n.GetString() == t.Name
                            && (subjectKind != "ServiceAccount" || (s.TryGetProperty("namespace", out var ns) && ns.GetString() == t.Namespace))))
                        .Select(r => r.Kind == "ClusterRoleBinding" ? $"ClusterRoleBinding/{r.Ref.Name}" : $"RoleBinding/{r.Ref.Namespace}/{r.Ref.Name}")],
                };
                break;
        }

        return plan;
    }

    private static IEnumerable<string> Strings(JsonElement spec, string list, string field)
    {
        if (spec.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in items.EnumerateArray())
            {
                if (c.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String)
                {
                    yield return v.GetString()!;
                }
            }
        }
    }
}
