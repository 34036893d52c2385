namespace Skjold.Incidents;

/// <summary>
/// The RBAC an incident responder needs to apply every runbook, derived from the plans themselves (so the role and
/// the runbooks cannot drift apart): one rule per API group and resource with the verbs the steps use.
/// </summary>
public static class ResponderRole
{
    private static readonly Dictionary<string, string> Groups = new(StringComparer.Ordinal)
    {
        ["pods"] = "", ["pods/log"] = "", ["pods/exec"] = "", ["pods/eviction"] = "", ["events"] = "", ["nodes"] = "", ["secrets"] = "",
        ["networkpolicies"] = "networking.k8s.io",
        ["rolebindings"] = "rbac.authorization.k8s.io", ["clusterrolebindings"] = "rbac.authorization.k8s.io",
        ["deployments"] = "apps", ["statefulsets"] = "apps", ["daemonsets"] = "apps",
    };

    public static IReadOnlyList<(string ApiGroup, string Resource, IReadOnlyList<string> Verbs)> Rules()
    {
        var verbs = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var type in Enum.GetValues<IncidentType>())
        {
            var target = type switch
            {
                IncidentType.NodeCompromise => new IncidentTarget("node", null, "n"),
                IncidentType.UnauthorizedAccess => new IncidentTarget("serviceaccount", "ns", "sa"),
                IncidentType.SecretExposed => new IncidentTarget("secret", "ns", "s"),
                _ => new IncidentTarget("pod", "ns", "p"),
            };
            var incident = new Incident("INC-0", type, [target], "high", DateTimeOffset.UnixEpoch, "", IncidentStatus.Open, new PersonalDataAssessment(null, null), null, []);
            foreach (var rbac in RunbookPlans.Rbac(RunbookPlans.For(incident)))
            {
                var space = rbac.IndexOf(' ', StringComparison.Ordinal);
                var resource = rbac[(space + 1)..];
                if (!verbs.TryGetValue(resource, out var set))
                {
                    verbs[resource] = set = new SortedSet<string>(StringComparer.Ordinal);
                }

                set.Add(rbac[..space]);
            }
        }

        return [.. verbs.Select(kv => (Groups.TryGetValue(kv.Key, out var g) ? g : "", kv.Key, (IReadOnlyList<string>)[.. kv.Value]))];
    }

    /// <summary>A ClusterRole and a ClusterRoleBinding to <paramref name="group"/>, as YAML.</summary>
    public static string Yaml(string group)
    {
        var rules = string.Join("\n", Rules().Select(r => $"  - apiGroups: [\"{r.ApiGroup}\"]\n    resources: [\"{r.Resource}\"]\n    verbs: [{string.Join(", ", r.Verbs.Select(v => $"\"{v}\""))}]"));
        return $"""
            # What `skjold incident apply` needs for every runbook (derived from the runbooks). Bind it to the people on
            # incident duty only: pods/exec, secrets and bindings are powerful. Skjold's own service account does not get it.
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: skjold-incident-responder
              labels: {"{"}app.kubernetes.io/part-of: skjold{"}"}
            rules:
            {rules.Replace("\n", "\n", StringComparison.Ordinal)}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: skjold-incident-responder
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: skjold-incident-responder
            subjects:
              - kind: Group
                apiGroup: rbac.authorization.k8s.io
                name: {group}
            """;
    }
}
