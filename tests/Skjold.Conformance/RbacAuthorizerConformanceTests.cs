using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Engine.Model;
using Skjold.Engine.Rbac;
using Skjold.TestSupport;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Skjold.Conformance;

/// <summary>
/// The RBAC authorizer's own unit-test cases (transcribed in Data/rbac-authorizer-cases.yaml) run
/// through Skjold's RBAC model: every authorization decision, rule match, "who may" subject list,
/// subject match and resolved rule set must agree. Writes artifacts/rbac-conformance.txt.
/// </summary>
public sealed class RbacAuthorizerConformanceTests(ITestOutputHelper output)
{
    private static readonly RbacModelOptions Options = new() { IncludeBootstrap = false, KubeMinor = 34 };

    [Fact]
    public void AuthorizerCases_AllAgree()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(AppContext.BaseDirectory, "Data", "rbac-authorizer-cases.yaml")))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        int total = 0, agree = 0;
        var report = new StringBuilder();
        void Check(string what, bool ok)
        {
            total++;
            if (ok)
            {
                agree++;
            }
            else
            {
                report.AppendLine("DISAGREE " + what);
            }
        }

        foreach (var c in Seq(root, "authorize"))
        {
            var model = RbacModel.Build(Objects(c), Options);
            foreach (var (list, expected) in new[] { ("allow", true), ("deny", false) })
            {
                foreach (var r in Seq(c, list))
                {
                    var user = new RbacUser(S(r, "user") ?? string.Empty, Strings(r, "groups"));
                    var allowed = model.Authorize(user, Request(r)) is not null;
                    Check($"{S(c, "name")}: {list} {Describe(r)} -> {(allowed ? "allowed" : "denied")}", allowed == expected);
                }
            }
        }

        foreach (var c in Seq(root, "rules"))
        {
            var rule = Rule((YamlMappingNode)c.Children["rule"]);
            foreach (var r in Seq(c, "requests"))
            {
                var allowed = rule.Allows(Request(r));
                Check($"{S(c, "name")}: {Describe(r)} -> {allowed}", allowed == (S(r, "allowed") == "true"));
            }
        }

        foreach (var c in Seq(root, "subjects"))
        {
            var model = RbacModel.Build(Objects(c), Options);
            foreach (var item in Seq(c, "cases"))
            {
                var request = Request((YamlMappingNode)item.Children["request"]);
                var actual = new List<string> { "Group:" + RbacUser.Masters };
                if (S(c, "superUser") is { } super)
                {
                    actual.Add("User:" + super);
                }

                foreach (var g in model.WhoCan(request))
                {
                    var key = g.Subject.Kind == RbacSubject.ServiceAccount ? $"ServiceAccount:{g.Subject.Namespace}/{g.Subject.Name}" : $"{g.Subject.Kind}:{g.Subject.Name}";
                    if (!actual.Contains(key))
                    {
                        actual.Add(key);
                    }
                }

                var expected = Strings(item, "subjects");
                Check($"{S(c, "name")}: who may {Describe((YamlMappingNode)item.Children["request"])}: [{string.Join(", ", actual)}]", actual.SequenceEqual(expected));
            }
        }

        foreach (var c in Seq(root, "appliesTo"))
        {
            // A binding of a role that allows everything, in the case's namespace (cluster-wide
            // when there is none): the authorizer allows the user exactly when a subject applies.
            var ns = S(c, "namespace") ?? string.Empty;
            var subjects = Strings(c, "subjects");
            var binding = new JsonObject { ["role"] = "everything", ["roleKind"] = "ClusterRole", ["subjects"] = new JsonArray([.. subjects.Select(s => (JsonNode)s)]) };
            if (ns.Length > 0)
            {
                binding["namespace"] = ns;
            }

            var spec = new JsonObject
            {
                ["clusterRoles"] = new JsonArray(new JsonObject { ["name"] = "everything", ["rules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") }) }),
                [ns.Length > 0 ? "roleBindings" : "clusterRoleBindings"] = new JsonArray(binding),
            };
            var model = RbacModel.Build(Objects(spec), Options);
            var user = new RbacUser(S(c, "user") ?? string.Empty, Strings(c, "groups"));
            var grant = model.Authorize(user, RbacRequest.ForResource("get", string.Empty, "pods", ns: ns));
            var applies = grant is not null;
            var ok = applies == (S(c, "applies") == "true");
            if (ok && applies && S(c, "index") is { } index)
            {
                var want = subjects[int.Parse(index, System.Globalization.CultureInfo.InvariantCulture)];
                var colon = want.IndexOf(':', StringComparison.Ordinal);
                var slash = want.IndexOf('/', StringComparison.Ordinal);
                var expected = want[..colon] == RbacSubject.ServiceAccount
                    ? new RbacSubject(RbacSubject.ServiceAccount, want[(slash + 1)..], want[(colon + 1)..slash])
                    : new RbacSubject(want[..colon], want[(colon + 1)..]);
                ok = grant!.Subject == expected;
            }

            Check($"appliesTo: {S(c, "case")} -> {applies}", ok);
        }

        foreach (var c in Seq(root, "ruleResolver"))
        {
            var model = RbacModel.Build(Objects(c), Options);
            foreach (var item in Seq(c, "cases"))
            {
                var user = new RbacUser(S(item, "user") ?? string.Empty, Strings(item, "groups"));
                var actual = model.RulesFor(user, S(item, "namespace") ?? string.Empty)
                    .Select(g => $"{string.Join(",", g.Rule.Verbs)}|{string.Join(",", g.Rule.ApiGroups)}|{string.Join(",", g.Rule.Resources)}")
                    .Order(StringComparer.Ordinal).ToList();
                var expected = Strings(item, "rules").Order(StringComparer.Ordinal).ToList();
                Check($"{S(c, "name")}: rules for {S(item, "user")} in '{S(item, "namespace")}': [{string.Join("; ", actual)}]", actual.SequenceEqual(expected));
            }
        }

        var summary = $"RBAC authorizer cases: {agree}/{total} agree";
        File.WriteAllText(RepoPaths.Artifact("rbac-conformance.txt"), summary + "\n" + report);
        output.WriteLine(summary);
        output.WriteLine(report.ToString());
        Assert.True(total >= 120, $"only {total} cases were read");
        Assert.True(agree == total, summary + "\n" + report);
    }

    private static RbacRequest Request(YamlMappingNode r) =>
        S(r, "path") is { } path
            ? RbacRequest.ForPath(S(r, "verb")!, path)
            : new RbacRequest(S(r, "verb")!, S(r, "group") ?? string.Empty, S(r, "resource") ?? string.Empty, S(r, "subresource") ?? string.Empty, string.Empty, S(r, "namespace") ?? string.Empty);

    private static string Describe(YamlMappingNode r) => string.Join(" ", r.Children.Select(kv => $"{kv.Key}={(kv.Value is YamlScalarNode s ? s.Value : "[" + string.Join(",", ((YamlSequenceNode)kv.Value).Children) + "]")}"));

    private static RbacRule Rule(YamlMappingNode r) =>
        new(Strings(r, "apiGroups"), Strings(r, "resources"), Strings(r, "verbs"), Strings(r, "resourceNames"), Strings(r, "nonResourceURLs"));

    /// <summary>The case's roles and bindings as Kubernetes objects (bindings numbered: upstream leaves them unnamed).</summary>
    private static List<Resource> Objects(YamlMappingNode c) => Objects(ToJson(c));

    private static List<Resource> Objects(JsonObject c)
    {
        var objects = new List<JsonObject>();
        foreach (var r in Items(c, "clusterRoles"))
        {
            objects.Add(new JsonObject { ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "ClusterRole", ["metadata"] = new JsonObject { ["name"] = r["name"]!.DeepClone() }, ["rules"] = r["rules"]?.DeepClone() });
        }

        foreach (var r in Items(c, "roles"))
        {
            objects.Add(new JsonObject { ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "Role", ["metadata"] = new JsonObject { ["name"] = r["name"]!.DeepClone(), ["namespace"] = r["namespace"]!.DeepClone() }, ["rules"] = r["rules"]?.DeepClone() });
        }

        var n = 0;
        foreach (var (list, kind) in new[] { ("clusterRoleBindings", "ClusterRoleBinding"), ("roleBindings", "RoleBinding") })
        {
            foreach (var b in Items(c, list))
            {
                var metadata = new JsonObject { ["name"] = $"binding-{n++}" };
                if (b["namespace"] is { } ns)
                {
                    metadata["namespace"] = ns.DeepClone();
                }

                var subjects = new JsonArray();
                foreach (var s in b["subjects"]!.AsArray().Select(x => x!.GetValue<string>()))
                {
                    var colon = s.IndexOf(':', StringComparison.Ordinal);
                    var sKind = s[..colon];
                    var name = s[(colon + 1)..];
                    var subject = new JsonObject { ["kind"] = sKind };
                    if (sKind == RbacSubject.ServiceAccount && name.IndexOf('/', StringComparison.Ordinal) is var slash and > 0)
                    {
                        subject["namespace"] = name[..slash];
                        name = name[(slash + 1)..];
                    }
                    else if (sKind != RbacSubject.ServiceAccount)
                    {
                        subject["apiGroup"] = "rbac.authorization.k8s.io";
                    }

                    subject["name"] = name;
                    subjects.Add(subject);
                }

                objects.Add(new JsonObject
                {
                    ["apiVersion"] = "rbac.authorization.k8s.io/v1",
                    ["kind"] = kind,
                    ["metadata"] = metadata,
                    ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = b["roleKind"]?.DeepClone() ?? "ClusterRole", ["name"] = b["role"]!.DeepClone() },
                    ["subjects"] = subjects,
                });
            }
        }

        return [.. objects.Select(o => Resource.FromJson(JsonDocument.Parse(o.ToJsonString()).RootElement, new SourceLocation("rbac-authorizer-cases.yaml", 1)))];
    }

    private static IEnumerable<JsonObject> Items(JsonObject c, string key) => c[key] is JsonArray a ? a.Select(x => x!.AsObject()) : [];

    private static JsonObject ToJson(YamlMappingNode m) => (JsonObject)ToNode(m)!;

    private static JsonNode? ToNode(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToNode(kv.Value)))),
        YamlSequenceNode s => new JsonArray([.. s.Children.Select(ToNode)]),
        YamlScalarNode v => JsonValue.Create(v.Value ?? string.Empty),
        _ => null,
    };

    private static IEnumerable<YamlMappingNode> Seq(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(key, out var v) && v is YamlSequenceNode s ? s.Children.Cast<YamlMappingNode>() : [];

    private static List<string> Strings(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(key, out var v) && v is YamlSequenceNode s ? [.. s.Children.Select(c => ((YamlScalarNode)c).Value ?? string.Empty)] : [];

    private static string? S(YamlMappingNode m, string key) => m.Children.TryGetValue(key, out var v) && v is YamlScalarNode s ? s.Value : null;
}
