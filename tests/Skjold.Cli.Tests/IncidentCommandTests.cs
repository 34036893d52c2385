namespace Skjold.Cli.Tests;

/// <summary>skjold incident: incidents kept in the audit trail, their clocks, plans and the notification draft.</summary>
public sealed class IncidentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-incident-").FullName;
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    public IncidentCommandTests()
    {
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "init", "--data-dir", "trail").ExitCode);
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "incidents:\n  organisation: Nordbank ASA\n  contact: personvern@nordbank.example\n  nis2: essential\n");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public void Incident_OpenNoteCloseShow_SealedInTheTrail_WithClocks()
    {
        var open = CliRunner.RunAt(Now, _dir, null, "incident", "open", "pod-compromise", "payments/ledger-1", "--severity", "critical", "--personal-data", "yes", "--data-dir", "trail");
        Assert.True(open.ExitCode == 0, open.Error);
        var id = open.Out.Trim();
        Assert.Matches("^INC-20261202-[0-9a-f]{6}$", id);

        Assert.Equal(0, CliRunner.RunAt(Now.AddHours(1), _dir, null, "incident", "note", id, "isolated the pod; logs captured", "--status", "contained", "--data-dir", "trail").ExitCode);
        var list = CliRunner.RunAt(Now.AddHours(30), _dir, null, "incident", "list", "--data-dir", "trail");
        Assert.Contains(id, list.Out, StringComparison.Ordinal);
        Assert.Contains("contained", list.Out, StringComparison.Ordinal);
        Assert.Contains("overdue by 6 h", list.Out, StringComparison.Ordinal); // NIS2's 24-hour early warning
        Assert.Contains("1 with an overdue deadline", list.Out, StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.RunAt(Now.AddHours(40), _dir, null, "incident", "close", id, "--resolution", "image rebuilt from a signed base", "--data-dir", "trail").ExitCode);
        var show = CliRunner.RunAt(Now.AddHours(41), _dir, null, "incident", "show", id, "--data-dir", "trail");
        Assert.Contains("status closed", show.Out, StringComparison.Ordinal);
        Assert.Contains("resolution: image rebuilt from a signed base", show.Out, StringComparison.Ordinal);
        Assert.Contains("isolated the pod; logs captured", show.Out, StringComparison.Ordinal);
        Assert.Contains("GDPR Art. 33", show.Out, StringComparison.Ordinal);

        // A closed incident takes no more notes, and the trail still verifies with the incident's events in it.
        Assert.Equal(2, CliRunner.Run(_dir, null, "incident", "note", id, "late", "--data-dir", "trail").ExitCode);
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "verify", "--data-dir", "trail").ExitCode);
        var sealedEvents = CliRunner.Run(_dir, null, "audit", "query", "--verb", "incident-open", "--verb", "incident-close", "--data-dir", "trail", "-f", "json");
        Assert.Contains("incident-open", sealedEvents.Out, StringComparison.Ordinal);
        Assert.Contains("incident-close", sealedEvents.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Incident_PlanFromSnapshot_NamesContainersAndNeededRbac()
    {
        File.WriteAllText(Path.Combine(_dir, "snapshot.yaml"), """
            apiVersion: v1
            kind: Pod
            metadata: {name: ledger-1, namespace: payments}
            spec:
              serviceAccountName: ledger
              nodeName: worker-3
              containers:
              - {name: app, image: registry.example.com/payments/ledger:2.0}
              volumes:
              - {name: db, secret: {secretName: ledger-db}}
            """);
        var id = CliRunner.RunAt(Now, _dir, null, "incident", "open", "pod-compromise", "payments/ledger-1", "--data-dir", "trail").Out.Trim();
        var plan = CliRunner.Run(_dir, null, "incident", "plan", id, "--snapshot", "snapshot.yaml", "--data-dir", "trail");
        Assert.True(plan.ExitCode == 0, plan.Error);
        Assert.Contains("GET /api/v1/namespaces/payments/pods/ledger-1/log?container=app&previous=true&timestamps=true", plan.Out, StringComparison.Ordinal);
        Assert.Contains("skjold audit query --user system:serviceaccount:payments:ledger --since 24h", plan.Out, StringComparison.Ordinal);
        Assert.Contains("ledger-db", plan.Out, StringComparison.Ordinal);
        Assert.Contains("[disruptive]", plan.Out, StringComparison.Ordinal);
        Assert.Contains("The responder's role needs: create networkpolicies, create pods/exec", plan.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Incident_NotifyDraft_FromConfigAndIncident()
    {
        var id = CliRunner.RunAt(Now, _dir, null, "incident", "open", "secret-exposed", "shop/db", "--personal-data", "yes", "--data-dir", "trail").Out.Trim();
        var draft = CliRunner.RunAt(Now.AddHours(2), _dir, null, "incident", "notify-draft", id, "--authority", "datatilsynet", "--lang", "nb", "--data-dir", "trail");
        Assert.True(draft.ExitCode == 0, draft.Error);
        Assert.Contains("Melding om brudd på personopplysningssikkerheten (Datatilsynet)", draft.Out, StringComparison.Ordinal);
        Assert.Contains("Nordbank ASA", draft.Out, StringComparison.Ordinal);
        Assert.Contains("2026-12-05 09:00 UTC", draft.Out, StringComparison.Ordinal); // awareness + 72 h
        Assert.Contains("[TO COMPLETE]", draft.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unauthorized-access", "--user", "mallory", "--sa", "ci/deployer")]
    [InlineData("unauthorized-access", "--source-ip", "not-an-ip")]
    [InlineData("pod-compromise", "ledger-without-namespace")]
    [InlineData("node-compromise", "ns/node")]
    public void Incident_OpenWithABadTarget_Exit2(params string[] args)
    {
        var run = CliRunner.Run(_dir, null, ["incident", "open", .. args, "--data-dir", "trail"]);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error:", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Incident_PersonalDataNoWithoutReasoning_Refused()
    {
        var id = CliRunner.RunAt(Now, _dir, null, "incident", "open", "node-compromise", "worker-3", "--data-dir", "trail").Out.Trim();
        var run = CliRunner.Run(_dir, null, "incident", "note", id, "--personal-data", "no", "--data-dir", "trail");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Art. 33(5)", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(_dir, null, "incident", "note", id, "--personal-data", "no", "--reason", "a build node without personal data", "--data-dir", "trail").ExitCode);
    }

    [Fact]
    public void Detection_OpensAnIncidentForConfiguredRules_OncePerTarget()
    {
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), """
            incidents:
              nis2: important
              autoOpen:
                - {rule: Exec into a pod, type: pod-compromise}
            """);
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), """
            - rule: Exec into a pod
              desc: someone opened a shell in a pod
              condition: ka.target.resource = pods and ka.target.subresource = exec
              output: "%ka.user.name exec into %ka.target.namespace/%ka.target.name"
              priority: CRITICAL
              source: k8s_audit
            """);
        string Exec(string id, string pod) =>
            $$"""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{{id}}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/pods/{{pod}}/exec","verb":"create","user":{"username":"mallory"},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"pods","subresource":"exec","namespace":"payments","name":"{{pod}}"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-12-02T09:00:00Z","stageTimestamp":"2026-12-02T09:00:00Z"}""";
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), [Exec("a1", "ledger-1"), Exec("a2", "ledger-1"), Exec("a3", "web-2")]);
        var ingest = CliRunner.Run(_dir, null, "audit", "ingest", "audit.log", "--data-dir", "trail", "--detect-rules", "rules.yaml", "-c", "skjold.yaml");
        Assert.True(ingest.ExitCode == 0, ingest.Out + ingest.Error);

        var list = CliRunner.Run(_dir, null, "incident", "list", "--data-dir", "trail", "-c", "skjold.yaml");
        Assert.Contains("2 incidents", list.Out, StringComparison.Ordinal); // one per pod, not one per alert
        Assert.Contains("pod payments/ledger-1", list.Out, StringComparison.Ordinal);
        Assert.Contains("pod payments/web-2", list.Out, StringComparison.Ordinal);
        var id = list.Out.Split('\n').First(l => l.Contains("ledger-1", StringComparison.Ordinal)).Split(' ')[0];
        var show = CliRunner.Run(_dir, null, "incident", "show", id, "--data-dir", "trail", "-c", "skjold.yaml");
        Assert.Contains("severity critical, owner unassigned", show.Out, StringComparison.Ordinal);
        Assert.Contains("skjold:detection", show.Out, StringComparison.Ordinal);
        Assert.Contains("NIS2 Art. 23(4)(a)", show.Out, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "verify", "--data-dir", "trail").ExitCode);
    }

    [Fact]
    public async Task ClockWatcher_RemindsOncePerDeadline_AndPublishesTimeLeft()
    {
        var id = CliRunner.RunAt(Now, _dir, null, "incident", "open", "secret-exposed", "shop/db", "--personal-data", "yes", "--data-dir", "trail").Out.Trim();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now.AddHours(61));
        var sent = new List<Skjold.Alerts.Alert>();
        await using var store = new Skjold.Audit.Storage.SqliteAuditStore(Path.Combine(_dir, "trail"));
        var watcher = new Skjold.Server.Incidents.IncidentClockWatcher(store, Skjold.Incidents.Nis2Entity.Essential, (a, _) => { sent.AddRange(a); return Task.CompletedTask; }, clock);

        await watcher.TickAsync(default);
        Assert.Equal(1, watcher.OpenIncidents);
        Assert.Contains(sent, a => a.Output.Contains("GDPR Art. 33", StringComparison.Ordinal) && a.Output.Contains("11 h 0 min left", StringComparison.Ordinal) && a.Priority == Skjold.Detection.Falco.FalcoPriority.Warning);
        Assert.Contains(sent, a => a.Output.Contains("NIS2 Art. 23(4)(a)", StringComparison.Ordinal) && a.Output.Contains("overdue", StringComparison.Ordinal) && a.Priority == Skjold.Detection.Falco.FalcoPriority.Error);
        Assert.Equal(1, watcher.Overdue); // the 24-hour early warning
        var count = sent.Count;
        await watcher.TickAsync(default);
        Assert.Equal(count, sent.Count); // each reminder once

        var metrics = new Skjold.Server.Observability.ServerMetrics();
        metrics.AttachIncidents(watcher);
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        var exported = System.Text.Encoding.UTF8.GetString(text.ToArray());
        Assert.Contains($"skjold_incident_deadline_seconds{{incident=\"{id}\",regime=\"GDPR Art. 33\"}} 39600", exported, StringComparison.Ordinal);
        Assert.Contains("skjold_incidents_open 1", exported, StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run(_dir, null, "incident", "close", id, "--resolution", "rotated", "--data-dir", "trail").ExitCode);
        await watcher.TickAsync(default);
        Assert.Equal(0, watcher.OpenIncidents);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [Fact]
    public void Incident_InPostgresTrail_OpenNoteShow()
    {
        var db = Skjold.TestSupport.PostgresServer.Shared.CreateDatabase();
        var keys = Path.Combine(_dir, "pg-keys");
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "init", "--postgres", db, "--key-dir", keys).ExitCode);
        var open = CliRunner.RunAt(Now, _dir, null, "incident", "open", "node-compromise", "worker-9", "--postgres", db, "--key-dir", keys);
        Assert.True(open.ExitCode == 0, open.Error);
        var id = open.Out.Trim();
        Assert.Equal(0, CliRunner.Run(_dir, null, "incident", "note", id, "cordoned by hand", "--postgres", db, "--key-dir", keys).ExitCode);
        var show = CliRunner.Run(_dir, null, "incident", "show", id, "--postgres", db, "--key-dir", keys);
        Assert.Contains("cordoned by hand", show.Out, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "verify", "--postgres", db, "--key-dir", keys).ExitCode);
    }

    [Fact]
    public void ManualStep_TickedDone_AndDrillOnASnapshot()
    {
        var id = CliRunner.RunAt(Now, _dir, null, "incident", "open", "node-compromise", "worker-3", "--data-dir", "trail").Out.Trim();
        var tick = CliRunner.Run(_dir, null, "incident", "apply", id, "--step", "5", "--done", "--data-dir", "trail");
        Assert.True(tick.ExitCode == 0, tick.Error);
        Assert.Contains("Terminate the instance at the provider: done", tick.Out, StringComparison.Ordinal);
        Assert.Contains("step 5 (Terminate the instance at the provider): applied: done by hand", CliRunner.Run(_dir, null, "incident", "show", id, "--data-dir", "trail").Out, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run(_dir, null, "incident", "apply", id, "--done", "--data-dir", "trail").ExitCode);
        Assert.Equal(2, CliRunner.Run(_dir, null, "incident", "apply", id, "--step", "9", "--done", "--data-dir", "trail").ExitCode);

        File.WriteAllText(Path.Combine(_dir, "snap.yaml"), """
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, namespace: shop}
            spec: {nodeName: worker-3, containers: [{name: web, image: nginx:1.27}]}
            """);
        var drill = CliRunner.Run(_dir, null, "incident", "drill", "node-compromise", "worker-3", "--snapshot", "snap.yaml", "--data-dir", "trail");
        Assert.True(drill.ExitCode == 0, drill.Error);
        Assert.Contains("POST /api/v1/namespaces/shop/pods/web-1/eviction", drill.Out, StringComparison.Ordinal);
        var list = CliRunner.Run(_dir, null, "incident", "list", "--all", "--data-dir", "trail");
        Assert.Contains("2 incidents", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_SecretExposed_NamesWhoCanReadItAndWhoMountsIt()
    {
        File.WriteAllText(Path.Combine(_dir, "snap.yaml"), """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: secret-reader, namespace: shop}
            rules: [{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [db]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: bob-reads-db, namespace: shop}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
            subjects: [{kind: User, name: bob}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: carol-reads-other, namespace: other}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
            subjects: [{kind: User, name: carol}]
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api, namespace: shop}
            spec:
              selector: {matchLabels: {app: api}}
              template:
                metadata: {labels: {app: api}}
                spec:
                  containers:
                  - name: api
                    image: api:1
                    env: [{name: DB, valueFrom: {secretKeyRef: {name: db, key: password}}}]
            """);
        var id = CliRunner.RunAt(Now, _dir, null, "incident", "open", "secret-exposed", "shop/db", "--data-dir", "trail").Out.Trim();
        var plan = CliRunner.Run(_dir, null, "incident", "plan", id, "--snapshot", "snap.yaml", "--data-dir", "trail");
        Assert.True(plan.ExitCode == 0, plan.Error);
        Assert.Contains("can read: User bob (get, RoleBinding shop/bob-reads-db -> Role secret-reader)", plan.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("User carol", plan.Out, StringComparison.Ordinal); // her admin role is in another namespace
        Assert.Contains("mounted by Deployment/shop/api", plan.Out, StringComparison.Ordinal);
    }
}
