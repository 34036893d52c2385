using System.Collections.Frozen;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Rbac;

/// <summary>
/// Who may do what: Roles, ClusterRoles (aggregation resolved), RoleBindings and
/// ClusterRoleBindings flattened into grants, indexed by subject. Built once per snapshot; answers
/// who-can and can questions without touching the resources again.
/// </summary>
public sealed class RbacModel
{
    private static readonly FrozenDictionary<string, string> DefaultGroups = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["deployments"] = "apps", ["statefulsets"] = "apps", ["daemonsets"] = "apps", ["replicasets"] = "apps", ["controllerrevisions"] = "apps",
        ["jobs"] = "batch", ["cronjobs"] = "batch",
        ["roles"] = "rbac.authorization.k8s.io", ["rolebindings"] = "rbac.authorization.k8s.io",
        ["clusterroles"] = "rbac.authorization.k8s.io", ["clusterrolebindings"] = "rbac.authorization.k8s.io",
        ["validatingwebhookconfigurations"] = "admissionregistration.k8s.io", ["mutatingwebhookconfigurations"] = "admissionregistration.k8s.io",
        ["validatingadmissionpolicies"] = "admissionregistration.k8s.io",
        ["certificatesigningrequests"] = "certificates.k8s.io", ["signers"] = "certificates.k8s.io",
        ["networkpolicies"] = "networking.k8s.io", ["ingresses"] = "networking.k8s.io",
        ["customresourcedefinitions"] = "apiextensions.k8s.io",
        ["poddisruptionbudgets"] = "policy", ["podsecuritypolicies"] = "policy",
        ["storageclasses"] = "storage.k8s.io", ["csidrivers"] = "storage.k8s.io",
        ["horizontalpodautoscalers"] = "autoscaling", ["leases"] = "coordination.k8s.io",
        ["tokenreviews"] = "authentication.k8s.io", ["subjectaccessreviews"] = "authorization.k8s.io",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly List<RbacGrant> _grants = [];
    private readonly Dictionary<(string Kind, string Name, string? Ns), List<RbacGrant>> _bySubject = [];

    private RbacModel()
    {
    }

    public IReadOnlyList<RbacGrant> Grants => _grants;

    /// <summary>Roles and ClusterRoles by kind, namespace and name, with resolved rules.</summary>
    public Dictionary<(string Kind, string? Ns, string Name), (Resource Resource, IReadOnlyList<RbacRule> Rules)> Roles { get; } = [];

    public List<Resource> Bindings { get; } = [];

    /// <summary>Service accounts present in the input, by namespace and name.</summary>
    public HashSet<(string Ns, string Name)> ServiceAccounts { get; } = [];

    /// <summary>Namespaces whose service accounts the input lists (so absence means non-existence).</summary>
    public HashSet<string> NamespacesWithServiceAccounts { get; } = [];

    /// <summary>Bindings whose role is not in the input, with the missing role.</summary>
    public List<(Resource Binding, string RoleKind, string RoleName)> DanglingBindings { get; } = [];

    /// <summary>The API group a resource belongs to by default (core is the empty string).</summary>
    public static string GroupOf(string resource) => DefaultGroups.TryGetValue(resource, out var g) ? g : string.Empty;

    public static RbacModel Build(IReadOnlyList<Resource> resources)
    {
        var model = new RbacModel();
        var clusterRoles = new List<Resource>();
        foreach (var r in resources)
        {
            switch (r.Ref.Kind)
            {
                case "Role" when r.Ref.ApiVersion.StartsWith("rbac.authorization.k8s.io/", StringComparison.Ordinal):
                    model.Roles[("Role", r.Ref.Namespace, r.Ref.Name)] = (r, ReadRules(r.Root));
                    break;
                case "ClusterRole" when r.Ref.ApiVersion.StartsWith("rbac.authorization.k8s.io/", StringComparison.Ordinal):
                    clusterRoles.Add(r);
                    model.Roles[("ClusterRole", null, r.Ref.Name)] = (r, ReadRules(r.Root));
                    break;
                case "RoleBinding" or "ClusterRoleBinding" when r.Ref.ApiVersion.StartsWith("rbac.authorization.k8s.io/", StringComparison.Ordinal):
                    model.Bindings.Add(r);
                    break;
                case "ServiceAccount":
                    var ns = r.Ref.Namespace ?? "default";
                    model.ServiceAccounts.Add((ns, r.Ref.Name));
                    model.NamespacesWithServiceAccounts.Add(ns);
                    break;
                default:
                    break;
            }
        }

        // Aggregated ClusterRoles take the rules of every ClusterRole their selectors match.
        foreach (var cr in clusterRoles)
        {
            var selectors = Json.Get(Json.Get(cr.Root, "aggregationRule"u8), "clusterRoleSelectors"u8);
            if (selectors.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var rules = new List<RbacRule>(model.Roles[("ClusterRole", null, cr.Ref.Name)].Rules);
            foreach (var sel in selectors.EnumerateArray())
            {
                var selector = ResourceIndex.ReadSelector(sel);
                foreach (var other in clusterRoles)
                {
                    if (other != cr && !selector.IsEmpty && selector.Matches(Json.Get(Json.Get(other.Root, "metadata"u8), "labels"u8)))
                    {
                        rules.AddRange(ReadRules(other.Root));
                    }
                }
            }

            model.Roles[("ClusterRole", null, cr.Ref.Name)] = (cr, rules.Distinct().ToList());
        }

        foreach (var b in model.Bindings)
        {
            var roleRef = Json.Get(b.Root, "roleRef"u8);
            var roleKind = Json.GetString(roleRef, "kind") ?? "ClusterRole";
            var roleName = Json.GetString(roleRef, "name") ?? string.Empty;
            var bindingNs = b.Ref.Kind == "RoleBinding" ? b.Ref.Namespace ?? "default" : null;
            var key = roleKind == "Role" ? ("Role", bindingNs, roleName) : ("ClusterRole", (string?)null, roleName);
            if (!model.Roles.TryGetValue(key, out var role))
            {
                model.DanglingBindings.Add((b, roleKind, roleName));
                continue;
            }

            foreach (var subject in Subjects(b.Root, bindingNs))
            {
                foreach (var rule in role.Rules)
                {
                    model.Add(new RbacGrant(subject, rule, bindingNs, b, roleKind, roleName));
                }
            }
        }

        return model;
    }

    public static IEnumerable<RbacSubject> Subjects(JsonElement binding, string? bindingNamespace)
    {
        var subjects = Json.Get(binding, "subjects"u8);
        if (subjects.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var s in subjects.EnumerateArray())
        {
            var kind = Json.GetString(s, "kind");
            var name = Json.GetString(s, "name");
            if (kind is null || name is null)
            {
                continue;
            }

            yield return kind == RbacSubject.ServiceAccount
                ? new RbacSubject(kind, name, Json.GetString(s, "namespace") ?? bindingNamespace ?? "default")
                : new RbacSubject(kind, name);
        }
    }

    private void Add(RbacGrant grant)
    {
        _grants.Add(grant);
        var key = (grant.Subject.Kind, grant.Subject.Name, grant.Subject.Namespace);
        if (!_bySubject.TryGetValue(key, out var list))
        {
            _bySubject[key] = list = [];
        }

        list.Add(grant);
    }

    /// <summary>
    /// Every grant that allows <paramref name="verb"/> on the resource in <paramref name="ns"/>
    /// (cluster-wide grants included; any namespace when <paramref name="ns"/> is null).
    /// </summary>
    public IEnumerable<RbacGrant> WhoCan(string verb, string resource, string? subresource = null, string? ns = null, string? name = null, string? group = null)
    {
        var g = group ?? GroupOf(resource);
        foreach (var grant in _grants)
        {
            if ((ns is null || grant.Namespace is null || grant.Namespace == ns) && grant.Rule.Allows(verb, g, resource, subresource, name))
            {
                yield return grant;
            }
        }
    }

    /// <summary>The grants a subject holds, directly and through its implicit groups.</summary>
    public IEnumerable<RbacGrant> GrantsOf(RbacSubject subject)
    {
        foreach (var s in subject.ImplicitGroups().Prepend(subject))
        {
            if (_bySubject.TryGetValue((s.Kind, s.Name, s.Namespace), out var list))
            {
                foreach (var g in list)
                {
                    yield return g;
                }
            }
        }
    }

    /// <summary>Whether <paramref name="subject"/> may do it, and through which grant.</summary>
    public RbacGrant? Can(RbacSubject subject, string verb, string resource, string? subresource = null, string? ns = null, string? name = null, string? group = null)
    {
        var g = group ?? GroupOf(resource);
        foreach (var grant in GrantsOf(subject))
        {
            if ((ns is null || grant.Namespace is null || grant.Namespace == ns) && grant.Rule.Allows(verb, g, resource, subresource, name))
            {
                return grant;
            }
        }

        return null;
    }

    /// <summary>Every subject that holds at least one grant.</summary>
    public IEnumerable<RbacSubject> Subjects() => _bySubject.Keys.Select(k => new RbacSubject(k.Kind, k.Name, k.Ns));

    private static List<RbacRule> ReadRules(JsonElement role)
    {
        var list = new List<RbacRule>();
        var rules = Json.Get(role, "rules"u8);
        if (rules.ValueKind != JsonValueKind.Array)
        {
            return list;
        }

        foreach (var r in rules.EnumerateArray())
        {
            list.Add(new RbacRule(Strings(r, "apiGroups"u8), Strings(r, "resources"u8), Strings(r, "verbs"u8), Strings(r, "resourceNames"u8), Strings(r, "nonResourceURLs"u8)));
        }

        return list;
    }

    private static string[] Strings(JsonElement obj, ReadOnlySpan<byte> name)
    {
        var a = Json.Get(obj, name);
        if (a.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var list = new string[a.GetArrayLength()];
        var i = 0;
        foreach (var x in a.EnumerateArray())
        {
            list[i++] = Json.AsString(x) ?? string.Empty;
        }

        return list;
    }
}
