using Skjold.Engine.Model;
using Skjold.Engine.Rbac;

namespace Skjold.Engine.Cluster;

/// <summary>
/// RBAC findings (CIS 5.1.x), reported on the binding that hands a risky permission to subjects
/// outside the control plane. Every permission is decided by asking the grant the request the API
/// server would authorize (<see cref="RbacGrant.Allows"/>), so a RoleBinding never grants
/// cluster-scoped resources and a binding's name exempts nothing: only the API server's own
/// bootstrap bindings, matched by name, roleRef and subjects, are skipped.
/// </summary>
internal sealed class RbacChecks : ClusterCheck
{
    private const string Rbac = "rbac.authorization.k8s.io";
    private const string Admission = "admissionregistration.k8s.io";

    private static readonly string[] ReadVerbs = ["get", "list", "watch"];
    private static readonly string[] WriteVerbs = ["create", "update", "patch", "delete", "deletecollection"];
    private static readonly string[] AdmissionConfigs =
        ["validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"];

    // Each test gets a grant of the binding's rule in the binding's scope and the cluster's minor
    // version, and returns what the grant allows (for the message), or null.
    private static readonly (string Id, Func<RbacGrant, int, string?> Grants)[] RuleChecks =
    [
        ("rbac/secrets-read", (g, _) => Shown(g, ReadVerbs.Select(v => RbacCapabilities.In(g, v, "", "secrets", name: v == "get" ? null : string.Empty)), "read secrets")),
        ("rbac/wildcard", (g, _) => g.Rule.IsWildcard ? "use * in verbs, resources or API groups" : null),
        ("rbac/create-pods", (g, minor) => RbacCapabilities.RunsAnyServiceAccount(g) is { } r
            ? $"{EscalationFinder.Verb(r)} (and so run pods as any service account of the namespace)"
            : RbacCapabilities.First(g, ((string[])["update", "patch"]).SelectMany(v => new[] { RbacCapabilities.In(g, v, "", "pods", name: null), RbacCapabilities.In(g, v, "", "pods", "ephemeralcontainers", null) })) is { } p
                ? $"{EscalationFinder.Verb(p)} (and so run code in existing pods with their service accounts)"
                : null),
        ("rbac/pod-exec", (g, minor) => (RbacCapabilities.Streams(g, minor, "exec") ?? RbacCapabilities.Streams(g, minor, "attach")) is { } r
            ? $"{EscalationFinder.Verb(r)} (a shell in running containers{(r.Verb == "get" ? $"; get is enough before Kubernetes 1.{RbacCapabilities.StreamingNeedsCreateSince}" : string.Empty)})"
            : null),
        ("rbac/pod-portforward", (g, minor) => RbacCapabilities.Streams(g, minor, "portforward") is { } r
            ? $"{EscalationFinder.Verb(r)} (connect to any port of pods, bypassing NetworkPolicy{(r.Verb == "get" ? $"; get is enough before Kubernetes 1.{RbacCapabilities.StreamingNeedsCreateSince}" : string.Empty)})"
            : null),
        // The API server asks for bind and escalate in the namespace of the binding or role being
        // written, so a RoleBinding can grant them for ClusterRoles too (within its namespace).
        ("rbac/escalate-bind", (g, _) => Shown(g, from v in (string[])["escalate", "bind"] from res in (string[])["clusterroles", "roles"]
            select RbacCapabilities.In(g, v, Rbac, res, name: null))),
        ("rbac/impersonate", (g, _) => Shown(g, [
            RbacCapabilities.Cluster("impersonate", "", "users", name: null), RbacCapabilities.Cluster("impersonate", "", "groups", name: null),
            RbacCapabilities.In(g, "impersonate", "", "serviceaccounts", name: null), RbacCapabilities.Cluster("impersonate", "authentication.k8s.io", "uids", name: null),
            RbacCapabilities.Cluster("impersonate", "authentication.k8s.io", "userextras", "scopes", null)])),
        ("rbac/nodes-proxy", (g, _) => Shown(g, [RbacCapabilities.Cluster("get", "", "nodes", "proxy", null), RbacCapabilities.Cluster("create", "", "nodes", "proxy", null)])),
        ("rbac/webhook-write", (g, _) => Shown(g, from res in AdmissionConfigs from v in WriteVerbs select RbacCapabilities.Cluster(v, Admission, res, name: null),
            "change or remove admission control")),
        ("rbac/csr-approve", (g, _) => Shown(g, [RbacCapabilities.Cluster("update", "certificates.k8s.io", "certificatesigningrequests", "approval", null)])),
        ("rbac/sa-token-create", (g, _) => Shown(g, [RbacCapabilities.In(g, "create", "", "serviceaccounts", "token", null)])),
        ("rbac/pv-create", (g, _) => Shown(g, [RbacCapabilities.Cluster("create", "", "persistentvolumes")])),
        ("rbac/events-delete", (g, _) => Shown(g, from grp in (string[])["", "events.k8s.io"] from v in (string[])["delete", "deletecollection"]
            select RbacCapabilities.In(g, v, grp, "events", name: null), "remove events, evidence of what happened")),
        ("rbac/kube-system-configmap-write", (g, _) => Shown(g, from v in WriteVerbs select RbacRequest.ForResource(v, "", "configmaps", "", null, "kube-system"),
            "change ConfigMaps in kube-system (CoreDNS, kube-proxy and control-plane configuration)")),
    ];

    public override IReadOnlyList<string> Ids { get; } =
    [
        "rbac/cluster-admin-binding", .. RuleChecks.Select(c => c.Id), "rbac/netpol-write", "rbac/anonymous-access", "rbac/anonymous-read",
        "rbac/default-sa-bound", "rbac/missing-subject", "rbac/missing-role", "rbac/escalation-path",
    ];

    public override void Evaluate(ClusterContext context, ClusterSink sink)
    {
        var model = context.Rbac;
        var minor = model.KubeMinor;
        foreach (var binding in model.Bindings)
        {
            if (BootstrapPolicy.IsFromBootstrap(binding) || BootstrapPolicy.IsBootstrapBinding(binding))
            {
                continue;
            }

            var bindingNs = binding.Kind == "RoleBinding" ? binding.Ref.Namespace ?? context.DefaultNamespace : null;
            var subjects = RbacModel.Subjects(binding.Root, bindingNs).Distinct().ToList();
            var exposed = subjects.Where(s => !s.IsPlatform).ToList();
            var roleRef = Json.Get(binding.Root, "roleRef"u8);
            var roleKind = Json.GetString(roleRef, "kind") ?? string.Empty;
            var roleName = Json.GetString(roleRef, "name") ?? string.Empty;
            var scope = bindingNs is null ? "cluster-wide" : $"in namespace {bindingNs}";
            (string, string?, string) key = roleKind == "Role" ? ("Role", bindingNs, roleName) : ("ClusterRole", null, roleName);
            var hasRole = (roleKind == "ClusterRole" || bindingNs is not null) && model.Roles.TryGetValue(key, out var role0);
            var rules = hasRole ? model.Roles[key].Rules : [];
            var roleText = $"{roleKind} {roleName}{(hasRole && BootstrapPolicy.IsFromBootstrap(model.Roles[key].Resource) ? " (bootstrap policy)" : string.Empty)}";
            var grants = rules.Select((r, i) => new RbacGrant(exposed.FirstOrDefault() ?? new RbacSubject(RbacSubject.User, string.Empty), r, i, bindingNs, binding, roleKind, roleName, false)).ToList();

            if (exposed.Count > 0)
            {
                var who = Who(exposed);
                if (roleKind == "ClusterRole" && grants.FirstOrDefault(g => g.Rule.IsFullWildcard) is { } admin)
                {
                    sink.Report("rbac/cluster-admin-binding", binding, "roleRef",
                        $"{who} {Verb(exposed, "holds", "hold")} {(roleName == "cluster-admin" ? "cluster-admin" : $"the equivalent of cluster-admin ({roleText})")} {scope}: every verb on every resource (rule {admin.RuleIndex}: {admin.Rule})");
                }

                foreach (var (id, test) in RuleChecks)
                {
                    foreach (var g in grants)
                    {
                        if (test(g, minor) is { } what)
                        {
                            sink.Report(id, binding, "roleRef", $"{who} can {what} {scope} through {roleText} (rule {g.RuleIndex}: {g.Rule})");
                            break;
                        }
                    }
                }

                ReportNetworkPolicyWrite(binding, bindingNs, exposed, grants, roleText, sink);
            }

            var anonymous = subjects.Where(s => s.IsAnonymous).ToList();
            if (anonymous.Count > 0 && grants.Count > 0)
            {
                var beyond = grants.FirstOrDefault(g => !IsHarmlessRead(g.Rule));
                var g = beyond ?? grants[0];
                sink.Report(beyond is null ? "rbac/anonymous-read" : "rbac/anonymous-access", binding, "subjects",
                    $"{Who(anonymous)} (requests nobody authenticated) {Verb(anonymous, "is", "are")} granted {roleText} {scope}" +
                    (beyond is null ? $": read access (rule {g.RuleIndex}: {g.Rule})" : $", which allows more than reading public information (rule {g.RuleIndex}: {g.Rule})"));
            }

            ReportSubjects(context, binding, roleKind, roleName, sink);
        }

        foreach (var (binding, kind, name) in model.DanglingBindings)
        {
            if (BootstrapPolicy.IsFromBootstrap(binding) || BootstrapPolicy.IsBootstrapBinding(binding))
            {
                continue;
            }

            sink.Report("rbac/missing-role", binding, "roleRef", binding.Kind == "ClusterRoleBinding" && kind != "ClusterRole"
                ? $"refers to {kind} {name}, but a ClusterRoleBinding can refer only to a ClusterRole; it grants nothing"
                : $"refers to {kind} {name}, which does not exist; creating it later grants its rules to the subjects");
        }

        var finder = new EscalationFinder(model, context.Resources, context.DefaultNamespace);
        foreach (var subject in model.Subjects().Where(s => !s.IsPlatform).OrderBy(s => s.ToString(), StringComparer.Ordinal))
        {
            if (finder.Find(subject) is { Steps.Count: >= 2 } path && !BootstrapPolicy.IsFromBootstrap(path.Steps[0].Grant.Binding))
            {
                sink.Report("rbac/escalation-path", path.Steps[0].Grant.Binding, "subjects",
                    $"{subject} escalates in {path.Steps.Count - 1} step(s) to a subject that {path.Goal}: " +
                    string.Join("; then ", path.Steps.Select(s => s.To is null ? $"{s.Action} ({s.Grant.Via})" : $"{s.Action}, running as {s.To} ({s.Grant.Via})")));
            }
        }
    }

    /// <summary>
    /// Write access to NetworkPolicies outside the subject's own namespace: cluster-wide (every
    /// team's namespaces), or a RoleBinding in a namespace that hands it to service accounts of
    /// another namespace. Whoever writes a namespace's policies can open it to anything.
    /// </summary>
    private static void ReportNetworkPolicyWrite(Resource binding, string? bindingNs, List<RbacSubject> exposed, List<RbacGrant> grants, string roleText, ClusterSink sink)
    {
        foreach (var g in grants)
        {
            var write = RbacCapabilities.First(g, WriteVerbs.Select(v => RbacCapabilities.In(g, v, "networking.k8s.io", "networkpolicies", name: null)));
            if (write is null)
            {
                continue;
            }

            if (bindingNs is null)
            {
                sink.Report("rbac/netpol-write", binding, "roleRef",
                    $"{Who(exposed)} can {EscalationFinder.Verb(write)} in every namespace through {roleText} (rule {g.RuleIndex}: {g.Rule})");
                return;
            }

            var foreign = exposed.Where(s => s.Kind == RbacSubject.ServiceAccount && s.Namespace != bindingNs).ToList();
            if (foreign.Count > 0)
            {
                sink.Report("rbac/netpol-write", binding, "roleRef",
                    $"{Who(foreign)} of another namespace can {EscalationFinder.Verb(write)} in namespace {bindingNs} through {roleText} (rule {g.RuleIndex}: {g.Rule})");
            }

            return;
        }
    }

    private static void ReportSubjects(ClusterContext context, Resource binding, string roleKind, string roleName, ClusterSink sink)
    {
        var raw = Json.Get(binding.Root, "subjects"u8);
        if (raw.ValueKind != System.Text.Json.JsonValueKind.Array)
        {
            return;
        }

        var bindingNs = binding.Kind == "RoleBinding" ? binding.Ref.Namespace ?? context.DefaultNamespace : null;
        var j = 0;
        foreach (var item in raw.EnumerateArray())
        {
            var kind = Json.GetString(item, "kind");
            var name = Json.GetString(item, "name");
            var s = kind is null || name is null ? null : RbacSubject.FromBinding(kind, name, Json.GetString(item, "namespace"), bindingNs);
            if (s is { Kind: RbacSubject.ServiceAccount } && !s.IsPlatform)
            {
                if (s.Name == "default")
                {
                    sink.Report("rbac/default-sa-bound", binding, $"subjects[{j}]",
                        $"the default service account of {s.Namespace} is granted {roleKind} {roleName}; every pod there that names no service account gets it");
                }
                else if (context.Rbac.NamespacesWithServiceAccounts.Contains(s.Namespace!) && !context.Rbac.ServiceAccounts.Contains((s.Namespace!, s.Name)))
                {
                    // Every namespace has a default service account, listed or not.
                    sink.Report("rbac/missing-subject", binding, $"subjects[{j}]",
                        $"binds {roleKind} {roleName} to {s}, which does not exist; whoever creates it later gets the permissions");
                }
            }

            j++;
        }
    }

    /// <summary>Reading public information: only get, list and watch, of nothing that holds credentials or opens a stream, or non-resource GETs.</summary>
    private static bool IsHarmlessRead(RbacRule rule)
    {
        foreach (var v in rule.Verbs)
        {
            if (v is not ("get" or "list" or "watch"))
            {
                return false;
            }
        }

        foreach (var r in rule.Resources)
        {
            var slash = r.IndexOf('/', StringComparison.Ordinal);
            var resource = slash < 0 ? r : r[..slash];
            var sub = slash < 0 ? string.Empty : r[(slash + 1)..];
            if (resource is "*" or "secrets" or "configmaps" || sub is "*" or "exec" or "attach" or "portforward" or "proxy" or "log" || r.Length == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static string? Shown(RbacGrant g, IEnumerable<RbacRequest> requests, string? why = null) =>
        RbacCapabilities.First(g, requests) is { } r ? EscalationFinder.Verb(r) + (why is null ? string.Empty : $" ({why})") : null;

    private static string Who(List<RbacSubject> subjects) => subjects.Count switch
    {
        1 => subjects[0].ToString(),
        2 => $"{subjects[0]} and {subjects[1]}",
        _ => string.Join(", ", subjects.Take(subjects.Count - 1).Select(s => s.ToString())) + $" and {subjects[^1]}",
    };

    private static string Verb(List<RbacSubject> subjects, string singular, string plural) => subjects.Count == 1 ? singular : plural;
}
