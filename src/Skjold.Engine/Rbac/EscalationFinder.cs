using Skjold.Engine.Model;

namespace Skjold.Engine.Rbac;

/// <summary>
/// Finds multi-step privilege escalation: a breadth-first search over "subject A can act as subject
/// B" edges (start pods with any service account of a namespace by creating pods or writing pod
/// controllers; change or exec into running pods; request tokens for service accounts; read their
/// legacy token secrets; impersonate) until a subject is reached that holds a cluster-compromising
/// permission (every verb on every resource, binding cluster-admin, escalating ClusterRoles,
/// impersonating anyone, reading every secret, nodes/proxy, minting client certificates, installing
/// mutating webhooks). Every hop is a request the authorizer allows, so `rbac can` confirms it.
/// </summary>
public sealed class EscalationFinder
{
    private const int MaxDepth = 4;
    private const string Rbac = "rbac.authorization.k8s.io";

    private readonly RbacModel _model;
    private readonly SortedDictionary<string, SortedSet<string>> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _runningAs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(string Secret, string Owner)>> _tokenSecrets = new(StringComparer.Ordinal);
    private readonly Dictionary<RbacSubject, EscalationGoal?> _goalCache = [];
    private readonly Dictionary<RbacSubject, List<EscalationStep>> _edgeCache = [];
    private readonly Dictionary<RbacGrant, GrantCapabilities> _capabilities = new(ReferenceEqualityComparer.Instance);

    public EscalationFinder(RbacModel model, IReadOnlyList<Resource> resources, string defaultNamespace = "default")
    {
        _model = model;
        foreach (var (ns, name) in model.ServiceAccounts)
        {
            Set(_accounts, ns).Add(name);
        }

        foreach (var r in resources)
        {
            var ns = r.Ref.Namespace ?? defaultNamespace;
            if (r.Kind == "Secret")
            {
                var annotations = Json.Get(Json.Get(r.Root, "metadata"u8), "annotations"u8);
                if (Json.GetString(annotations, "kubernetes.io/service-account.name") is { } owner)
                {
                    List(_tokenSecrets, ns).Add((r.Ref.Name, owner));
                }
            }
            else if (Pss.PodTemplateView.TryLocate(r.Root, r.Kind, out var template, out _))
            {
                var sa = Json.GetString(Json.Get(template, "spec"u8), "serviceAccountName") ?? "default";
                Set(_runningAs, ns).Add(sa);
                if (!model.IsSnapshot)
                {
                    Set(_accounts, ns).Add(sa);
                }
            }
        }

        // A manifest set need not list the service accounts it binds; a snapshot does.
        if (!model.IsSnapshot)
        {
            foreach (var s in model.Subjects())
            {
                if (s.Kind == RbacSubject.ServiceAccount)
                {
                    Set(_accounts, s.Namespace!).Add(s.Name);
                }
            }
        }

        foreach (var (_, names) in _accounts)
        {
            names.Add("default"); // every namespace has one
        }
    }

    /// <summary>The cluster-compromising permission this subject holds directly, if any.</summary>
    public EscalationGoal? Goal(RbacSubject s)
    {
        if (_goalCache.TryGetValue(s, out var cached))
        {
            return cached;
        }

        var grants = _model.GrantsOf(s).Where(g => g.Namespace is null).ToList();
        EscalationGoal? goal = null;
        bool Any(RbacRequest r) => grants.Any(g => g.Allows(r));
        foreach (var g in grants)
        {
            RbacRequest r;
            if (g.Rule.IsFullWildcard)
            {
                goal = new("holds cluster-admin (every verb on every resource)", g, RbacCapabilities.In(g, "*", "*", "*"));
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("bind", Rbac, "clusterroles", name: "cluster-admin"))
                && (Any(RbacCapabilities.Cluster("create", Rbac, "clusterrolebindings")) || Any(RbacCapabilities.Cluster("update", Rbac, "clusterrolebindings", name: null))
                    || Any(RbacCapabilities.Cluster("patch", Rbac, "clusterrolebindings", name: null))))
            {
                goal = new("can bind cluster-admin to anyone (bind on ClusterRole cluster-admin and write access to ClusterRoleBindings)", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("escalate", Rbac, "clusterroles", name: null))
                && (Any(RbacCapabilities.Cluster("update", Rbac, "clusterroles", name: null)) || Any(RbacCapabilities.Cluster("patch", Rbac, "clusterroles", name: null))))
            {
                goal = new("can escalate ClusterRoles beyond its own permissions", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("impersonate", "", "users", name: null)))
            {
                goal = new("can impersonate any user", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("impersonate", "", "groups", name: RbacUser.Masters)))
            {
                goal = new("can impersonate system:masters", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.In(g, "list", "", "secrets")) || g.Allows(r = RbacCapabilities.In(g, "get", "", "secrets", name: null)))
            {
                goal = new("can read every secret in the cluster", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("get", "", "nodes", "proxy", name: null)) || g.Allows(r = RbacCapabilities.Cluster("create", "", "nodes", "proxy", name: null)))
            {
                goal = new("can use nodes/proxy, the kubelet API of every node", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("update", "certificates.k8s.io", "certificatesigningrequests", "approval", name: null))
                && Any(RbacCapabilities.Cluster("approve", "certificates.k8s.io", "signers", name: "kubernetes.io/kube-apiserver-client")))
            {
                goal = new("can approve client certificate requests (mint credentials for any user)", g, r);
            }
            else if (g.Allows(r = RbacCapabilities.Cluster("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations")))
            {
                goal = new("can install mutating admission webhooks", g, r);
            }

            if (goal is not null)
            {
                break;
            }
        }

        _goalCache[s] = goal;
        return goal;
    }

    /// <summary>Subjects this one can become, with how (computed once per subject).</summary>
    public IReadOnlyList<EscalationStep> Edges(RbacSubject s)
    {
        if (!_edgeCache.TryGetValue(s, out var edges))
        {
            _edgeCache[s] = edges = ComputeEdges(s);
        }

        return edges;
    }

    private List<EscalationStep> ComputeEdges(RbacSubject s)
    {
        var steps = new List<EscalationStep>();
        var grants = _model.GrantsOf(s).ToList();
        bool? rolebindingsEverywhere = null;
        bool CanCreateRoleBindings(string ns)
        {
            rolebindingsEverywhere ??= grants.Any(g => g.Namespace is null && g.Allows(RbacRequest.ForResource("create", Rbac, "rolebindings", ns: "default")));
            return rolebindingsEverywhere.Value || grants.Any(g => g.Namespace == ns && g.Allows(RbacRequest.ForResource("create", Rbac, "rolebindings", ns: ns)));
        }

        foreach (var g in grants)
        {
            var caps = CapabilitiesOf(g);
            if (caps.None)
            {
                continue;
            }

            IEnumerable<string> namespaces = g.Namespace is null ? _accounts.Keys : [g.Namespace];
            foreach (var ns in namespaces)
            {
                var accounts = Accounts(ns);
                if (caps.Run is { } run)
                {
                    var r = run with { Namespace = ns };
                    foreach (var sa in accounts)
                    {
                        steps.Add(new EscalationStep(s, $"can {Verb(r)} in {ns}", Sa(ns, sa), g, r));
                    }
                }

                // bind on a powerful ClusterRole plus creating RoleBindings makes the subject an
                // administrator of the namespace (the bind check is asked in the binding's namespace).
                if (caps.Bind is { } bind && CanCreateRoleBindings(ns))
                {
                    var r = bind with { Namespace = ns };
                    foreach (var sa in accounts)
                    {
                        steps.Add(new EscalationStep(s, $"can bind ClusterRole cluster-admin in {ns} (and create pods there)", Sa(ns, sa), g, r));
                    }
                }

                if (caps.InPods is { } inPods)
                {
                    // In a snapshot the running pods are known; manifests may leave pods out, so
                    // any service account of the namespace may be running.
                    var r = inPods with { Namespace = ns };
                    IEnumerable<string> running = _runningAs.TryGetValue(ns, out var known) ? known : _model.IsSnapshot ? [] : accounts;
                    foreach (var sa in running)
                    {
                        steps.Add(new EscalationStep(s, $"can {Verb(r)} in {ns}", Sa(ns, sa), g, r));
                    }
                }

                if (caps.Tokens || caps.ImpersonateAccounts)
                {
                    foreach (var sa in accounts)
                    {
                        var token = RbacCapabilities.In(g, "create", "", "serviceaccounts", "token", sa, ns);
                        if (caps.Tokens && g.Allows(token))
                        {
                            steps.Add(new EscalationStep(s, $"can request tokens for service account {ns}/{sa}", Sa(ns, sa), g, token));
                        }

                        var impersonate = RbacCapabilities.In(g, "impersonate", "", "serviceaccounts", name: sa, ns: ns);
                        if (caps.ImpersonateAccounts && g.Allows(impersonate))
                        {
                            steps.Add(new EscalationStep(s, $"can impersonate service account {ns}/{sa}", Sa(ns, sa), g, impersonate));
                        }
                    }
                }

                if (caps.Secrets && _tokenSecrets.TryGetValue(ns, out var secrets))
                {
                    foreach (var (secret, owner) in secrets)
                    {
                        var read = RbacCapabilities.First(g, [RbacCapabilities.In(g, "get", "", "secrets", name: secret, ns: ns), RbacCapabilities.In(g, "list", "", "secrets", ns: ns)]);
                        if (read is not null)
                        {
                            steps.Add(new EscalationStep(s, $"can read the legacy token secret {ns}/{secret} of service account {ns}/{owner}", Sa(ns, owner), g, read));
                        }
                    }
                }
            }

            if (g.Namespace is null && caps.ImpersonateUsers)
            {
                foreach (var name in g.Rule.ResourceNames)
                {
                    var r = RbacCapabilities.Cluster("impersonate", "", "users", name: name);
                    if (g.Allows(r))
                    {
                        var to = RbacSubject.FromBinding(RbacSubject.User, name, null, null)!;
                        steps.Add(new EscalationStep(s, $"can impersonate user {name}", to, g, r));
                    }
                }
            }
        }

        return steps;
    }

    /// <summary>What a grant can do toward other identities, worked out once per grant (namespace-independent for a cluster-wide grant).</summary>
    private GrantCapabilities CapabilitiesOf(RbacGrant g)
    {
        if (_capabilities.TryGetValue(g, out var caps))
        {
            return caps;
        }

        var rule = g.Rule;
        bool Touches(string resource) => rule.Resources.Any(r => r == "*" || r == resource || r.StartsWith(resource + "/", StringComparison.Ordinal) || r.StartsWith("*/", StringComparison.Ordinal));
        caps = new GrantCapabilities(
            RbacCapabilities.RunsAnyServiceAccount(g),
            RbacCapabilities.RunsInExistingPods(g, _model.KubeMinor),
            g.Allows(RbacCapabilities.In(g, "bind", Rbac, "clusterroles", name: "cluster-admin")) ? RbacCapabilities.In(g, "bind", Rbac, "clusterroles", name: "cluster-admin") : null,
            rule.AllowsVerb("create") && Touches("serviceaccounts"),
            rule.AllowsVerb("impersonate") && Touches("serviceaccounts"),
            (rule.AllowsVerb("get") || rule.AllowsVerb("list")) && Touches("secrets"),
            g.Namespace is null && rule.AllowsVerb("impersonate") && rule.ResourceNames.Count > 0 && Touches("users"));
        _capabilities[g] = caps;
        return caps;
    }

    private sealed record GrantCapabilities(RbacRequest? Run, RbacRequest? InPods, RbacRequest? Bind, bool Tokens, bool ImpersonateAccounts, bool Secrets, bool ImpersonateUsers)
    {
        public bool None => Run is null && InPods is null && Bind is null && !Tokens && !ImpersonateAccounts && !Secrets && !ImpersonateUsers;
    }

    /// <summary>The shortest path from <paramref name="start"/> to a cluster-compromising permission, if there is one of two or more steps.</summary>
    public EscalationPath? Find(RbacSubject start)
    {
        if (Goal(start) is not null)
        {
            return null; // a direct permission: reported by the RBAC checks, not as a path
        }

        var previous = new Dictionary<RbacSubject, EscalationStep>();
        var seen = new HashSet<RbacSubject> { start };
        var frontier = new List<RbacSubject> { start };
        for (var depth = 0; depth < MaxDepth && frontier.Count > 0; depth++)
        {
            var next = new List<RbacSubject>();
            foreach (var s in frontier)
            {
                foreach (var step in Edges(s))
                {
                    if (step.To is null || !seen.Add(step.To))
                    {
                        continue;
                    }

                    previous[step.To] = step;
                    if (Goal(step.To) is { } goal)
                    {
                        var steps = new List<EscalationStep>();
                        for (var at = step.To; previous.TryGetValue(at, out var p); at = p.From)
                        {
                            steps.Insert(0, p);
                        }

                        steps.Add(new EscalationStep(step.To, $"{step.To} {goal.Goal}", null, goal.Grant, goal.Request));
                        return new EscalationPath(start, steps, goal.Goal);
                    }

                    next.Add(step.To);
                }
            }

            frontier = next;
        }

        return null;
    }

    private SortedSet<string> Accounts(string ns) => _accounts.TryGetValue(ns, out var set) ? set : ["default"];

    private static RbacSubject Sa(string ns, string name) => new(RbacSubject.ServiceAccount, name, ns);

    /// <summary>"create pods", "patch deployments.apps", "create pods/exec", "update certificatesigningrequests.certificates.k8s.io/approval" (kubectl's RESOURCE.GROUP/SUBRESOURCE).</summary>
    internal static string Verb(RbacRequest r) =>
        $"{r.Verb} {r.Resource}{(r.ApiGroup.Length > 0 ? "." + r.ApiGroup : string.Empty)}{(r.Subresource.Length > 0 ? "/" + r.Subresource : string.Empty)}";

    private static SortedSet<string> Set<TMap>(TMap map, string key)
        where TMap : IDictionary<string, SortedSet<string>>
    {
        if (!map.TryGetValue(key, out var set))
        {
            map[key] = set = new SortedSet<string>(StringComparer.Ordinal);
        }

        return set;
    }

    private static List<(string, string)> List(Dictionary<string, List<(string, string)>> map, string key)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        return list;
    }
}
