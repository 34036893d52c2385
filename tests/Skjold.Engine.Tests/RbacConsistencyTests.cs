using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Skjold.Engine.Checks;
using Skjold.Engine.Compliance;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Rbac;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>
/// One truth, four views. Random RBAC inputs (aggregation, wildcards, resourceNames, subresources,
/// RoleBindings to ClusterRoles, implicit groups, namespace-less objects, service accounts bound as
/// users) are checked so that (1) the model's authorization decisions agree with an independent
/// reference authorizer written here from the upstream rules, (2) every rbac/ finding's claimed
/// permission is confirmed by who-can, (3) every hop of every escalation path is allowed by the
/// authorizer (what `rbac can` lists), and (4) the CIS report's RBAC controls follow the findings.
/// A reference with a deliberately broken rule (the old "pods/*" wildcard) must disagree.
/// </summary>
public sealed partial class RbacConsistencyTests
{
    private static readonly string[] Namespaces = ["a", "b", "kube-system"];
    private static readonly string[] Verbs = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "bind", "escalate", "impersonate", "*"];

    private static readonly (string Group, string Resource, bool Namespaced)[] Vocabulary =
    [
        ("", "pods", true), ("", "pods/exec", true), ("", "pods/attach", true), ("", "pods/portforward", true), ("", "pods/ephemeralcontainers", true), ("", "pods/*", true),
        ("", "secrets", true), ("", "configmaps", true), ("", "serviceaccounts", true), ("", "serviceaccounts/token", true), ("", "events", true),
        ("", "nodes", false), ("", "nodes/proxy", false), ("", "persistentvolumes", false), ("", "users", false), ("", "groups", false),
        ("apps", "deployments", true), ("apps", "deployments/scale", true), ("apps", "*/scale", true), ("batch", "cronjobs", true),
        ("networking.k8s.io", "networkpolicies", true), ("rbac.authorization.k8s.io", "clusterroles", false), ("rbac.authorization.k8s.io", "clusterrolebindings", false),
        ("rbac.authorization.k8s.io", "rolebindings", true), ("admissionregistration.k8s.io", "validatingwebhookconfigurations", false),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", false), ("certificates.k8s.io", "certificatesigningrequests/approval", false),
        ("*", "*", true),
    ];

    private static readonly string[] Urls = ["/metrics", "/logs/*", "/healthz", "*"];

    [Fact]
    public void RandomInputs_FourViewsAgree()
    {
        var failures = new List<string>();
        long decisions = 0, claims = 0, hops = 0;
        for (var seed = 1; seed <= 120; seed++)
        {
            var (yaml, ns) = Generate(new Random(seed));
            var resources = Scans.Load(yaml, defaultNamespace: ns);
            var model = RbacModel.Build(resources, new RbacModelOptions { IncludeBootstrap = false, DefaultNamespace = ns, KubeMinor = 34 });
            var reference = new Reference(resources, ns, broken: false);
            decisions += CompareDecisions(seed, model, reference, new Random(seed * 7919), failures);

            // Findings and paths on the same input, bootstrap policy and all, as scan runs it.
            var policy = ScanPolicy.Default.With(34, ns);
            var result = new Scanner(policy).Scan(resources);
            var full = RbacModel.Build(resources, new RbacModelOptions { DefaultNamespace = ns, KubeMinor = 34 });
            claims += ConfirmFindings(seed, full, result.Findings, failures);
            hops += ConfirmPaths(seed, full, resources, ns, failures);
            ConfirmCompliance(seed, result, new Scanner(policy).EvaluatedChecks(resources), failures);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} disagreements in {decisions} decisions, {claims} finding claims and {hops} path hops:\n" + string.Join("\n", failures.Take(40)));
        Assert.True(decisions > 50_000 && claims > 200 && hops > 50, $"too little was compared: {decisions} decisions, {claims} claims, {hops} hops");
    }

    [Fact]
    public void BrokenReference_IsCaught()
    {
        var failures = new List<string>();
        for (var seed = 1; seed <= 40; seed++)
        {
            var (yaml, ns) = Generate(new Random(seed));
            var resources = Scans.Load(yaml, defaultNamespace: ns);
            var model = RbacModel.Build(resources, new RbacModelOptions { IncludeBootstrap = false, DefaultNamespace = ns, KubeMinor = 34 });
            CompareDecisions(seed, model, new Reference(resources, ns, broken: true), new Random(seed * 7919), failures);
        }

        Assert.NotEmpty(failures); // "pods/*" as a subresource wildcard is not what the authorizer does
    }

    private static long CompareDecisions(int seed, RbacModel model, Reference reference, Random rng, List<string> failures)
    {
        var users = reference.Identities().ToList();
        long n = 0;
        for (var i = 0; i < 120; i++)
        {
            var request = RandomRequest(rng);
            foreach (var user in users)
            {
                var ours = model.Authorize(user, request) is not null;
                var theirs = reference.Allows(user, request);
                n++;
                if (ours != theirs)
                {
                    failures.Add($"seed {seed}: {user.Name} [{string.Join(",", user.Groups)}] {request}: model {ours}, reference {theirs}");
                }
            }

            // who-can lists exactly the grants that allow it: each listed subject is allowed.
            foreach (var g in model.WhoCan(request))
            {
                var user = g.Subject.Kind == RbacSubject.Group ? new RbacUser(string.Empty, [g.Subject.Name]) : new RbacUser(g.Subject.UserName, []);
                n++;
                if (!reference.Allows(user, request))
                {
                    failures.Add($"seed {seed}: who-can {request} lists {g.Subject} ({g.Via}) but the reference denies it");
                }
            }
        }

        return n;
    }

    private static long ConfirmFindings(int seed, RbacModel model, IReadOnlyList<Finding> findings, List<string> failures)
    {
        long n = 0;
        foreach (var f in findings.Where(f => f.CheckId.StartsWith("rbac/", StringComparison.Ordinal) && f.CheckId != "rbac/escalation-path"))
        {
            var claim = Claim().Match(f.Message);
            string verb, resource;
            if (f.CheckId == "rbac/cluster-admin-binding")
            {
                (verb, resource) = ("*", "*.*");
            }
            else if (claim.Success && claim.Groups["verb"].Value != "use")
            {
                (verb, resource) = (claim.Groups["verb"].Value, claim.Groups["res"].Value);
            }
            else
            {
                continue; // wildcard shape, anonymous and structural findings carry no request
            }

            var scope = Scope().Match(f.Message);
            var ns = f.CheckId == "rbac/kube-system-configmap-write" ? "kube-system" : scope.Groups["ns"].Success ? scope.Groups["ns"].Value : "x-any";
            var query = model.Query(verb, resource, ns: ns);
            var allowed = model.WhoCan(query).Select(g => g.Subject).ToHashSet();
            var binding = model.Bindings.First(b => b.Ref == f.Resource);
            foreach (var s in RbacModel.Subjects(binding.Root, binding.Kind == "RoleBinding" ? binding.Ref.Namespace : null).Where(s => !s.IsPlatform))
            {
                n++;
                if (!allowed.Contains(s) && model.Authorize(RbacUser.Of(s), query.Request) is null)
                {
                    failures.Add($"seed {seed}: {f.CheckId} on {f.Resource} claims '{verb} {resource}' in {ns} for {s}, who-can disagrees: {f.Message}");
                }
            }
        }

        return n;
    }

    private static long ConfirmPaths(int seed, RbacModel model, IReadOnlyList<Resource> resources, string ns, List<string> failures)
    {
        var finder = new EscalationFinder(model, resources, ns);
        long n = 0;
        foreach (var s in model.Subjects().Where(s => !s.IsPlatform))
        {
            var steps = finder.Find(s)?.Steps ?? (finder.Goal(s) is { } goal ? [new EscalationStep(s, goal.Goal, null, goal.Grant, goal.Request)] : []);
            foreach (var step in steps)
            {
                n++;
                if (model.Authorize(RbacUser.Of(step.From), step.Request) is null)
                {
                    failures.Add($"seed {seed}: path hop '{step.Action}' of {step.From} ({step.Request}) is not allowed by the authorizer");
                }
            }
        }

        return n;
    }

    private static void ConfirmCompliance(int seed, ScanResult result, HashSet<string> evaluated, List<string> failures)
    {
        var fw = FrameworkCatalog.Default.Find("cis")!;
        var report = ComplianceEvaluator.Evaluate(fw, result.Findings, result.Suppressed, evaluated, ScanPolicy.Default, CheckCatalog.Default, DateTimeOffset.UnixEpoch, "test", "sha256:x", ["random"]);
        foreach (var c in report.Controls.Where(c => c.Checks.Count > 0 && c.Checks.All(k => k.CheckId.StartsWith("rbac/", StringComparison.Ordinal))))
        {
            var found = c.Checks.Sum(k => result.Findings.Count(f => f.CheckId == k.CheckId));
            var expected = found == 0 ? ControlStatus.Pass : ControlStatus.Fail;
            if (c.Status is not (ControlStatus.Pass or ControlStatus.Fail or ControlStatus.Partial) || (found == 0) != (c.Status == ControlStatus.Pass))
            {
                failures.Add($"seed {seed}: CIS {c.Control.Id} is {c.Status} with {found} findings of its checks (expected {expected})");
            }
        }
    }

    private static RbacRequest RandomRequest(Random rng)
    {
        if (rng.Next(8) == 0)
        {
            return RbacRequest.ForPath(rng.Next(2) == 0 ? "get" : "post", Pick(rng, ["/metrics", "/logs/kubelet.log", "/logs", "/healthz", "/version"]));
        }

        var (group, resource, namespaced) = Pick(rng, Vocabulary.Where(v => !v.Resource.Contains('*', StringComparison.Ordinal)).ToArray());
        var slash = resource.IndexOf('/', StringComparison.Ordinal);
        var sub = slash < 0 ? string.Empty : resource[(slash + 1)..];
        resource = slash < 0 ? resource : resource[..slash];
        var ns = namespaced ? Pick(rng, [.. Namespaces, "default", "z"]) : string.Empty;
        string? name = rng.Next(3) switch { 0 => null, 1 => "db", _ => string.Empty };
        return RbacRequest.ForResource(Pick(rng, Verbs.Where(v => v != "*").ToArray()), group, resource, sub, name, ns);
    }

    /// <summary>A random set of roles, bindings, service accounts and pods; some objects name no namespace.</summary>
    private static (string Yaml, string DefaultNamespace) Generate(Random rng)
    {
        var defaultNs = Pick(rng, ["default", "a"]);
        var y = new StringBuilder();
        string Rules()
        {
            var rules = new List<string>();
            for (var i = rng.Next(1, 4); i > 0; i--)
            {
                if (rng.Next(6) == 0)
                {
                    rules.Add($"{{nonResourceURLs: [{Q(Pick(rng, Urls))}], verbs: [{Q(Pick(rng, ["get", "*"]))}]}}");
                    continue;
                }

                var items = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Pick(rng, Vocabulary)).ToList();
                var verbs = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Pick(rng, Verbs)).Distinct();
                var groups = items.Select(v => rng.Next(8) == 0 ? "*" : v.Group).Distinct();
                var names = rng.Next(5) == 0 ? ", resourceNames: [db]" : string.Empty;
                rules.Add($"{{apiGroups: [{string.Join(", ", groups.Select(Q))}], resources: [{string.Join(", ", items.Select(v => Q(v.Resource)))}], verbs: [{string.Join(", ", verbs.Select(Q))}]{names}}}");
            }

            return "[" + string.Join(", ", rules) + "]";
        }

        var clusterRoles = new List<string>();
        for (var i = 0; i < rng.Next(2, 6); i++)
        {
            var name = $"cr{i}";
            clusterRoles.Add(name);
            var labels = rng.Next(3) == 0 ? $"{{agg: {Q(Pick(rng, ["x", "y"]))}}}" : "{}";
            var aggregation = rng.Next(4) == 0 ? $"\naggregationRule: {{clusterRoleSelectors: [{{matchLabels: {{agg: {Q(Pick(rng, ["x", "y"]))}}}}}]}}" : string.Empty;
            y.Append($"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}, labels: {labels}}}{aggregation}\nrules: {Rules()}\n---\n");
        }

        var roles = new List<(string? Ns, string Name)>();
        for (var i = 0; i < rng.Next(1, 5); i++)
        {
            var ns = rng.Next(4) == 0 ? null : Pick(rng, Namespaces);
            roles.Add((ns, $"r{i}"));
            y.Append($"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r{i}{(ns is null ? string.Empty : ", namespace: " + ns)}}}\nrules: {Rules()}\n---\n");
        }

        string Subjects()
        {
            var list = new List<string>();
            for (var i = rng.Next(1, 4); i > 0; i--)
            {
                list.Add(rng.Next(7) switch
                {
                    0 => $"{{kind: User, name: {Pick(rng, ["alice", "bob", "system:anonymous"])}}}",
                    1 => $"{{kind: Group, name: {Q(Pick(rng, ["devs", "system:authenticated", "system:unauthenticated", "system:serviceaccounts:a"]))}}}",
                    2 => $"{{kind: User, name: 'system:serviceaccount:{Pick(rng, Namespaces)}:{Pick(rng, ["ci", "app"])}'}}",
                    3 => $"{{kind: ServiceAccount, name: {Pick(rng, ["ci", "app", "default"])}}}",
                    _ => $"{{kind: ServiceAccount, name: {Pick(rng, ["ci", "app", "default"])}, namespace: {Pick(rng, Namespaces)}}}",
                });
            }

            return "[" + string.Join(", ", list) + "]";
        }

        for (var i = 0; i < rng.Next(2, 7); i++)
        {
            if (rng.Next(2) == 0)
            {
                y.Append($"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: crb{i}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {Pick(rng, clusterRoles.ToArray())}}}\nsubjects: {Subjects()}\n---\n");
            }
            else
            {
                var ns = rng.Next(4) == 0 ? null : Pick(rng, Namespaces);
                var (roleKind, role) = rng.Next(2) == 0 ? ("ClusterRole", Pick(rng, clusterRoles.ToArray())) : ("Role", Pick(rng, roles.ToArray()).Name);
                y.Append($"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb{i}{(ns is null ? string.Empty : ", namespace: " + ns)}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {roleKind}, name: {role}}}\nsubjects: {Subjects()}\n---\n");
            }
        }

        foreach (var ns in Namespaces)
        {
            y.Append($"apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec: {{serviceAccountName: {Pick(rng, ["ci", "app", "default"])}, containers: [{{name: c, image: x}}]}}\n---\n");
        }

        return (y.ToString(), defaultNs);
    }

    private static string Q(string s) => "'" + s + "'";

    private static T Pick<T>(Random rng, T[] items) => items[rng.Next(items.Length)];

    [GeneratedRegex(@" can (?<verb>\S+) (?<res>[^\s(]+)", RegexOptions.CultureInvariant)]
    private static partial Regex Claim();

    [GeneratedRegex(@"in namespace (?<ns>[a-z0-9-]+)|cluster-wide|in every namespace", RegexOptions.CultureInvariant)]
    private static partial Regex Scope();

    /// <summary>
    /// An authorizer written from the upstream rules, independently of the model: aggregation as a
    /// fixpoint over matchLabels, ClusterRoleBindings then RoleBindings of the request's namespace,
    /// subjects by user name, group or service account user name, rules by verb, group, resource
    /// ("*", exact, "*/sub"), resourceNames and URLs.
    /// </summary>
    private sealed class Reference
    {
        private readonly Dictionary<string, List<JsonElement>> _clusterRoles = [];
        private readonly Dictionary<(string, string), List<JsonElement>> _roles = [];
        private readonly List<(string? Ns, string RoleKind, string Role, List<(string Kind, string Name, string? Ns)> Subjects)> _bindings = [];
        private readonly bool _broken;

        public Reference(IReadOnlyList<Resource> resources, string defaultNs, bool broken)
        {
            _broken = broken;
            var labels = new Dictionary<string, Dictionary<string, string>>();
            var selectors = new Dictionary<string, List<Dictionary<string, string>>>();
            foreach (var r in resources)
            {
                var meta = r.Root.GetProperty("metadata");
                var ns = meta.TryGetProperty("namespace", out var n) ? n.GetString()! : defaultNs;
                switch (r.Kind)
                {
                    case "ClusterRole":
                        var name = meta.GetProperty("name").GetString()!;
                        _clusterRoles[name] = Rules(r.Root);
                        labels[name] = meta.TryGetProperty("labels", out var l) ? l.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!) : [];
                        if (r.Root.TryGetProperty("aggregationRule", out var agg))
                        {
                            selectors[name] = [.. agg.GetProperty("clusterRoleSelectors").EnumerateArray().Select(s => s.GetProperty("matchLabels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!))];
                            _clusterRoles[name] = [];
                        }

                        break;
                    case "Role":
                        _roles[(ns, meta.GetProperty("name").GetString()!)] = Rules(r.Root);
                        break;
                    case "ClusterRoleBinding" or "RoleBinding":
                        var roleRef = r.Root.GetProperty("roleRef");
                        var subjects = r.Root.GetProperty("subjects").EnumerateArray()
                            .Select(s => (s.GetProperty("kind").GetString()!, s.GetProperty("name").GetString()!, s.TryGetProperty("namespace", out var sn) ? sn.GetString() : null)).ToList();
                        _bindings.Add((r.Kind == "RoleBinding" ? ns : null, roleRef.GetProperty("kind").GetString()!, roleRef.GetProperty("name").GetString()!, subjects));
                        break;
                    default:
                        break;
                }
            }

            for (var changed = true; changed;)
            {
                changed = false;
                foreach (var (name, sels) in selectors)
                {
                    var union = _clusterRoles.Where(kv => kv.Key != name && sels.Any(sel => sel.All(m => labels[kv.Key].TryGetValue(m.Key, out var v) && v == m.Value)))
                        .SelectMany(kv => kv.Value).DistinctBy(e => e.GetRawText()).ToList();
                    if (union.Count != _clusterRoles[name].Count)
                    {
                        _clusterRoles[name] = union;
                        changed = true;
                    }
                }
            }
        }

        public IEnumerable<RbacUser> Identities()
        {
            yield return RbacUser.Of(RbacSubject.Parse("user:system:anonymous"));
            yield return RbacUser.Of(RbacSubject.Parse("user:nobody"));
            yield return RbacUser.Of(RbacSubject.Parse("alice"));
            yield return RbacUser.Of(RbacSubject.Parse("bob"), ["devs"]);
            foreach (var ns in Namespaces.Append("default"))
            {
                foreach (var sa in (string[])["ci", "app", "default"])
                {
                    yield return RbacUser.Of(new RbacSubject(RbacSubject.ServiceAccount, sa, ns));
                }
            }
        }

        public bool Allows(RbacUser user, RbacRequest request)
        {
            foreach (var (ns, roleKind, role, subjects) in _bindings)
            {
                if (ns is not null && (request.Namespace.Length == 0 || ns != request.Namespace))
                {
                    continue;
                }

                var rules = roleKind == "ClusterRole" ? _clusterRoles.GetValueOrDefault(role) : ns is null ? null : _roles.GetValueOrDefault((ns, role));
                if (rules is null || !subjects.Any(s => Applies(user, s, ns ?? string.Empty)))
                {
                    continue;
                }

                if (rules.Any(rule => RuleAllows(rule, request)))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool Applies(RbacUser user, (string Kind, string Name, string? Ns) s, string bindingNs) => s.Kind switch
        {
            "User" => user.Name == s.Name,
            "Group" => user.Groups.Contains(s.Name),
            "ServiceAccount" => (string.IsNullOrEmpty(s.Ns) ? bindingNs : s.Ns) is { Length: > 0 } ns && user.Name == $"system:serviceaccount:{ns}:{s.Name}",
            _ => false,
        };

        private bool RuleAllows(JsonElement rule, RbacRequest r)
        {
            if (!List(rule, "verbs").Any(v => v == "*" || v == r.Verb))
            {
                return false;
            }

            if (!r.IsResourceRequest)
            {
                return List(rule, "nonResourceURLs").Any(u => u == "*" || u == r.Path || (u.EndsWith('*') && r.Path!.StartsWith(u.TrimEnd('*'), StringComparison.Ordinal)));
            }

            var combined = r.Subresource.Length > 0 ? r.Resource + "/" + r.Subresource : r.Resource;
            var resourceOk = List(rule, "resources").Any(x => x == "*" || x == combined || (r.Subresource.Length > 0 && x == "*/" + r.Subresource)
                || (_broken && r.Subresource.Length > 0 && x == r.Resource + "/*"));
            var names = List(rule, "resourceNames");
            return List(rule, "apiGroups").Any(g => g == "*" || g == r.ApiGroup) && resourceOk && (names.Count == 0 || (r.Name is not null && names.Contains(r.Name)));
        }

        private static List<string> List(JsonElement e, string name) =>
            e.TryGetProperty(name, out var a) ? [.. a.EnumerateArray().Select(x => x.GetString()!)] : [];

        private static List<JsonElement> Rules(JsonElement role) => role.TryGetProperty("rules", out var r) ? [.. r.EnumerateArray()] : [];
    }
}
