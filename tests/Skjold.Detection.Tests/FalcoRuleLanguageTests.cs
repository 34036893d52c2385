using System.Text.Json;
using Skjold.Detection.Falco;

namespace Skjold.Detection.Tests;

/// <summary>Falco's rule language for k8s_audit: operators, macros, lists, exceptions, append and override, and load errors.</summary>
public sealed class FalcoRuleLanguageTests
{
    private static JsonElement Event(string user = "alice", string verb = "create", string resource = "pods", string ns = "shop", string? extra = null) =>
        JsonDocument.Parse($$$"""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","auditID":"a1","verb":"{{{verb}}}",
             "requestURI":"/api/v1/namespaces/{{{ns}}}/{{{resource}}}?dryRun=All&fieldManager=kubectl",
             "user":{"username":"{{{user}}}","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.7"],
             "objectRef":{"resource":"{{{resource}}}","namespace":"{{{ns}}}","name":"web"},"responseStatus":{"code":201},
             "annotations":{"authorization.k8s.io/decision":"allow"},
             "requestObject":{"metadata":{"name":"web"},"spec":{"hostNetwork":true,"volumes":[{"name":"h","hostPath":{"path":"/var/run/docker.sock"}}],
               "containers":[{"name":"a","image":"registry.example.com:5000/team/app:1.2"},{"name":"b","image":"nginx@sha256:abc","securityContext":{"privileged":true}}]}},
             "stageTimestamp":"2026-12-01T10:00:00.000000Z"{{{extra ?? string.Empty}}}}
            """).RootElement.Clone();

    private static FalcoRuleSet Rules(string yaml)
    {
        var set = new FalcoRuleSet();
        set.Load(yaml, "test.yaml");
        return set;
    }

    private static string Rule(string condition, string name = "r") => $"""
        - rule: {name}
          desc: d
          condition: {condition}
          output: "%ka.user.name did %ka.verb on %ka.target.resource/%ka.target.name (%ka.req.pod.containers.image) %ka.impuser.name"
          priority: WARNING
          source: k8s_audit
        """;

    [Theory]
    [InlineData("ka.user.name = alice", true)]
    [InlineData("ka.user.name != alice", false)]
    [InlineData("ka.impuser.name != bob", false)] // no value: every comparison is false, != too
    [InlineData("ka.impuser.name exists", false)]
    [InlineData("ka.user.name in (bob, alice)", true)]
    [InlineData("ka.user.groups intersects (ops, dev)", true)]
    [InlineData("ka.user.groups in (dev)", false)] // a list field is in a set only when every value is
    [InlineData("ka.user.groups in (dev, system:authenticated)", true)]
    [InlineData("ka.req.pod.containers.image.repository in (registry.example.com:5000/team/app, nginx)", true)]
    [InlineData("ka.req.pod.containers.privileged intersects (true)", true)]
    [InlineData("ka.req.pod.containers.privileged[0] = true", false)]
    [InlineData("ka.req.pod.containers.image[1] startswith nginx@", true)]
    [InlineData("ka.req.pod.host_network intersects (true)", true)]
    [InlineData("ka.req.pod.volumes.hostpath pmatch (/var/run)", true)]
    [InlineData("ka.req.pod.volumes.hostpath pmatch (/var/ru)", false)]
    [InlineData("ka.uri contains dryRun", true)]
    [InlineData("ka.uri icontains DRYRUN", true)]
    [InlineData("ka.uri endswith kubectl", true)]
    [InlineData("ka.uri glob /api/v1/namespaces/*/pods*", true)]
    [InlineData("ka.uri.param[dryRun] = All", true)]
    [InlineData("ka.response.code startswith 2", true)]
    [InlineData("ka.response.code >= 200 and ka.response.code < 300", true)]
    [InlineData("ka.auth.decision = \"allow\"", true)]
    [InlineData("jevt.value[/objectRef/name] = web", true)]
    [InlineData("jevt.value[/requestObject/spec/containers/1/name] = b", true)]
    [InlineData("jevt.value[/requestObject/spec/tls] exists", false)]
    [InlineData("jevt.rawtime exists", true)]
    [InlineData("not (ka.verb = delete or ka.verb = get) and ka.target.namespace = shop", true)]
    public void Operators_FollowFalcosSemantics(string condition, bool fires) =>
        Assert.Equal(fires, Rules(Rule(condition)).Evaluate(Event()).Count == 1);

    [Fact]
    public void MacrosAndLists_Expand_NestedListsToo_AndOutputIsRendered()
    {
        var set = Rules("""
            - list: team_users
              items: [alice, carol]
            - list: all_users
              items: [team_users, dave]
            - macro: is_pod
              condition: ka.target.resource=pods
            - macro: by_user
              condition: ka.user.name in (all_users)
            """ + "\n" + Rule("is_pod and by_user"));
        var alert = Assert.Single(set.Evaluate(Event()));
        Assert.Equal(FalcoPriority.Warning, alert.Priority);
        Assert.Equal("alice did create on pods/web ((registry.example.com:5000/team/app:1.2,nginx@sha256:abc)) <NA>", alert.Output);
        Assert.Empty(set.Evaluate(Event(user: "mallory")));
    }

    [Fact]
    public void AppendAndOverride_ChangeEarlierItems()
    {
        var set = Rules("""
            - list: allowed
              items: [alice]
            - macro: watched
              condition: ka.verb = create
            """ + "\n" + Rule("watched and not ka.user.name in (allowed)") + "\n" + """
            - list: allowed
              items: [bob]
              append: true
            - macro: watched
              condition: or ka.verb = delete
              override:
                condition: append
            - rule: r
              priority: ERROR
              override:
                priority: replace
            """);
        Assert.Empty(set.Evaluate(Event(user: "bob"))); // bob appended to the list
        var a = Assert.Single(set.Evaluate(Event(user: "eve", verb: "delete"))); // delete appended to the macro
        Assert.Equal(FalcoPriority.Error, a.Priority);

        var disabled = Rules(Rule("ka.verb = create") + "\n- rule: r\n  enabled: false\n");
        Assert.Empty(disabled.Evaluate(Event()));
    }

    [Fact]
    public void Exceptions_SuppressMatchingTuples_AndAppendedValuesAddToThem()
    {
        var set = Rules(Rule("ka.verb = create") + """

              exceptions:
                - name: known_user_ns
                  fields: [ka.user.name, ka.target.namespace]
                  values:
                    - [alice, shop]
                - name: known_images
                  fields: ka.req.pod.containers.image.repository
                  comps: intersects
                  values: [busybox]
            - rule: r
              exceptions:
                - name: known_user_ns
                  values:
                    - [bob, lab]
              append: true
            """);
        Assert.Empty(set.Evaluate(Event(user: "alice", ns: "shop")));
        Assert.Empty(set.Evaluate(Event(user: "bob", ns: "lab")));
        Assert.Single(set.Evaluate(Event(user: "bob", ns: "shop")));
    }

    [Theory]
    [InlineData("proc.name = bash", "'proc.name' is not a field of the k8s_audit source")]
    [InlineData("ka.user.name regex ^a", "operator 'regex' is not supported")]
    [InlineData("undefined_macro and ka.verb = get", "neither a field of the k8s_audit source nor a defined macro")]
    [InlineData("ka.user.name = alice and", "")]
    [InlineData("(ka.user.name = alice", "missing ')'")]
    [InlineData("ka.uri.param = x", "needs an argument")]
    [InlineData("ka.user.name < alice", "compares numbers")]
    public void UnsupportedOrBrokenConditions_AreLoadErrors_NamingFileLineAndRule(string condition, string expected)
    {
        var ex = Assert.Throws<RuleLoadException>(() => Rules("# header\n" + Rule(condition)));
        Assert.StartsWith("test.yaml:2: rule 'r': ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherSources_AreLoadedButNotCompiled_AndBadItemsAreErrors()
    {
        var set = Rules("- rule: shell\n  desc: d\n  condition: proc.name = bash\n  output: x\n  priority: WARNING\n" + Rule("ka.verb = create"));
        Assert.Equal(2, set.Rules.Count);
        Assert.Single(set.Evaluate(Event()));
        Assert.Contains("priority 'URGENT'", Assert.Throws<RuleLoadException>(() => Rules(Rule("ka.verb = get").Replace("WARNING", "URGENT", StringComparison.Ordinal))).Message, StringComparison.Ordinal);
        Assert.Contains("was not defined before", Assert.Throws<RuleLoadException>(() => Rules("- list: l\n  items: [a]\n  append: true\n")).Message, StringComparison.Ordinal);
        Assert.Contains("refers to itself", Assert.Throws<RuleLoadException>(() => Rules("- macro: m\n  condition: m\n" + Rule("m"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadingMoreRules_AfterEvaluating_UsesTheNewFields()
    {
        var set = Rules(Rule("ka.verb = create"));
        Assert.Single(set.Evaluate(Event()));
        set.Load("- rule: r\n  condition: and ka.user.groups intersects (ops)\n  append: true\n", "more.yaml");
        Assert.Empty(set.Evaluate(Event())); // the cached field values of the first compilation are not reused
        Assert.Single(Rules(Rule("ka.user.groups intersects (dev) and ka.verb = create")).Evaluate(Event()));
    }

    [Fact]
    public void ARuleThatFailsOnAnEvent_IsDisabledWithAnErrorAlert_OtherRulesGoOn()
    {
        var set = Rules(Rule("ka.uri glob \"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\"", "slow") + "\n" + Rule("ka.verb = create", "plain"));
        var hostile = Event(extra: ",\"requestURI\":\"/" + new string('a', 5_000) + "\"");
        var first = set.Evaluate(hostile);
        var failed = Assert.Single(first, a => a.Rule == FalcoRuleSet.RuleFailed);
        Assert.Equal(FalcoPriority.Error, failed.Priority);
        Assert.Contains("rule 'slow' failed", failed.Output, StringComparison.Ordinal);
        Assert.Contains(first, a => a.Rule == "plain");
        Assert.False(set.Rules.Single(r => r.Name == "slow").Enabled);
        Assert.Equal(["plain"], set.Evaluate(Event()).Select(a => a.Rule));
    }

    [Fact]
    public void ImageRepository_DropsTagAndDigest_KeepsRegistryPort() =>
        Assert.Equal("registry.example.com:5000/team/app", K8sAuditFields.Repository("registry.example.com:5000/team/app:1.2@sha256:0"));
}
