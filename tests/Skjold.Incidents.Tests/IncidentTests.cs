
namespace Skjold.Incidents.Tests;

/// <summary>The pure core: the fold of sealed events, the reporting clocks, the runbook plans and the notification draft.</summary>
public sealed class IncidentTests
{
    private static readonly DateTimeOffset Aware = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static Incident Opened(IncidentType type, IncidentTarget target, bool? personal = null, string? reasoning = null, params IncidentEvents.Sealed[] more)
    {
        var open = new IncidentEvents.Sealed(10, Aware.AddMinutes(5), IncidentEvents.Open,
            IncidentEvents.Opened("INC-1", type, [target], "critical", Aware, "alice", "alice", new PersonalDataAssessment(personal, reasoning)));
        return IncidentEvents.Fold([open, .. more])!;
    }

    private static IncidentEvents.Sealed Change(long leaf, string verb, params (string Key, string Value)[] fields) =>
        new(leaf, Aware.AddHours(leaf), verb, IncidentEvents.Changed("INC-1", "bob", fields.ToDictionary(f => f.Key, f => f.Value)));

    [Fact]
    public void Fold_OpenNoteUpdateClose_StateAndTimelineInLogOrder()
    {
        var i = Opened(IncidentType.PodCompromise, new IncidentTarget("pod", "payments", "ledger-1"), null, null,
            Change(11, IncidentEvents.Note, ("note", "isolated")),
            Change(12, IncidentEvents.Update, ("status", "contained"), ("owner", "bob")),
            Change(13, IncidentEvents.Update, ("personal-data", "no"), ("personal-data-reasoning", "the ledger holds no personal data")),
            Change(14, IncidentEvents.Close, ("resolution", "image rebuilt")));
        Assert.Equal(IncidentStatus.Closed, i.Status);
        Assert.Equal("bob", i.Owner);
        Assert.False(i.PersonalData.Involved);
        Assert.Equal("image rebuilt", i.Resolution);
        Assert.Equal([10L, 11, 12, 13, 14], i.Timeline.Select(e => e.Leaf));
        Assert.Equal("isolated", Assert.Single(i.Notes).Text);
        Assert.Equal(new IncidentTarget("pod", "payments", "ledger-1"), Assert.Single(i.Targets));
    }

    [Fact]
    public void Fold_EventsWithoutAnOpen_NoIncident()
    {
        Assert.Null(IncidentEvents.Fold([Change(3, IncidentEvents.Note, ("note", "orphan"))]));
    }

    [Fact]
    public void Clocks_GdprApplies_UnlessNoPersonalDataIsDocumented()
    {
        var unknown = ReportingClocks.For(Opened(IncidentType.SecretExposed, new IncidentTarget("secret", "shop", "db")), Nis2Entity.None);
        Assert.True(unknown[0].Applies);
        Assert.Equal(Aware.AddHours(72), unknown[0].Due);
        Assert.Contains("not yet assessed", unknown[0].Why, StringComparison.Ordinal);
        var none = ReportingClocks.For(Opened(IncidentType.SecretExposed, new IncidentTarget("secret", "shop", "db"), false, "test data only"), Nis2Entity.None);
        Assert.False(none[0].Applies);
        Assert.Contains("test data only", none[0].Why, StringComparison.Ordinal);
        Assert.Equal("not applicable", ReportingClocks.Describe(none[0], Aware.AddDays(10)));
    }

    [Fact]
    public void Clocks_Nis2EssentialEntity_EarlyWarningNotificationFinalReport()
    {
        var d = ReportingClocks.For(Opened(IncidentType.NodeCompromise, new IncidentTarget("node", null, "worker-3")), Nis2Entity.Essential);
        Assert.All(d.Skip(1), x => Assert.True(x.Applies));
        Assert.Equal(Aware.AddHours(24), d[1].Due);
        Assert.Equal(Aware.AddHours(72), d[2].Due);
        Assert.Equal(Aware.AddHours(72).AddMonths(1), d[3].Due);
        Assert.False(d[1].Overdue(Aware.AddHours(23)));
        Assert.True(d[1].Overdue(Aware.AddHours(25)));
        Assert.Equal("overdue by 1 h 0 min", ReportingClocks.Describe(d[1], Aware.AddHours(25)));
        Assert.Equal("12 h 30 min left", ReportingClocks.Describe(d[1], Aware.AddHours(11.5)));
        Assert.All(ReportingClocks.For(Opened(IncidentType.NodeCompromise, new IncidentTarget("node", null, "w")), Nis2Entity.None).Skip(1), x => Assert.False(x.Applies));
    }

    [Fact]
    public void Plan_PodCompromise_IsolatesCapturesDeletesWithExactRequests()
    {
        var i = Opened(IncidentType.PodCompromise, new IncidentTarget("pod", "payments", "ledger-1"));
        var steps = RunbookPlans.For(i, new PlanContext { Containers = ["app", "proxy"], ServiceAccount = "ledger", Node = "worker-3", Images = ["registry.example.com/payments/ledger@sha256:ab"] });
        Assert.Equal(Enumerable.Range(1, steps.Count), steps.Select(s => s.Number));
        var isolate = steps[0];
        Assert.True(isolate.Disruptive);
        Assert.Contains(isolate.Requests, r => r.Method == "POST" && r.Path == "/apis/networking.k8s.io/v1/namespaces/payments/networkpolicies" && r.Body!.Contains("policyTypes [Ingress, Egress]", StringComparison.Ordinal));
        var evidence = steps.Single(s => s.Title == "Capture evidence");
        Assert.False(evidence.Disruptive);
        Assert.Contains(evidence.Requests, r => r.Path == "/api/v1/namespaces/payments/pods/ledger-1/log?container=proxy&previous=true&timestamps=true");
        Assert.Contains(evidence.Requests, r => r.Path == "/api/v1/nodes/worker-3");
        Assert.Contains(steps, s => s.Requests.Any(r => r.Method == "DELETE" && r.Path == "/api/v1/namespaces/payments/pods/ledger-1") && s.Disruptive);
        Assert.Contains(steps, s => (s.Commands ?? []).Contains("skjold audit query --user system:serviceaccount:payments:ledger --since 24h"));
        Assert.Contains("create pods/exec", RunbookPlans.Rbac(steps));
    }

    [Fact]
    public void Plan_NodeCompromise_EvictsEveryPodAndKeepsTheProviderStepManual()
    {
        var steps = RunbookPlans.For(Opened(IncidentType.NodeCompromise, new IncidentTarget("node", null, "worker-3")), new PlanContext { PodsOnNode = ["shop/web-1", "payments/ledger-1"] });
        var drain = steps.Single(s => s.Title == "Drain the node");
        Assert.Equal(["/api/v1/namespaces/shop/pods/web-1/eviction", "/api/v1/namespaces/payments/pods/ledger-1/eviction"], drain.Requests.Select(r => r.Path));
        Assert.Contains("create pods/eviction", drain.Rbac);
        var provider = steps[^1];
        Assert.True(provider.Manual);
        Assert.Empty(provider.Requests);
        Assert.Contains(steps, s => s.Requests.Any(r => r.Body?.Contains("spec.unschedulable=true", StringComparison.Ordinal) == true));
    }

    [Fact]
    public void Plan_UnauthorizedServiceAccount_RevokesEveryBindingAndTokens()
    {
        var steps = RunbookPlans.For(Opened(IncidentType.UnauthorizedAccess, new IncidentTarget("serviceaccount", "ci", "deployer")),
            new PlanContext { Bindings = ["ClusterRoleBinding/ci-admin", "RoleBinding/shop/deploy"] });
        var revoke = steps.Single(s => s.Title == "Revoke access");
        Assert.True(revoke.Disruptive);
        Assert.Contains(revoke.Requests, r => r.Path == "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ci-admin");
        Assert.Contains(revoke.Requests, r => r.Path == "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/deploy");
        Assert.Contains(revoke.Requests, r => r.Method == "DELETE" && r.Path.StartsWith("/api/v1/namespaces/ci/secrets/", StringComparison.Ordinal));
        Assert.Contains(steps, s => (s.Commands ?? []).Contains("skjold audit query --user system:serviceaccount:ci:deployer --since 7d"));
    }

    [Fact]
    public void Plan_SecretExposed_NeverCarriesAValue()
    {
        var steps = RunbookPlans.For(Opened(IncidentType.SecretExposed, new IncidentTarget("secret", "shop", "db")), new PlanContext { Mounters = ["Deployment/shop/api"] });
        Assert.Contains(steps, s => s.Requests.Any(r => r.Method == "PATCH" && r.Path == "/api/v1/namespaces/shop/secrets/db" && r.Body!.Contains("values not logged", StringComparison.Ordinal)));
        Assert.Contains(steps, s => s.Requests.Any(r => r.Path == "/apis/apps/v1/namespaces/shop/deployments/api"));
        Assert.Contains(steps, s => (s.Commands ?? []).Contains("skjold audit query --who-read-secret shop/db"));
    }

    [Theory]
    [InlineData("nb", "Melding om brudd", "Kategorier og omtrentlig antall registrerte")]
    [InlineData("en", "Personal data breach notification", "Categories and approximate number of data subjects")]
    public void Draft_HasEveryArt33_3Item_AndMarksWhatAPersonMustComplete(string lang, string title, string subjects)
    {
        var i = Opened(IncidentType.SecretExposed, new IncidentTarget("secret", "shop", "db"), true, null,
            Change(11, IncidentEvents.Note, ("note", "rotated the database password")));
        var text = NotificationDraft.Write(i, new Organisation("Nordbank ASA", "personvern@nordbank.example", Nis2Entity.Essential), "Datatilsynet", lang, Aware.AddHours(10));
        Assert.Contains(title, text, StringComparison.Ordinal);
        Assert.Contains(subjects, text, StringComparison.Ordinal);
        foreach (var article in new[] { "33(3)(a)", "33(3)(b)", "33(3)(c)", "33(3)(d)" }.Select(a => lang == "nb" ? "art. 33 nr. 3 bokstav " + a[^2] : "Art. " + a))
        {
            Assert.Contains(article, text, StringComparison.Ordinal);
        }

        Assert.Contains("Nordbank ASA", text, StringComparison.Ordinal);
        Assert.Contains("rotated the database password", text, StringComparison.Ordinal);
        Assert.Contains("leaf 11", text.Replace("løv 11", "leaf 11", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains(NotificationDraft.ToComplete, text, StringComparison.Ordinal);
        Assert.DoesNotContain("forsinkelsen", text, StringComparison.Ordinal); // on time: no delay section
        var late = NotificationDraft.Write(i, new Organisation("", "", Nis2Entity.None), "Datatilsynet", "nb", Aware.AddHours(80));
        Assert.Contains("Begrunnelse for forsinkelsen", late, StringComparison.Ordinal);
        Assert.Contains("Virksomhet: " + NotificationDraft.ToComplete, late, StringComparison.Ordinal);
    }
}

public sealed class ResponderRoleTests
{
    [Fact]
    public void Rules_CoverEveryVerbOfEveryRunbook_AndNothingElse()
    {
        var rules = ResponderRole.Rules();
        var granted = rules.SelectMany(r => r.Verbs.Select(v => $"{v} {r.Resource}")).ToHashSet(StringComparer.Ordinal);
        foreach (var type in Enum.GetValues<IncidentType>())
        {
            var target = type == IncidentType.NodeCompromise ? new IncidentTarget("node", null, "n") : new IncidentTarget(type == IncidentType.UnauthorizedAccess ? "user" : "pod", "ns", "x");
            var incident = new Incident("INC-1", type, [target], "high", DateTimeOffset.UnixEpoch, "", IncidentStatus.Open, new PersonalDataAssessment(null, null), null, []);
            Assert.All(RunbookPlans.Rbac(RunbookPlans.For(incident)), r => Assert.Contains(r, granted));
        }

        Assert.DoesNotContain("get secrets", granted); // responders replace secret values, they never need to read one
        Assert.Equal("networking.k8s.io", rules.Single(r => r.Resource == "networkpolicies").ApiGroup);
        var yaml = ResponderRole.Yaml("sre-oncall");
        Assert.Contains("name: sre-oncall", yaml, StringComparison.Ordinal);
        Assert.Contains("resources: [\"pods/eviction\"]", yaml, StringComparison.Ordinal);
    }
}
