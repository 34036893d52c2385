using System.Text;
using System.Text.Json.Nodes;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// The four runbooks applied end to end through skjold incident apply, against an in-process HTTP server that
/// speaks the Kubernetes API the runbooks use (FakeKubeApi: there is no kube-apiserver here): effects checked on
/// the fake's state, every step dry-run first, a failure in the middle and a resumed apply, a dry run that changes
/// nothing, protected namespaces refused.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class IncidentApplyTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-apply-").FullName;
    private FakeKubeApi _api = null!;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public async Task InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync(
        [
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"ledger-1","namespace":"payments","labels":{"app":"ledger"}},"spec":{"nodeName":"worker-3","serviceAccountName":"ledger","containers":[{"name":"app","image":"registry.example.com/payments/ledger:2.0"}],"volumes":[{"name":"db","secret":{"secretName":"ledger-db"}}]},"status":{"containerStatuses":[{"name":"app","imageID":"registry.example.com/payments/ledger@sha256:1111111111111111111111111111111111111111111111111111111111111111"}]}}""",
            """{"apiVersion":"v1","kind":"Node","metadata":{"name":"worker-3"},"spec":{"taints":[{"key":"dedicated","value":"payments","effect":"NoSchedule"}]}}""",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop"},"spec":{"nodeName":"worker-3","containers":[{"name":"web","image":"nginx:1.27"}]}}""",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"db-0","namespace":"shop","labels":{"pdb":"blocks"}},"spec":{"nodeName":"worker-3","containers":[{"name":"db","image":"postgres:16"}]}}""",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent-x","namespace":"monitoring","ownerReferences":[{"kind":"DaemonSet","name":"agent"}]},"spec":{"nodeName":"worker-3","containers":[{"name":"agent","image":"agent:1"}]}}""",
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"coredns-1","namespace":"kube-system"},"spec":{"nodeName":"worker-3","containers":[{"name":"coredns","image":"coredns:1.11"}]}}""",
            """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop"},"type":"Opaque","data":{"password":"b2xk"}}""",
            """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"shop"},"spec":{"template":{"spec":{"containers":[{"name":"api","image":"api:1","env":[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}]}]}}}}""",
            """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"other","namespace":"shop"},"spec":{"template":{"spec":{"containers":[{"name":"o","image":"o:1"}]}}}}""",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"ci-admin"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"deployer","namespace":"ci"}]}""",
            """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"deploy","namespace":"shop"},"roleRef":{"kind":"ClusterRole","name":"edit"},"subjects":[{"kind":"User","name":"alice"},{"kind":"ServiceAccount","name":"deployer","namespace":"ci"}]}""",
            """{"apiVersion":"v1","kind":"Secret","metadata":{"name":"deployer-token","namespace":"ci","annotations":{"kubernetes.io/service-account.name":"deployer"}},"type":"kubernetes.io/service-account-token","data":{"token":"c2VjcmV0"}}""",
        ]);
        _api.Logs["payments/ledger-1/app"] = "2026-12-02T09:00:00Z GET /transfer\n";
        await File.WriteAllTextAsync(Path.Combine(_dir, "kubeconfig"), _api.Kubeconfig);
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "init", "--data-dir", "trail").ExitCode);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private string Open(params string[] args)
    {
        var run = CliRunner.RunAt(Now, _dir, null, ["incident", "open", .. args, "--data-dir", "trail"]);
        Assert.True(run.ExitCode == 0, run.Error);
        return run.Out.Trim();
    }

    private CliRun Apply(string id, params string[] args) =>
        CliRunner.Run(_dir, null, ["incident", "apply", id, "--kubeconfig", "kubeconfig", "--data-dir", "trail", .. args]);

    [Fact]
    public void PodCompromise_IsolatesCapturesDeletes_EachStepDryRunFirst()
    {
        var id = Open("pod-compromise", "payments/ledger-1");
        var run = Apply(id, "--yes");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);

        Assert.Null(_api.Get("/api/v1/namespaces/payments/pods/ledger-1")); // deleted
        var policy = _api.Get($"/apis/networking.k8s.io/v1/namespaces/payments/networkpolicies/skjold-quarantine-{id.ToLowerInvariant()}")!;
        Assert.Equal(id, policy["spec"]!["podSelector"]!["matchLabels"]!["skjold.io/quarantine"]!.GetValue<string>());
        Assert.Equal(2, policy["spec"]!["policyTypes"]!.AsArray().Count);
        var requests = _api.Requests;
        var realDelete = requests.ToList().IndexOf("DELETE /api/v1/namespaces/payments/pods/ledger-1");
        var dryDelete = requests.ToList().IndexOf("DELETE /api/v1/namespaces/payments/pods/ledger-1 dryRun");
        Assert.True(dryDelete >= 0 && dryDelete < realDelete, string.Join("\n", requests));
        Assert.Contains("PATCH /api/v1/namespaces/payments/pods/ledger-1 dryRun", requests);

        var evidence = Path.Combine(_dir, "incident-evidence", id);
        Assert.Contains("GET /transfer", File.ReadAllText(Directory.GetFiles(evidence, "*log-app.txt").Single()), StringComparison.Ordinal);
        Assert.Contains("curl evil.example", File.ReadAllText(Directory.GetFiles(evidence, "*ps-app.txt").Single()), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(evidence, "*filesystem-app.tar"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Directory.GetFiles(evidence, "*pod.json").Single()));

        var show = CliRunner.Run(_dir, null, "incident", "show", id, "--data-dir", "trail");
        Assert.Contains("step 1 (Isolate the pod): applied", show.Out, StringComparison.Ordinal);
        Assert.Contains("mounted secrets ledger-db", show.Out, StringComparison.Ordinal);
        Assert.Contains("sha256:", show.Out, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(_dir, null, "audit", "verify", "--data-dir", "trail").ExitCode);
    }

    [Fact]
    public void PodCompromise_FailureInTheMiddle_ResumesAfterTheLastRecordedStep()
    {
        var id = Open("pod-compromise", "payments/ledger-1");
        _api.FailNext = "DELETE /api/v1/namespaces/payments/pods/ledger-1";
        var first = Apply(id, "--yes");
        Assert.Equal(1, first.ExitCode);
        Assert.Contains("Delete the pod: failed", first.Out, StringComparison.Ordinal);
        Assert.NotNull(_api.Get("/api/v1/namespaces/payments/pods/ledger-1"));
        var logsBefore = _api.Requests.Count(r => r.Contains("/log", StringComparison.Ordinal));

        var second = Apply(id, "--yes");
        Assert.True(second.ExitCode == 0, second.Out + second.Error);
        Assert.Contains("Isolate the pod: skipped: done earlier", second.Out, StringComparison.Ordinal);
        Assert.Contains("Delete the pod: applied", second.Out, StringComparison.Ordinal);
        Assert.Equal(logsBefore, _api.Requests.Count(r => r.Contains("/log", StringComparison.Ordinal))); // evidence not captured twice
        Assert.Null(_api.Get("/api/v1/namespaces/payments/pods/ledger-1"));
    }

    [Fact]
    public void DryRun_ChangesNothing_ButIsRecorded()
    {
        var id = Open("pod-compromise", "payments/ledger-1");
        var run = Apply(id, "--dry-run");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.NotNull(_api.Get("/api/v1/namespaces/payments/pods/ledger-1"));
        Assert.Null(_api.Get("/api/v1/namespaces/payments/pods/ledger-1")!["metadata"]!["labels"]!["skjold.io/quarantine"]);
        Assert.DoesNotContain(_api.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal) && !r.EndsWith("dryRun", StringComparison.Ordinal));
        Assert.DoesNotContain(_api.Requests, r => r.StartsWith("PATCH", StringComparison.Ordinal) && !r.EndsWith("dryRun", StringComparison.Ordinal));
        Assert.Contains("dry-run", CliRunner.Run(_dir, null, "incident", "show", id, "--data-dir", "trail").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void ProtectedNamespace_RefusedWithoutForce()
    {
        var id = Open("pod-compromise", "kube-system/coredns-1");
        var run = Apply(id, "--yes");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--force", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_api.Requests, r => r.Contains("coredns-1", StringComparison.Ordinal));
    }

    [Fact]
    public void NodeCompromise_CordonsDrainsHonouringPdbThenTaints()
    {
        var id = Open("node-compromise", "worker-3");
        var first = Apply(id, "--yes", "--drain-timeout", "0");
        Assert.Equal(1, first.ExitCode);
        Assert.True(_api.Get("/api/v1/nodes/worker-3")!["spec"]!["unschedulable"]!.GetValue<bool>());
        Assert.Null(_api.Get("/api/v1/namespaces/shop/pods/web-1"));
        Assert.NotNull(_api.Get("/api/v1/namespaces/shop/pods/db-0"));       // its PodDisruptionBudget refused
        Assert.NotNull(_api.Get("/api/v1/namespaces/monitoring/pods/agent-x")); // DaemonSet pods stay
        Assert.NotNull(_api.Get("/api/v1/namespaces/kube-system/pods/coredns-1")); // protected without --force
        Assert.Contains("PodDisruptionBudget kept 1", first.Out, StringComparison.Ordinal);

        var db = _api.Get("/api/v1/namespaces/shop/pods/db-0")!;
        db["metadata"]!["labels"] = new JsonObject();
        _api.Put(db); // the budget allows it now
        var second = Apply(id, "--yes", "--drain-timeout", "0");
        Assert.True(second.ExitCode == 0, second.Out + second.Error);
        Assert.Null(_api.Get("/api/v1/namespaces/shop/pods/db-0"));
        var taints = _api.Get("/api/v1/nodes/worker-3")!["spec"]!["taints"]!.AsArray();
        Assert.Contains(taints, t => t!["key"]!.GetValue<string>() == "skjold.io/compromised" && t["effect"]!.GetValue<string>() == "NoExecute");
        Assert.Contains(taints, t => t!["key"]!.GetValue<string>() == "dedicated"); // existing taints kept
        Assert.Contains("Terminate the instance at the provider: skipped: a manual step", second.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void SecretExposed_WaitsForTheNewValue_ThenReplacesAndRestarts()
    {
        var id = Open("secret-exposed", "shop/db");
        var waiting = Apply(id, "--yes");
        Assert.Equal(1, waiting.ExitCode);
        Assert.Contains("waiting", waiting.Out, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "new-password"), "n3w-s3cret-value");
        var run = Apply(id, "--yes", "--from-file", "password=new-password");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("n3w-s3cret-value")), _api.Get("/api/v1/namespaces/shop/secrets/db")!["data"]!["password"]!.GetValue<string>());
        Assert.NotNull(_api.Get("/apis/apps/v1/namespaces/shop/deployments/api")!["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);
        Assert.Null(_api.Get("/apis/apps/v1/namespaces/shop/deployments/other")!["spec"]!["template"]!["metadata"]);
        var trail = CliRunner.Run(_dir, null, "audit", "query", "--verb", "incident-action", "--data-dir", "trail", "-f", "json");
        Assert.DoesNotContain("n3w-s3cret-value", trail.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("n3w-s3cret-value")), trail.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void UnauthorizedServiceAccount_RemovedFromEveryBindingAndTokensDeleted()
    {
        var id = Open("unauthorized-access", "--sa", "ci/deployer");
        var run = Apply(id, "--yes");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Null(_api.Get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ci-admin")); // it was the only subject
        var rb = _api.Get("/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/deploy")!;
        var subject = Assert.Single(rb["subjects"]!.AsArray());
        Assert.Equal("alice", subject!["name"]!.GetValue<string>()); // the other subject keeps its access
        Assert.Null(_api.Get("/api/v1/namespaces/ci/secrets/deployer-token"));
    }

    [Fact]
    public void Timeline_Export_Verify_MergesRequestsAlertsActions_AndRejectsTampering()
    {
        // The trail already holds what the API server logged about the pod, and an alert a rule raised on it.
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), """
            - rule: Exec into a pod
              desc: someone opened a shell in a pod
              condition: ka.target.resource = pods and ka.target.subresource = exec
              output: "%ka.user.name exec into %ka.target.namespace/%ka.target.name"
              priority: WARNING
              source: k8s_audit
            """);
        var t = DateTimeOffset.UtcNow.AddMinutes(-30).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllLines(Path.Combine(_dir, "audit.log"),
        [
            $$"""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/pods/ledger-1/exec","verb":"create","user":{"username":"mallory"},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"pods","subresource":"exec","namespace":"payments","name":"ledger-1"},"responseStatus":{"code":101},"requestReceivedTimestamp":"{{t}}","stageTimestamp":"{{t}}"}""",
            $$"""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods/web-1","verb":"get","user":{"username":"bob"},"sourceIPs":["10.0.0.5"],"objectRef":{"resource":"pods","namespace":"shop","name":"web-1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"{{t}}","stageTimestamp":"{{t}}"}""",
        ]);
        var ingest = CliRunner.Run(_dir, null, "audit", "ingest", "audit.log", "--data-dir", "trail", "--detect-rules", "rules.yaml");
        Assert.True(ingest.ExitCode == 0, ingest.Out + ingest.Error);
        var id = Open("pod-compromise", "payments/ledger-1");
        Assert.Equal(0, Apply(id, "--yes", "--step", "2").ExitCode); // capture evidence only
        Assert.Equal(0, CliRunner.Run(_dir, null, "incident", "note", id, "shell opened from 203.0.113.9", "--data-dir", "trail").ExitCode);

        var timeline = CliRunner.Run(_dir, null, "incident", "timeline", id, "--data-dir", "trail");
        Assert.True(timeline.ExitCode == 0, timeline.Error);
        var lines = timeline.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains(" api ", StringComparison.Ordinal) && l.Contains("mallory create pods/exec payments/ledger-1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" alert ", StringComparison.Ordinal) && l.Contains("mallory exec into payments/ledger-1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" incident ", StringComparison.Ordinal) && l.Contains("step 2 (Capture evidence): applied", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("web-1", StringComparison.Ordinal)); // not about the target

        Assert.Equal(0, CliRunner.Run(_dir, null, "incident", "export", id, "--data-dir", "trail", "-o", "bundle.json").ExitCode);
        var key = Path.Combine("trail", "audit-signing-key.pub.pem");
        var ok = CliRunner.Run(_dir, null, "incident", "verify", "bundle.json", "--public-key", key, "--evidence-dir", "incident-evidence");
        Assert.True(ok.ExitCode == 0, ok.Out + ok.Error);
        Assert.StartsWith("OK " + id, ok.Out, StringComparison.Ordinal);

        // The summary says closed, but no sealed event closed it.
        var bundle = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "bundle.json")))!;
        bundle["incident"]!["status"] = "closed";
        File.WriteAllText(Path.Combine(_dir, "summary-forged.json"), bundle.ToJsonString());
        var forged = CliRunner.Run(_dir, null, "incident", "verify", "summary-forged.json", "--public-key", key);
        Assert.Equal(1, forged.ExitCode);
        Assert.Contains("signature", forged.Out, StringComparison.Ordinal);

        // An evidence file changed after export.
        var pod = Directory.GetFiles(Path.Combine(_dir, "incident-evidence", id), "*pod.json").Single();
        File.AppendAllText(pod, " ");
        var changed = CliRunner.Run(_dir, null, "incident", "verify", "bundle.json", "--public-key", key, "--evidence-dir", "incident-evidence");
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("does not match its hash", changed.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Drill_RehearsesInDryRun_AndRecordsTheExercise()
    {
        var run = CliRunner.Run(_dir, null, "incident", "drill", "node-compromise", "worker-3", "--kubeconfig", "kubeconfig", "--data-dir", "trail");
        Assert.True(run.ExitCode is 0 or 1, run.Out + run.Error);
        Assert.Contains("Drill INC-", run.Out, StringComparison.Ordinal);
        Assert.False(_api.Get("/api/v1/nodes/worker-3")!["spec"]!["unschedulable"] is { } u && u.GetValue<bool>()); // nothing changed
        Assert.NotNull(_api.Get("/api/v1/namespaces/shop/pods/web-1"));
        Assert.DoesNotContain(_api.Requests, r => (r.StartsWith("PATCH", StringComparison.Ordinal) || r.StartsWith("POST", StringComparison.Ordinal)) && !r.EndsWith("dryRun", StringComparison.Ordinal));
        var list = CliRunner.Run(_dir, null, "incident", "list", "--all", "--data-dir", "trail");
        Assert.Contains("closed", list.Out, StringComparison.Ordinal);
        var id = run.Out.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

        // The compliance report counts the drill as dated evidence for the incident-management controls.
        File.WriteAllText(Path.Combine(_dir, "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec:\n  containers:\n  - {name: a, image: registry.example.com/a:1}\n");
        var without = CliRunner.Run(_dir, null, "report", "pod.yaml", "--framework", "iso27001", "-f", "json");
        var with = CliRunner.Run(_dir, null, "report", "pod.yaml", "--framework", "iso27001", "-f", "json", "--drills-from", "trail");
        Assert.True(with.ExitCode == 0, with.Error);
        string Control(string json, string control)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == control).GetRawText();
        }

        Assert.DoesNotContain(id, Control(without.Out, "5.24"), StringComparison.Ordinal);
        Assert.Contains(id, Control(with.Out, "5.24"), StringComparison.Ordinal);
        Assert.Contains(id, Control(with.Out, "5.26"), StringComparison.Ordinal);
    }
}
