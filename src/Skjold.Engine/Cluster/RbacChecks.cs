using Skjold.Engine.Rbac;

namespace Skjold.Engine.Cluster;

/// <summary>
/// RBAC findings (CIS 5.1.x), reported on the binding that hands a risky permission to subjects
/// outside the platform itself: cluster-admin, reading secrets, wildcards, creating pods or
/// workloads, exec and attach, escalate and bind, impersonation, nodes/proxy, writing admission
/// webhooks, approving certificates, creating service account tokens and persistent volumes;
/// default service accounts with permissions; bindings to subjects or roles that do not exist;
/// and multi-step escalation paths.
/// </summary>
internal sealed class RbacChecks : ClusterCheck
{
    private static readonly string[] WorkloadKinds = ["deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "replicationcontrollers"];

    // Each test gets the rule and whether it is bound in one namespace only: cluster-scoped resources
    // (nodes, persistent volumes, CSRs, webhook configurations, users and groups) cannot be granted
    // by a RoleBinding, whatever its role says.
    private static readonly (string Id, string What, Func<RbacRule, bool, bool> Grants)[] RuleChecks =
    [
        ("rbac/secrets-read", "read secrets", (r, _) => r.Allows("get", "", "secrets", null, null) || r.Allows("list", "", "secrets", null, null) || r.Allows("watch", "", "secrets", null, null)),
        ("rbac/wildcard", "use wildcard rules", (r, _) => r.IsWildcard),
        ("rbac/create-pods", "create pods or workloads (and so run as any service account of the namespace)",
            (r, _) => r.Allows("create", "", "pods", null, null) || WorkloadKinds.Any(k => r.Allows("create", RbacModel.GroupOf(k), k, null, null))),
        ("rbac/pod-exec", "exec or attach into pods", (r, _) => r.Allows("create", "", "pods", "exec", null) || r.Allows("create", "", "pods", "attach", null)),
        ("rbac/escalate-bind", "escalate or bind roles", (r, _) => r.Allows("escalate", "rbac.authorization.k8s.io", "roles", null, null) || r.Allows("escalate", "rbac.authorization.k8s.io", "clusterroles", null, null)
            || r.Allows("bind", "rbac.authorization.k8s.io", "roles", null, null) || r.Allows("bind", "rbac.authorization.k8s.io", "clusterroles", null, null)),
        ("rbac/impersonate", "impersonate users, groups or service accounts", (r, namespaced) => r.AllowsVerb("impersonate") && r.AllowsGroup("")
            && ((!namespaced && (r.AllowsResource("users", null) || r.AllowsResource("groups", null))) || r.AllowsResource("serviceaccounts", null))),
        ("rbac/nodes-proxy", "use nodes/proxy (the kubelet API)", (r, namespaced) => !namespaced && (r.Allows("get", "", "nodes", "proxy", null) || r.Allows("create", "", "nodes", "proxy", null))),
        ("rbac/webhook-write", "write admission webhook configurations", (r, namespaced) => !namespaced && new[] { "create", "update", "patch" }.Any(v =>
            r.Allows(v, "admissionregistration.k8s.io", "validatingwebhookconfigurations", null, null) || r.Allows(v, "admissionregistration.k8s.io", "mutatingwebhookconfigurations", null, null))),
        ("rbac/csr-approve", "approve certificate signing requests", (r, namespaced) => !namespaced && r.Allows("update", "certificates.k8s.io", "certificatesigningrequests", "approval", null)),
        ("rbac/sa-token-create", "create service account tokens", (r, _) => r.Allows("create", "", "serviceaccounts", "token", null)),
        ("rbac/pv-create", "create persistent volumes", (r, namespaced) => !namespaced && r.Allows("create", "", "persistentvolumes", null, null)),
    ];

    public override IReadOnlyList<string> Ids { get; } =
    [
        "rbac/cluster-admin-binding", .. RuleChecks.Select(c => c.Id), "rbac/default-sa-bound", "rbac/missing-subject", "rbac/missing-role", "rbac/escalation-path",
    ];

    public override void Evaluate(ClusterContext context, ClusterSink sink)
    {
        var model = context.Rbac;
        foreach (var binding in model.Bindings)
        {
            if (ClusterContext.IsSystemBinding(binding))
            {
                continue;
            }

            var bindingNs = binding.Ref.Kind == "RoleBinding" ? binding.Ref.Namespace ?? "default" : null;
            var subjects = RbacModel.Subjects(binding.Root, bindingNs).ToList();
            var exposed = subjects.Where(s => !ClusterContext.IsSystemSubject(s)).ToList();
            var who = string.Join(", ", exposed.Select(s => s.ToString()));
            var roleKind = Model.Json.GetString(Model.Json.Get(binding.Root, "roleRef"u8), "kind") ?? "ClusterRole";
            var roleName = Model.Json.GetString(Model.Json.Get(binding.Root, "roleRef"u8), "name") ?? string.Empty;
            var scope = bindingNs is null ? "cluster-wide" : $"in namespace {bindingNs}";

            if (exposed.Count > 0 && roleKind == "ClusterRole" && roleName == "cluster-admin")
            {
                sink.Report("rbac/cluster-admin-binding", binding, "roleRef", $"{who} hold cluster-admin {scope}");
            }

            var key = roleKind == "Role" ? ("Role", bindingNs, roleName) : ("ClusterRole", (string?)null, roleName);
            if (model.Roles.TryGetValue(key, out var role) && exposed.Count > 0)
            {
                foreach (var (id, what, grants) in RuleChecks)
                {
                    var i = 0;
                    foreach (var rule in role.Rules)
                    {
                        if (grants(rule, bindingNs is not null))
                        {
                            sink.Report(id, binding, "roleRef", $"{who} can {what} {scope} through {roleKind} {roleName} (rule {i}: {rule})");
                            break;
                        }

                        i++;
                    }
                }
            }

            var j = 0;
            foreach (var s in subjects)
            {
                if (s.Kind == RbacSubject.ServiceAccount)
                {
                    if (s.Name == "default" && s.Namespace is not "kube-system")
                    {
                        sink.Report("rbac/default-sa-bound", binding, $"subjects[{j}]",
                            $"the default service account of {s.Namespace} is granted {roleKind} {roleName}; every pod that names no service account gets it");
                    }

                    // Every namespace has a default service account, listed or not.
                    if (s.Name != "default" && context.Rbac.NamespacesWithServiceAccounts.Contains(s.Namespace!) && !context.Rbac.ServiceAccounts.Contains((s.Namespace!, s.Name)))
                    {
                        sink.Report("rbac/missing-subject", binding, $"subjects[{j}]",
                            $"binds {roleKind} {roleName} to {s}, which does not exist; whoever creates it later gets the permissions");
                    }
                }

                j++;
            }
        }

        foreach (var (binding, kind, name) in model.DanglingBindings)
        {
            if (!ClusterContext.IsSystemBinding(binding))
            {
                sink.Report("rbac/missing-role", binding, "roleRef", $"refers to {kind} {name}, which does not exist; creating it later grants its rules to the subjects");
            }
        }

        var finder = new EscalationFinder(model, context.Resources);
        foreach (var subject in model.Subjects().Where(s => !ClusterContext.IsSystemSubject(s)).OrderBy(s => s.ToString(), StringComparer.Ordinal))
        {
            if (finder.Find(subject) is { Steps.Count: >= 2 } path)
            {
                sink.Report("rbac/escalation-path", path.Steps[0].Grant.Binding, "subjects",
                    $"{subject} escalates in {path.Steps.Count - 1} step(s) to a subject that {path.Goal}: " +
                    string.Join("; then ", path.Steps.Select(s => s.To is null ? $"{s.Action} ({s.Grant.Via})" : $"{s.Action}, running as {s.To} ({s.Grant.Via})")));
            }
        }
    }
}
