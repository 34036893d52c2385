using Skjold.Engine.Model;

namespace Skjold.Engine.Rbac;

/// <summary>
/// Who may do what, decided as the API server's RBAC authorizer decides: Roles, ClusterRoles
/// (aggregation resolved as the aggregation controller does), RoleBindings and
/// ClusterRoleBindings flattened into grants and indexed by the user or group they apply to
/// (a ServiceAccount subject is the user system:serviceaccount:NS:NAME). The bootstrap policy fills
/// in the roles and bindings every API server has when the input lacks them. Built once per input.
/// </summary>
public sealed partial class RbacModel
{
    private readonly List<RbacGrant> _grants = [];
    private readonly Dictionary<string, List<RbacGrant>> _byPrincipal = new(StringComparer.Ordinal);
    private readonly Dictionary<RbacSubject, bool> _subjects = [];

    private RbacModel(int kubeMinor, bool isSnapshot, ApiResources api)
    {
        KubeMinor = kubeMinor;
        IsSnapshot = isSnapshot;
        Api = api;
    }

    public IReadOnlyList<RbacGrant> Grants => _grants;

    /// <summary>The Kubernetes minor the answers are for (some permissions depend on it).</summary>
    public int KubeMinor { get; }

    /// <summary>Whether the input is a snapshot of a live cluster, so what it lacks does not exist.</summary>
    public bool IsSnapshot { get; }

    /// <summary>Built-in resources plus the input's CustomResourceDefinitions.</summary>
    public ApiResources Api { get; }

    /// <summary>Roles and ClusterRoles by kind, namespace and name, with their effective (aggregated) rules.</summary>
    public Dictionary<(string Kind, string? Ns, string Name), (Resource Resource, IReadOnlyList<RbacRule> Rules)> Roles { get; } = [];

    /// <summary>Every RoleBinding and ClusterRoleBinding, the input's and the bootstrap policy's.</summary>
    public List<Resource> Bindings { get; } = [];

    /// <summary>Service accounts present in the input, by namespace and name.</summary>
    public HashSet<(string Ns, string Name)> ServiceAccounts { get; } = [];

    /// <summary>Namespaces whose service accounts the input lists (so absence means non-existence).</summary>
    public HashSet<string> NamespacesWithServiceAccounts { get; } = [];

    /// <summary>Bindings whose role is not in the input nor the bootstrap policy, with the missing role.</summary>
    public List<(Resource Binding, string RoleKind, string RoleName)> DanglingBindings { get; } = [];

    /// <summary>Bootstrap roles the input's bindings refer to without defining them.</summary>
    public SortedSet<string> BootstrapRolesUsed { get; } = new(StringComparer.Ordinal);

    public static RbacModel Build(IReadOnlyList<Resource> resources, RbacModelOptions? options = null)
    {
        options ??= RbacModelOptions.Default;
        var minor = KubernetesVersion.Effective(resources, options.KubeMinor, options.Now);
        var custom = new List<ApiResource>();
        foreach (var r in resources)
        {
            if (r.Kind == "CustomResourceDefinition" && ReadCrd(r) is { } crd)
            {
                custom.Add(crd);
            }
        }

        var model = new RbacModel(minor, KubernetesVersion.IsSnapshot(resources), ApiResources.BuiltIn.WithCustom(custom));
        var clusterRoles = new Dictionary<string, Resource>(StringComparer.Ordinal);
        var roles = new Dictionary<(string, string), Resource>();
        var bindings = new Dictionary<(string Kind, string? Ns, string Name), Resource>();
        foreach (var r in resources)
        {
            if (!IsRbac(r))
            {
                if (r.Kind == "ServiceAccount" && r.Ref.ApiVersion == "v1")
                {
                    var ns = r.Ref.Namespace ?? options.DefaultNamespace;
                    model.ServiceAccounts.Add((ns, r.Ref.Name));
                    model.NamespacesWithServiceAccounts.Add(ns);
                }

                continue;
            }

            switch (r.Kind)
            {
                case "ClusterRole":
                    clusterRoles[r.Ref.Name] = r;
                    break;
                case "Role":
                    roles[(r.Ref.Namespace ?? options.DefaultNamespace, r.Ref.Name)] = r;
                    break;
                case "ClusterRoleBinding":
                    bindings[(r.Kind, null, r.Ref.Name)] = r;
                    break;
                case "RoleBinding":
                    bindings[(r.Kind, r.Ref.Namespace ?? options.DefaultNamespace, r.Ref.Name)] = r;
                    break;
                default:
                    break;
            }
        }

        var bootstrapRoles = new HashSet<(string Kind, string? Ns, string Name)>();
        if (options.IncludeBootstrap)
        {
            foreach (var b in BootstrapPolicy.Objects)
            {
                switch (b.Kind)
                {
                    case "ClusterRole" when clusterRoles.TryAdd(b.Ref.Name, b):
                        bootstrapRoles.Add(("ClusterRole", null, b.Ref.Name));
                        break;
                    case "Role" when roles.TryAdd((b.Ref.Namespace!, b.Ref.Name), b):
                        bootstrapRoles.Add(("Role", b.Ref.Namespace, b.Ref.Name));
                        break;
                    case "ClusterRoleBinding":
                        bindings.TryAdd((b.Kind, null, b.Ref.Name), b);
                        break;
                    case "RoleBinding":
                        bindings.TryAdd((b.Kind, b.Ref.Namespace, b.Ref.Name), b);
                        break;
                    default:
                        break;
                }
            }
        }

        foreach (var ((ns, name), r) in roles)
        {
            model.Roles[("Role", ns, name)] = (r, ReadRules(r.Root));
        }

        foreach (var (name, rules) in Aggregate(clusterRoles))
        {
            model.Roles[("ClusterRole", null, name)] = (clusterRoles[name], rules);
        }

        foreach (var (key, b) in bindings)
        {
            model.Bindings.Add(b);
            var roleRef = Json.Get(b.Root, "roleRef"u8);
            var roleKind = Json.GetString(roleRef, "kind") ?? string.Empty;
            var roleName = Json.GetString(roleRef, "name") ?? string.Empty;
            var bindingNs = key.Ns;

            // A ClusterRoleBinding can only refer to a ClusterRole; a RoleBinding to a Role of its
            // own namespace or a ClusterRole.
            (string, string?, string)? roleKey = (roleKind, bindingNs) switch
            {
                ("ClusterRole", _) => ("ClusterRole", null, roleName),
                ("Role", not null) => ("Role", bindingNs, roleName),
                _ => null,
            };
            if (roleKey is null || !model.Roles.TryGetValue(roleKey.Value, out var role))
            {
                model.DanglingBindings.Add((b, roleKind, roleName));
                continue;
            }

            var fromBootstrap = bootstrapRoles.Contains(roleKey.Value);
            if (fromBootstrap && !BootstrapPolicy.IsFromBootstrap(b))
            {
                model.BootstrapRolesUsed.Add($"{roleKind} {roleName}");
            }

            foreach (var subject in Subjects(b.Root, bindingNs))
            {
                model._subjects.TryAdd(subject, true);
                for (var i = 0; i < role.Rules.Count; i++)
                {
                    model.Add(new RbacGrant(subject, role.Rules[i], i, bindingNs, b, roleKind, roleName, fromBootstrap));
                }
            }
        }

        return model;
    }

    /// <summary>Verbs the API server's authorizers are asked for resource requests (the request verbs and the special ones RBAC checks).</summary>
    private static readonly HashSet<string> KnownVerbs = new(StringComparer.Ordinal)
    {
        "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
        "bind", "escalate", "impersonate", "approve", "sign", "attest", "use", "*",
    };

    /// <summary>
    /// Resolves a question: a resource name (optionally RESOURCE/SUB and RESOURCE.GROUP) or a
    /// non-resource path (starting with "/"), the verb, an object name and a namespace (null: any).
    /// Cluster-scoped resources are asked without a namespace, as the API server does.
    /// </summary>
    public RbacQuery Query(string verb, string resourceText, string? subresource = null, string? name = null, string? ns = null, string? group = null)
    {
        if (resourceText.StartsWith('/'))
        {
            return new RbacQuery(RbacRequest.ForPath(verb, resourceText), false, null, null);
        }

        // kubectl writes RESOURCE.GROUP/SUBRESOURCE; RESOURCE/SUBRESOURCE.GROUP is read too
        // (subresource names have no dots).
        var text = resourceText;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var sub = text[(slash + 1)..];
            text = text[..slash];
            var subDot = sub.IndexOf('.', StringComparison.Ordinal);
            if (subDot > 0 && !text.Contains('.', StringComparison.Ordinal))
            {
                text += sub[subDot..];
                sub = sub[..subDot];
            }

            subresource ??= sub;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && group is null)
        {
            group = text[(dot + 1)..];
            text = text[..dot];
        }

        subresource ??= string.Empty;
        var resolved = Api.Resolve(text, group, KubeMinor);
        string? warning = null;
        if (resolved is null)
        {
            warning = group is null
                ? $"'{text}' is not a built-in resource of Kubernetes 1.{KubeMinor} and no CustomResourceDefinition in the input defines it; asking about it in the core API group (write RESOURCE.GROUP for another group)"
                : $"'{text}.{group}' is not a built-in resource of Kubernetes 1.{KubeMinor} and no CustomResourceDefinition in the input defines it; answering as written";
        }
        else if (!resolved.ServedIn(KubeMinor))
        {
            warning = $"{resolved.Display} is not served by Kubernetes 1.{KubeMinor}";
        }
        else if (subresource.Length > 0 && !resolved.HasSubresource(subresource, KubeMinor) && resolved.Subresources.Count > 0)
        {
            warning = $"{resolved.Display} has no subresource '{subresource}' in Kubernetes 1.{KubeMinor}";
        }

        if (!KnownVerbs.Contains(verb))
        {
            var verbWarning = $"'{verb}' is not a verb the API server checks for resources ({string.Join(", ", KnownVerbs.Order(StringComparer.Ordinal))}; verbs are case-sensitive); only a rule granting it by name or '*' matches";
            warning = warning is null ? verbWarning : verbWarning + "; " + warning;
        }

        // The API server asks for bind and escalate in the namespace of the binding or role being
        // written, so for those verbs even ClusterRoles are asked about in a namespace. A request on one
        // Namespace object is in that namespace (its name), so RoleBindings there can grant it; only
        // create, list and deletecollection of namespaces never name one.
        var finalGroup = resolved?.Group ?? group ?? string.Empty;
        var namespaceObject = RbacRequest.IsNamespaceObject(finalGroup, text) && verb is not ("create" or "list" or "deletecollection");
        var namespaced = (resolved?.Namespaced ?? true) || (verb is "bind" or "escalate" && resolved?.Group == "rbac.authorization.k8s.io") || namespaceObject;
        if (namespaceObject && name is { Length: > 0 } && ns is { Length: > 0 } && ns != name)
        {
            var nsWarning = $"a request on namespace {name} is in namespace {name} (the API server reads it from the path), not in {ns}; answering for {name}";
            warning = warning is null ? nsWarning : warning + "; " + nsWarning;
        }

        var request = RbacRequest.ForResource(verb, finalGroup, text, subresource, name, namespaced ? ns ?? string.Empty : string.Empty);
        return new RbacQuery(request, namespaced, resolved, warning) { AnyNamespace = namespaced && ns is null && request.Namespace.Length == 0 };
    }

    /// <summary>
    /// Every grant that allows the request (the subject locator): ClusterRoleBinding grants, and
    /// RoleBinding grants of the request's namespace, or of every namespace when the query named
    /// none. Members of system:masters are allowed everything before RBAC is asked; they are not
    /// listed here (see <see cref="RbacUser.Masters"/>).
    /// </summary>
    public IEnumerable<RbacGrant> WhoCan(RbacQuery query)
    {
        var request = query.Request;
        foreach (var grant in _grants)
        {
            if (grant.Namespace is not null && query.AnyNamespace)
            {
                if (request.IsResourceRequest && grant.Rule.Allows(request))
                {
                    yield return grant;
                }
            }
            else if (grant.Allows(request))
            {
                yield return grant;
            }
        }
    }

    /// <summary>Every grant that allows the request, exactly as the subject locator (no "any namespace").</summary>
    public IEnumerable<RbacGrant> WhoCan(RbacRequest request)
    {
        foreach (var grant in _grants)
        {
            if (grant.Allows(request))
            {
                yield return grant;
            }
        }
    }

    /// <summary>Convenience: who may do it, with the question written as on the command line.</summary>
    public IEnumerable<RbacGrant> WhoCan(string verb, string resource, string? subresource = null, string? ns = null, string? name = null, string? group = null) =>
        WhoCan(Query(verb, resource, subresource, name, ns, group));

    /// <summary>The grant that allows the user's request, if any (the authorizer's decision; system:masters is not RBAC's and is not answered here).</summary>
    public RbacGrant? Authorize(RbacUser user, RbacRequest request)
    {
        foreach (var list in ListsFor(user))
        {
            foreach (var g in list)
            {
                if (g.Allows(request))
                {
                    return g;
                }
            }
        }

        return null;
    }

    /// <summary>The grants that apply to a user: bound to its name or to one of its groups.</summary>
    public IEnumerable<RbacGrant> GrantsOf(RbacUser user)
    {
        foreach (var list in ListsFor(user))
        {
            foreach (var g in list)
            {
                yield return g;
            }
        }
    }

    /// <summary>
    /// The grants that apply to the user in a namespace, as the authorizer's rule resolver lists
    /// them: ClusterRoleBinding grants, and RoleBinding grants of that namespace (none when
    /// <paramref name="ns"/> is empty, the cluster-scoped case).
    /// </summary>
    public IEnumerable<RbacGrant> RulesFor(RbacUser user, string ns)
    {
        foreach (var g in GrantsOf(user))
        {
            if (g.Namespace is null || (ns.Length > 0 && g.Namespace == ns))
            {
                yield return g;
            }
        }
    }

    /// <summary>The grants a subject holds, directly and through the groups the API server puts it in.</summary>
    public IEnumerable<RbacGrant> GrantsOf(RbacSubject subject) => GrantsOf(RbacUser.Of(subject));

    /// <summary>Whether the subject may do it, and through which grant.</summary>
    public RbacGrant? Can(RbacSubject subject, RbacRequest request) => Authorize(RbacUser.Of(subject), request);

    /// <summary>Convenience: whether the subject may do it, with the question written as on the command line.</summary>
    public RbacGrant? Can(RbacSubject subject, string verb, string resource, string? subresource = null, string? ns = null, string? name = null, string? group = null) =>
        Can(subject, Query(verb, resource, subresource, name, ns ?? "default", group).Request);

    /// <summary>Every subject that holds at least one grant.</summary>
    public IEnumerable<RbacSubject> Subjects() => _subjects.Keys;

    private IEnumerable<List<RbacGrant>> ListsFor(RbacUser user)
    {
        if (user.Name.Length > 0 && _byPrincipal.TryGetValue("u:" + user.Name, out var own))
        {
            yield return own;
        }

        foreach (var g in user.Groups)
        {
            if (_byPrincipal.TryGetValue("g:" + g, out var list))
            {
                yield return list;
            }
        }
    }

    private void Add(RbacGrant grant)
    {
        _grants.Add(grant);
        var key = grant.Subject.Kind == RbacSubject.Group ? "g:" + grant.Subject.Name : "u:" + grant.Subject.UserName;
        if (!_byPrincipal.TryGetValue(key, out var list))
        {
            _byPrincipal[key] = list = [];
        }

        list.Add(grant);
    }

}
