using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Engine.Rbac;

/// <summary>
/// Finds multi-step privilege escalation: a breadth-first search over "subject A can act as subject
/// B" edges (create pods or workloads in a namespace and run as any of its service accounts; request
/// tokens for them; read their legacy token secrets; exec into pods running as them; impersonate)
/// until a subject is reached that holds a cluster-compromising permission (all verbs on all
/// resources, bind or escalate, impersonate anyone, read every secret, nodes/proxy, approve
/// certificates, write admission webhooks). Each path is reported step by step.
/// </summary>
public sealed class EscalationFinder
{
    private const int MaxDepth = 4;
    private static readonly string[] WorkloadKinds = ["deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "replicationcontrollers"];

    private readonly RbacModel _model;
    private readonly Dictionary<string, List<RbacSubject>> _accountsByNamespace = [];
    private readonly Dictionary<string, HashSet<string>> _tokenSecretOwners = [];
    private readonly Dictionary<string, HashSet<string>> _runningAs = [];
    private readonly Dictionary<RbacSubject, (string Goal, RbacGrant Grant)?> _goalCache = [];

    public EscalationFinder(RbacModel model, IReadOnlyList<Resource> resources)
    {
        _model = model;
        foreach (var (ns, name) in model.ServiceAccounts)
        {
            Accounts(ns).Add(new RbacSubject(RbacSubject.ServiceAccount, name, ns));
        }

        foreach (var r in resources)
        {
            var ns = r.Ref.Namespace ?? "default";
            if (r.Kind == "Secret")
            {
                var owner = Json.GetString(Json.Get(Json.Get(r.Root, "metadata"u8), "annotations"u8), "kubernetes.io/service-account.name");
                if (owner is not null)
                {
                    Set(_tokenSecretOwners, ns).Add(owner);
                }
            }
            else if (r.Kind == "Pod")
            {
                Set(_runningAs, ns).Add(Json.GetString(Json.Get(r.Root, "spec"u8), "serviceAccountName") ?? "default");
            }
        }
    }

    /// <summary>The cluster-compromising permission this subject holds directly, if any.</summary>
    public (string Goal, RbacGrant Grant)? Goal(RbacSubject s)
    {
        if (_goalCache.TryGetValue(s, out var cached))
        {
            return cached;
        }

        (string, RbacGrant)? goal = null;
        foreach (var g in _model.GrantsOf(s))
        {
            if (g.Namespace is not null)
            {
                continue;
            }

            var r = g.Rule;
            string? what = null;
            if (r.Verbs.Contains("*") && r.Resources.Contains("*") && r.ApiGroups.Contains("*"))
            {
                what = "holds cluster-admin (every verb on every resource)";
            }
            else if (r.Allows("bind", "rbac.authorization.k8s.io", "clusterroles", null, null) && r.ResourceNames.Count == 0)
            {
                what = "can bind any ClusterRole, including cluster-admin";
            }
            else if (r.Allows("escalate", "rbac.authorization.k8s.io", "clusterroles", null, null))
            {
                what = "can escalate ClusterRoles beyond its own permissions";
            }
            else if (r.Allows("impersonate", "", "users", null, null) && r.ResourceNames.Count == 0)
            {
                what = "can impersonate any user";
            }
            else if (r.Allows("impersonate", "", "groups", null, "system:masters"))
            {
                what = "can impersonate system:masters";
            }
            else if (r.Allows("get", "", "secrets", null, null) || r.Allows("list", "", "secrets", null, null))
            {
                what = "can read every secret in the cluster";
            }
            else if (r.Allows("create", "", "nodes", "proxy", null) || r.Allows("get", "", "nodes", "proxy", null))
            {
                what = "can use nodes/proxy, the kubelet API of every node";
            }
            else if (r.Allows("update", "certificates.k8s.io", "certificatesigningrequests", "approval", null) && r.Allows("approve", "certificates.k8s.io", "signers", null, null))
            {
                what = "can approve certificate requests (mint client credentials)";
            }
            else if (r.Allows("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", null, null))
            {
                what = "can install mutating admission webhooks";
            }

            if (what is not null)
            {
                goal = (what, g);
                break;
            }
        }

        _goalCache[s] = goal;
        return goal;
    }

    /// <summary>Subjects this one can become, with how.</summary>
    public IEnumerable<EscalationStep> Edges(RbacSubject s)
    {
        foreach (var g in _model.GrantsOf(s))
        {
            var r = g.Rule;
            var namespaces = g.Namespace is null ? _accountsByNamespace.Keys.ToList() : [g.Namespace];
            if (r.Allows("create", "", "pods", null, null))
            {
                foreach (var ns in namespaces)
                {
                    foreach (var sa in AccountsOrDefault(ns))
                    {
                        yield return new EscalationStep(s, $"can create pods in {ns}", sa, g);
                    }
                }
            }

            foreach (var kind in WorkloadKinds)
            {
                if (r.Allows("create", RbacModel.GroupOf(kind), kind, null, null) || r.Allows("patch", RbacModel.GroupOf(kind), kind, null, null))
                {
                    foreach (var ns in namespaces)
                    {
                        foreach (var sa in AccountsOrDefault(ns))
                        {
                            yield return new EscalationStep(s, $"can create or patch {kind} in {ns}", sa, g);
                        }
                    }

                    break;
                }
            }

            if (r.AllowsVerb("create") && r.AllowsGroup("") && r.AllowsResource("serviceaccounts", "token"))
            {
                foreach (var ns in namespaces)
                {
                    foreach (var sa in AccountsOrDefault(ns).Where(a => r.AllowsName(a.Name)))
                    {
                        yield return new EscalationStep(s, $"can request tokens for service accounts in {ns}", sa, g);
                    }
                }
            }

            if (r.Allows("get", "", "secrets", null, null) || r.Allows("list", "", "secrets", null, null))
            {
                foreach (var ns in namespaces)
                {
                    if (_tokenSecretOwners.TryGetValue(ns, out var owners))
                    {
                        foreach (var owner in owners)
                        {
                            yield return new EscalationStep(s, $"can read the legacy token secret of {ns}/{owner}", new RbacSubject(RbacSubject.ServiceAccount, owner, ns), g);
                        }
                    }
                }
            }

            if (r.AllowsVerb("create") && r.AllowsGroup("") && (r.AllowsResource("pods", "exec") || r.AllowsResource("pods", "attach")))
            {
                foreach (var ns in namespaces)
                {
                    if (_runningAs.TryGetValue(ns, out var accounts))
                    {
                        foreach (var a in accounts)
                        {
                            yield return new EscalationStep(s, $"can exec into pods in {ns}", new RbacSubject(RbacSubject.ServiceAccount, a, ns), g);
                        }
                    }
                }
            }

            if (r.AllowsVerb("impersonate") && r.AllowsGroup(""))
            {
                if (r.AllowsResource("serviceaccounts", null))
                {
                    foreach (var ns in namespaces)
                    {
                        foreach (var sa in AccountsOrDefault(ns).Where(a => r.AllowsName(a.Name)))
                        {
                            yield return new EscalationStep(s, $"can impersonate service accounts in {ns}", sa, g);
                        }
                    }
                }

                if (g.Namespace is null && r.AllowsResource("users", null))
                {
                    foreach (var name in r.ResourceNames)
                    {
                        yield return new EscalationStep(s, $"can impersonate user {name}", new RbacSubject(RbacSubject.User, name), g);
                    }
                }
            }
        }
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

                        steps.Add(new EscalationStep(step.To, $"{step.To} {goal.Goal}", null, goal.Grant));
                        return new EscalationPath(start, steps, goal.Goal);
                    }

                    next.Add(step.To);
                }
            }

            frontier = next;
        }

        return null;
    }

    private List<RbacSubject> Accounts(string ns)
    {
        if (!_accountsByNamespace.TryGetValue(ns, out var list))
        {
            _accountsByNamespace[ns] = list = [];
        }

        return list;
    }

    private IEnumerable<RbacSubject> AccountsOrDefault(string ns) =>
        _accountsByNamespace.TryGetValue(ns, out var list) && list.Count > 0 ? list : [new RbacSubject(RbacSubject.ServiceAccount, "default", ns)];

    private static HashSet<string> Set(Dictionary<string, HashSet<string>> map, string key)
    {
        if (!map.TryGetValue(key, out var set))
        {
            map[key] = set = [];
        }

        return set;
    }
}
