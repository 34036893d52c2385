using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Skjold.Detection.Falco;
using Skjold.Detection.Skjold;
using Skjold.Engine.Policy;

namespace Skjold.Detection.Tests;

/// <summary>Skjold's own detections: the shipped rule file and the stateful rules, each firing and not firing at its boundary, on a fake clock.</summary>
public sealed class SkjoldDetectionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static JsonElement Ev(string user = "alice", string verb = "get", string resource = "secrets", string? ns = "shop", string? name = "db", int code = 200,
        string? subresource = null, string ip = "10.1.2.3", string? decision = null, string? requestObject = null, string[]? groups = null, string? apiGroup = null, string? uri = null)
    {
        var obj = new Dictionary<string, object?> { ["resource"] = resource, ["namespace"] = ns, ["name"] = name, ["subresource"] = subresource, ["apiGroup"] = apiGroup };
        var json = new Dictionary<string, object?>
        {
            ["kind"] = "Event",
            ["apiVersion"] = "audit.k8s.io/v1",
            ["level"] = "Request",
            ["auditID"] = Guid.NewGuid().ToString(),
            ["stage"] = "ResponseComplete",
            ["verb"] = verb,
            ["requestURI"] = uri ?? $"/api/v1/namespaces/{ns}/{resource}/{name}",
            ["user"] = new Dictionary<string, object?> { ["username"] = user, ["groups"] = groups ?? ["system:authenticated"] },
            ["sourceIPs"] = new[] { ip },
            ["objectRef"] = obj.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value),
            ["responseStatus"] = new Dictionary<string, object?> { ["code"] = code },
            ["annotations"] = decision is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["authorization.k8s.io/decision"] = decision, ["authorization.k8s.io/reason"] = "RBAC" },
        };
        var text = JsonSerializer.Serialize(json);
        if (requestObject is not null)
        {
            text = text[..^1] + ",\"requestObject\":" + requestObject + "}";
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static DetectionEngine Engine(DetectionSettings? settings = null, Func<string, IReadOnlyDictionary<string, string>?>? labels = null)
    {
        settings ??= DetectionSettings.Default;
        var set = new FalcoRuleSet();
        DetectionEngine.LoadBuiltin(set, settings);
        return new DetectionEngine(set, settings, labels);
    }

    private static List<string> Fired(DetectionEngine e, JsonElement ev, DateTimeOffset at) => [.. e.Evaluate(ev, at).Select(a => a.Rule)];

    [Fact]
    public void ShippedRules_LoadAndCarryTechniqueAndControls()
    {
        var engine = Engine();
        var shipped = engine.Rules.Rules.Where(r => r.Name.StartsWith("Skjold ", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, shipped.Count);
        Assert.Equal(6, engine.Stateful.Count);
        Assert.All(shipped.Select(r => r.Tags).Concat(engine.Stateful.Select(s => s.Tags)), tags =>
        {
            Assert.Contains(tags, t => System.Text.RegularExpressions.Regex.IsMatch(t, @"^T1[0-9]{3}(\.[0-9]{3})?$"));
            Assert.Contains(tags, t => t.StartsWith("iso27001:", StringComparison.Ordinal) || t.StartsWith("gdpr:", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void EveryControlTag_NamesAControlOfTheFrameworkCatalog()
    {
        var engine = Engine();
        var catalog = global::Skjold.Engine.Compliance.FrameworkCatalog.Default;
        var tags = engine.Rules.Rules.SelectMany(r => r.Tags).Concat(engine.Stateful.SelectMany(s => s.Tags)).Where(t => t.Contains(':', StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(tags);
        Assert.All(tags, t =>
        {
            var (framework, control) = (t[..t.IndexOf(':', StringComparison.Ordinal)], t[(t.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            Assert.True(catalog.Find(framework)?.Control(control) is not null, $"tag {t}: no such control in frameworks.yaml");
        });
    }

    [Fact]
    public void AnonymousAllowed_FiresButNotForHealthProbesOrDenials()
    {
        var e = Engine();
        Assert.Contains("Skjold anonymous request allowed", Fired(e, Ev(user: "system:anonymous", verb: "list", resource: "pods", decision: "allow"), T0));
        Assert.DoesNotContain("Skjold anonymous request allowed", Fired(e, Ev(user: "system:anonymous", verb: "get", resource: "", decision: "allow", uri: "/healthz?verbose"), T0));
        Assert.DoesNotContain("Skjold anonymous request allowed", Fired(e, Ev(user: "system:anonymous", verb: "list", resource: "pods", decision: "forbid", code: 403), T0));
    }

    [Theory]
    [InlineData("mutatingwebhookconfigurations", null, "skjold-webhook", "mallory", "Skjold admission control changed", true)]
    [InlineData("validatingadmissionpolicies", null, "deny-privileged", "mallory", "Skjold admission control changed", true)]
    [InlineData("rolebindings", "kube-system", "extra-admin", "mallory", "Skjold kube-system RBAC changed", true)]
    [InlineData("clusterroles", null, "system:aggregate-to-edit", "mallory", "Skjold kube-system RBAC changed", true)]
    [InlineData("clusterroles", null, "team-reader", "mallory", "Skjold kube-system RBAC changed", false)]
    [InlineData("rolebindings", "kube-system", "x", "system:kube-controller-manager", "Skjold kube-system RBAC changed", false)]
    [InlineData("configmaps", "skjold-system", "skjold-config", "mallory", "Skjold own objects changed", true)]
    [InlineData("configmaps", "skjold-system", "skjold-config", "system:serviceaccount:skjold-system:skjold", "Skjold own objects changed", false)]
    [InlineData("configmaps", "kube-system", "audit-policy", "mallory", "Skjold audit configuration changed", true)]
    [InlineData("configmaps", "kube-system", "coredns", "mallory", "Skjold audit configuration changed", false)]
    public void ChangesToDefences(string resource, string? ns, string name, string user, string rule, bool fires)
    {
        var e = Engine();
        Assert.Equal(fires, Fired(e, Ev(user: user, verb: "patch", resource: resource, ns: ns, name: name), T0).Contains(rule));
        Assert.DoesNotContain(rule, Fired(e, Ev(user: user, verb: "get", resource: resource, ns: ns, name: name), T0)); // reading is not changing
        Assert.DoesNotContain(rule, Fired(e, Ev(user: user, verb: "patch", resource: resource, ns: ns, name: name, code: 403), T0)); // refused changes changed nothing
    }

    [Fact]
    public void SkjoldNamespaces_FromSettings()
    {
        var e = Engine(DetectionSettings.Default with { SkjoldNamespaces = ["security"] });
        Assert.Contains("Skjold own objects changed", Fired(e, Ev(user: "mallory", verb: "delete", resource: "deployments", ns: "security", name: "skjold"), T0));
        Assert.DoesNotContain("Skjold own objects changed", Fired(e, Ev(user: "mallory", verb: "delete", resource: "deployments", ns: "skjold-system", name: "skjold"), T0));
    }

    [Fact]
    public void SecretsAcrossNamespaces_FiresAtMoreThanN_WithinTheWindowInclusive()
    {
        var clock = new FakeTimeProvider(T0);
        var e = Engine(DetectionSettings.Default with { SecretsAcrossNamespaces = new Threshold(3, TimeSpan.FromMinutes(10)) });
        const string Rule = "Skjold secrets read across namespaces";
        foreach (var ns in new[] { "a", "b", "c" })
        {
            Assert.DoesNotContain(Rule, Fired(e, Ev(ns: ns), clock.GetUtcNow()));
        }

        Assert.DoesNotContain(Rule, Fired(e, Ev(ns: "c"), clock.GetUtcNow())); // the same namespace again is not a new one
        clock.Advance(TimeSpan.FromMinutes(10)); // exactly the window after the first read
        var alerts = e.Evaluate(Ev(ns: "d"), clock.GetUtcNow());
        var alert = Assert.Single(alerts, a => a.Rule == Rule);
        Assert.Contains("4 namespaces", alert.Output, StringComparison.Ordinal);
        Assert.Equal(FalcoPriority.Critical, alert.Priority);

        // Another identity, one tick past the window: the first read has left it.
        var other = Engine(DetectionSettings.Default with { SecretsAcrossNamespaces = new Threshold(3, TimeSpan.FromMinutes(10)) });
        foreach (var ns in new[] { "a", "b", "c" })
        {
            Fired(other, Ev(user: "bob", ns: ns), T0);
        }

        Assert.DoesNotContain(Rule, Fired(other, Ev(user: "bob", ns: "d"), T0 + TimeSpan.FromMinutes(10) + TimeSpan.FromTicks(1)));
        Assert.DoesNotContain(Rule, Fired(other, Ev(user: "bob", ns: "e", code: 403), T0)); // refused reads do not count
    }

    [Fact]
    public void Probing_FiresAtTheNthDenial_NotBefore_NotWhenSpreadOut()
    {
        var clock = new FakeTimeProvider(T0);
        var e = Engine(DetectionSettings.Default with { Probing = new Threshold(5, TimeSpan.FromMinutes(5)) });
        const string Rule = "Skjold repeated denials";
        for (var i = 0; i < 4; i++)
        {
            Assert.DoesNotContain(Rule, Fired(e, Ev(user: "mallory", code: 403, ns: $"n{i}"), clock.GetUtcNow()));
            clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Contains(Rule, Fired(e, Ev(user: "mallory", code: 401), clock.GetUtcNow())); // the 5th, 4 min after the first
        var spread = Engine(DetectionSettings.Default with { Probing = new Threshold(5, TimeSpan.FromMinutes(5)) });
        var at = T0;
        for (var i = 0; i < 8; i++)
        {
            Assert.DoesNotContain(Rule, Fired(spread, Ev(user: "eve", code: 403), at));
            at += TimeSpan.FromMinutes(1.5); // never 5 within 5 minutes
        }
    }

    [Fact]
    public void NewBindingUsed_FiresForTheGrantedPermissionWithinTheWindow()
    {
        var e = Engine(DetectionSettings.Default with { NewBindingUsedWithin = TimeSpan.FromMinutes(30) });
        const string Rule = "Skjold new binding used";
        Fired(e, Ev(user: "admin", verb: "create", resource: "roles", ns: "shop", name: "secret-reader", apiGroup: "rbac.authorization.k8s.io",
            requestObject: """{"metadata":{"name":"secret-reader"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["secrets"]}]}"""), T0);
        Fired(e, Ev(user: "admin", verb: "create", resource: "rolebindings", ns: "shop", name: "mallory-reads", apiGroup: "rbac.authorization.k8s.io",
            requestObject: """{"metadata":{"name":"mallory-reads"},"roleRef":{"kind":"Role","name":"secret-reader"},"subjects":[{"kind":"User","name":"mallory"}]}"""), T0);
        Assert.DoesNotContain(Rule, Fired(e, Ev(user: "mallory", verb: "list", resource: "pods", ns: "shop"), T0.AddMinutes(1))); // not what the role grants
        Assert.DoesNotContain(Rule, Fired(e, Ev(user: "mallory", verb: "get", resource: "secrets", ns: "other"), T0.AddMinutes(1))); // outside the binding's namespace
        var alert = Assert.Single(e.Evaluate(Ev(user: "mallory", verb: "get", resource: "secrets", ns: "shop"), T0.AddMinutes(30)), a => a.Rule == Rule);
        Assert.Contains("rolebinding shop/mallory-reads", alert.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Rule, Fired(e, Ev(user: "mallory", verb: "get", resource: "secrets", ns: "shop"), T0.AddMinutes(31))); // once

        var late = Engine(DetectionSettings.Default with { NewBindingUsedWithin = TimeSpan.FromMinutes(30) });
        Fired(late, Ev(user: "admin", verb: "create", resource: "clusterrolebindings", ns: null, name: "ops", apiGroup: "rbac.authorization.k8s.io",
            requestObject: """{"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"Group","name":"ops"},{"kind":"ServiceAccount","namespace":"ci","name":"deployer"}]}"""), T0);
        Assert.DoesNotContain(Rule, Fired(late, Ev(user: "system:serviceaccount:ci:deployer", verb: "delete", resource: "pods"), T0 + TimeSpan.FromMinutes(30) + TimeSpan.FromTicks(1)));
        var byGroup = e.Evaluate(Ev(user: "carol", groups: ["ops"], verb: "delete", resource: "pods"), T0.AddMinutes(2));
        Assert.DoesNotContain(byGroup, a => a.Rule == Rule); // carol's group was bound in the other engine only
        Assert.Contains(Rule, Fired(late, Ev(user: "carol", groups: ["ops"], verb: "delete", resource: "pods"), T0.AddMinutes(2)));
    }

    [Fact]
    public void ExecIntoProduction_ByNameOrByLabels()
    {
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["payments"] = new Dictionary<string, string> { ["environment"] = "production" } };
        var e = Engine(DetectionSettings.Default with { ProductionNamespaces = ["prod-*"], ProductionLabels = new Dictionary<string, string> { ["environment"] = "production" } },
            ns => labels.GetValueOrDefault(ns));
        const string Rule = "Skjold exec into production";
        Assert.Contains(Rule, Fired(e, Ev(verb: "create", resource: "pods", subresource: "exec", ns: "prod-eu", name: "web"), T0));
        Assert.Contains(Rule, Fired(e, Ev(verb: "create", resource: "pods", subresource: "portforward", ns: "payments", name: "db"), T0));
        Assert.DoesNotContain(Rule, Fired(e, Ev(verb: "create", resource: "pods", subresource: "exec", ns: "staging", name: "web"), T0));
        Assert.DoesNotContain(Rule, Fired(e, Ev(verb: "get", resource: "pods", subresource: "log", ns: "prod-eu", name: "web"), T0));
        Assert.DoesNotContain(Rule, Fired(e, Ev(verb: "create", resource: "pods", subresource: "exec", ns: "prod-eu", name: "web", code: 403), T0));
    }

    [Fact]
    public void ExecIntoProduction_UpgradedStream101_IsASuccess()
    {
        // Falco's own trace of a kubectl exec: the API server records the upgraded stream as 101 Switching Protocols.
        var line = File.ReadLines(Path.Combine(global::Skjold.TestSupport.RepoPaths.Peers, "falco", "audit-events", "k8s_audit", "exec_pod.json"))
            .First(l => l.Contains("\"subresource\":\"exec\"", StringComparison.Ordinal) && l.Contains("\"code\":101", StringComparison.Ordinal));
        using var doc = System.Text.Json.JsonDocument.Parse(line);
        var e = Engine(DetectionSettings.Default with { ProductionNamespaces = ["default"] });
        Assert.Contains("Skjold exec into production", e.Evaluate(doc.RootElement, T0).Select(a => a.Rule));
    }

    [Fact]
    public void ServiceAccountTokenFromOutside_AndRequestsFromOutsideAllowedRanges()
    {
        var e = Engine(DetectionSettings.Default with
        {
            ClusterCidrs = [IPNetwork.Parse("10.0.0.0/8")],
            AllowedSourceRanges = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.0.2.0/24")],
        });
        const string Sa = "Skjold service account token used from outside the cluster";
        const string Range = "Skjold request from outside the allowed source ranges";
        Assert.Empty(Fired(e, Ev(user: "system:serviceaccount:shop:web", verb: "list", resource: "pods", ip: "10.4.5.6"), T0));
        Assert.Equal([Sa], Fired(e, Ev(user: "system:serviceaccount:shop:web", verb: "list", resource: "pods", ip: "192.0.2.10"), T0));
        Assert.Empty(Fired(e, Ev(user: "system:serviceaccount:shop:web", verb: "list", resource: "pods", ip: "192.0.2.10"), T0.AddMinutes(59))); // once an hour
        Assert.Equal([Sa], Fired(e, Ev(user: "system:serviceaccount:shop:web", verb: "list", resource: "pods", ip: "192.0.2.10"), T0.AddMinutes(60)));
        Assert.Empty(Fired(e, Ev(user: "alice", verb: "list", resource: "pods", ip: "192.0.2.10"), T0)); // a person from the office range
        Assert.Equal([Range], Fired(e, Ev(user: "alice", verb: "list", resource: "pods", ip: "203.0.113.7"), T0));
        Assert.Equal([Sa, Range], Fired(e, Ev(user: "system:serviceaccount:shop:api", verb: "list", resource: "pods", ip: "2001:db8::1"), T0));
    }

    [Fact]
    public void Exceptions_DropCoveredAlertsUntilTheyExpire_AndDisabledRulesDoNotRun()
    {
        var settings = DetectionSettings.Default with
        {
            Probing = new Threshold(1, TimeSpan.FromMinutes(5)),
            Disabled = ["Skjold anonymous request allowed"],
            Exceptions =
            [
                new DetectionException("Skjold repeated denials", ["system:serviceaccount:monitoring:*"], [], [], "the prober checks its own permissions", T0.AddDays(30), new("skjold.yaml", 10)),
            ],
        };
        var e = Engine(settings);
        Assert.Empty(Fired(e, Ev(user: "system:serviceaccount:monitoring:prober", code: 403), T0));
        Assert.Equal(1, e.Excepted);
        Assert.Equal(["Skjold repeated denials"], Fired(e, Ev(user: "mallory", code: 403), T0));
        Assert.Equal(["Skjold repeated denials"], Fired(e, Ev(user: "system:serviceaccount:monitoring:prober", code: 403), T0.AddDays(30))); // expired
        Assert.Single(e.ExpiredExceptions(T0.AddDays(31)));
        Assert.Empty(Fired(e, Ev(user: "system:anonymous", verb: "list", resource: "pods", decision: "allow"), T0));
    }

    [Fact]
    public void Config_ReadsTheSection_AndReportsEveryProblemWithItsLine()
    {
        var ok = DetectionConfig.Parse("""
            detection:
              secretsAcrossNamespaces: {namespaces: 5, within: 15m}
              probing: {denials: 20, within: 1m}
              newBindingUsed: {within: 1h}
              clusterCidrs: [10.0.0.0/8, fd00::/8]
              allowedSourceRanges: [192.0.2.0/24, 198.51.100.7]
              productionNamespaces: [prod-*]
              productionLabels: {environment: production}
              disabled: [Skjold exec into production]
              exceptions:
                - rule: Skjold secrets read across namespaces
                  users: ["system:serviceaccount:argocd:*"]
                  reason: Argo CD syncs secrets into every namespace
                  expires: 2027-06-30
            """, "skjold.yaml")!;
        Assert.Equal(new Threshold(5, TimeSpan.FromMinutes(15)), ok.SecretsAcrossNamespaces);
        Assert.Equal(TimeSpan.FromHours(1), ok.NewBindingUsedWithin);
        Assert.Equal(2, ok.ClusterCidrs.Count);
        Assert.True(ok.AllowedSourceRanges[1].Contains(IPAddress.Parse("198.51.100.7")));
        Assert.Equal("Argo CD syncs secrets into every namespace", ok.Exceptions[0].Reason);
        Assert.Null(DetectionConfig.Parse("pss:\n  level: baseline\n", "skjold.yaml"));

        var ex = Assert.Throws<ConfigException>(() => DetectionConfig.Parse("""
            detection:
              probing: {denials: 0, within: 1m}
              clusterCidrs: [10.0.0.0/33]
              newBindingUsed: {within: soon}
              colour: blue
              exceptions:
                - rule: Skjold repeated denials
                  users: [bob]
                - users: [x]
                  reason: y
            """, "skjold.yaml"));
        var messages = ex.Errors.Select(x => x.Message).ToList();
        Assert.Contains(messages, m => m.StartsWith("skjold.yaml:2:", StringComparison.Ordinal) && m.Contains("at least 1", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("skjold.yaml:3:", StringComparison.Ordinal) && m.Contains("10.0.0.0/33", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("skjold.yaml:4:", StringComparison.Ordinal) && m.Contains("'soon'", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("skjold.yaml:5:", StringComparison.Ordinal) && m.Contains("unknown key 'colour'", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("skjold.yaml:7:", StringComparison.Ordinal) && m.Contains("'reason' is required", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("skjold.yaml:9:", StringComparison.Ordinal) && m.Contains("'rule' is required", StringComparison.Ordinal));
    }

    [Fact]
    public void StatefulState_IsBounded_UnderManyIdentities()
    {
        var e = Engine(DetectionSettings.Default with { Probing = new Threshold(3, TimeSpan.FromMinutes(5)) });
        for (var i = 0; i < StatefulRule.MaxTracked + 5_000; i++)
        {
            e.Evaluate(Ev(user: $"u{i}", code: 403), T0.AddMilliseconds(i));
        }

        var rule = e.Stateful.OfType<ProbingRule>().Single();
        Assert.True(rule.Tracked <= StatefulRule.MaxTracked, $"{rule.Tracked} identities tracked");
        Assert.Contains("Skjold repeated denials", Fired(e, Ev(user: "mallory", code: 403), T0.AddMinutes(1)) // still works after the purge
            .Concat(Fired(e, Ev(user: "mallory", code: 403), T0.AddMinutes(1))).Concat(Fired(e, Ev(user: "mallory", code: 403), T0.AddMinutes(1))));
    }
}
