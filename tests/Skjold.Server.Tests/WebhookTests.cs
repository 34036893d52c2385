using System.Net;
using System.Text;
using System.Text.Json;
using Skjold.Engine;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.TestSupport;

namespace Skjold.Server.Tests;

/// <summary>The real host on loopback over HTTPS, driven with AdmissionReview JSON.</summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private WebhookServer _server = null!;

    private const string CompliantPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: good, namespace: restricted-ns}
        spec:
          automountServiceAccountToken: false
          securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: app
            image: registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
            livenessProbe: {tcpSocket: {port: 80}}
            readinessProbe: {tcpSocket: {port: 80}}
            securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        """;

    private const string PrivilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: bad, namespace: baseline-ns}
        spec:
          containers:
          - name: app
            image: registry.example.com/app:1.0
            securityContext: {privileged: true}
        """;

    public async Task InitializeAsync() => _server = await WebhookServer.StartAsync("""
        admission:
          checks:
            actions:
              wl/trusted-registry: deny
          exemptions:
            usernames: [system:serviceaccount:kube-system:trusted-deployer]
            namespaces: [exempt-ns]
            runtimeClasses: [kata]
        registries:
          trusted: [registry.example.com]
        exemptions:
          - checks: [wl/image-tag]
            namespaces: [baseline-ns]
            reason: Tag policy handled by the image promotion pipeline
        """);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static JsonElement Response(JsonElement review) => review.GetProperty("response");

    private static bool Allowed(JsonElement review) => Response(review).GetProperty("allowed").GetBoolean();

    private static List<string> Warnings(JsonElement review) =>
        Response(review).TryGetProperty("warnings", out var w) ? w.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

    [Fact]
    public async Task Validate_CompliantPod_AllowedWithoutWarnings()
    {
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(CompliantPod, "restricted-ns", uid: "uid-1"));
        Assert.True(Allowed(review));
        Assert.Equal("uid-1", Response(review).GetProperty("uid").GetString());
        Assert.Equal("admission.k8s.io/v1", review.GetProperty("apiVersion").GetString());
        Assert.Empty(Warnings(review));
        Assert.False(Response(review).TryGetProperty("patchType", out _));
    }

    [Fact]
    public async Task Validate_PrivilegedPodInBaselineNamespace_DeniedWithPodSecurityMessage()
    {
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod, "baseline-ns"));
        Assert.False(Allowed(review));
        var status = Response(review).GetProperty("status");
        Assert.Equal(403, status.GetProperty("code").GetInt32());
        Assert.StartsWith("violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)",
            status.GetProperty("message").GetString(), StringComparison.Ordinal);
        var annotations = Response(review).GetProperty("auditAnnotations");
        Assert.Contains("pss/privileged", annotations.GetProperty("pss-enforce-violations").GetString(), StringComparison.Ordinal);
        Assert.Equal("deny", annotations.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Validate_BaselineCompliantPodInNamespaceWarningRestricted_AllowedWithShortWarnings()
    {
        const string pod = """
            apiVersion: v1
            kind: Pod
            metadata: {name: meh, namespace: baseline-ns}
            spec:
              containers:
              - {name: a-container-with-a-rather-long-name-to-stretch-the-warning-text, image: "registry.example.com/app:1.0"}
              - {name: b, image: "registry.example.com/app:1.0"}
            """;
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(pod, "baseline-ns"));
        Assert.True(Allowed(review));
        var warnings = Warnings(review);
        Assert.Contains(warnings, w => w.StartsWith("would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false", StringComparison.Ordinal));
        Assert.All(warnings, w => Assert.True(w.Length < 120, $"{w.Length}: {w}"));
        Assert.Contains("pss/runAsNonRoot", Response(review).GetProperty("auditAnnotations").GetProperty("pss-audit-violations").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_DeploymentViolatingEnforce_AllowedWithWarning()
    {
        const string deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d, namespace: baseline-ns}
            spec:
              template:
                spec:
                  containers: [{name: app, image: "registry.example.com/app:1.0", securityContext: {privileged: true}}]
            """;
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(deployment, "baseline-ns"));
        Assert.True(Allowed(review));
        Assert.Contains(Warnings(review), w => w.StartsWith("would violate PodSecurity \"baseline:latest\": privileged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Validate_SkjoldCheckWithDenyAction_Rejects()
    {
        var pod = CompliantPod.Replace("registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io/library/nginx:1.27", StringComparison.Ordinal);
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(pod, "restricted-ns"));
        Assert.False(Allowed(review));
        Assert.Contains("wl/trusted-registry", Response(review).GetProperty("status").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ConfigExemption_SuppressesCheckAsInTheCli()
    {
        var pod = PrivilegedPod.Replace("privileged: true", "privileged: false", StringComparison.Ordinal).Replace("app:1.0", "app:latest", StringComparison.Ordinal);
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(pod, "baseline-ns"));
        Assert.True(Allowed(review));
        Assert.DoesNotContain(Warnings(review), w => w.Contains("wl/image-tag", StringComparison.Ordinal));
        Assert.Contains("wl/image-tag", Response(review).GetProperty("auditAnnotations").GetProperty("exemptions").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exempt-ns", "alice", null, "namespace")]
    [InlineData("baseline-ns", "system:serviceaccount:kube-system:trusted-deployer", null, "user")]
    [InlineData("baseline-ns", "alice", "kata", "runtimeClass")]
    public async Task Validate_Exemptions_Allow(string ns, string user, string? runtimeClass, string reason)
    {
        var pod = PrivilegedPod.Replace("baseline-ns", ns, StringComparison.Ordinal);
        if (runtimeClass is not null)
        {
            pod = pod.Replace("spec:\n", $"spec:\n  runtimeClassName: {runtimeClass}\n", StringComparison.Ordinal);
        }

        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(pod, ns, username: user));
        Assert.True(Allowed(review));
        Assert.Equal(reason, Response(review).GetProperty("auditAnnotations").GetProperty("exempt").GetString());
    }

    [Fact]
    public async Task Validate_DryRun_EvaluatedWithoutSideEffects()
    {
        var before = _server.Sink.Records.Count;
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod, "baseline-ns", dryRun: true));
        Assert.False(Allowed(review));
        Assert.Equal(before, _server.Sink.Records.Count);

        await _server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod, "baseline-ns", uid: "recorded"));
        var record = Assert.Single(_server.Sink.Records, r => r.Uid == "recorded");
        Assert.False(record.Allowed);
        Assert.Contains("pss/privileged", record.Checks);
        Assert.Equal("alice", record.Username);
    }

    [Fact]
    public async Task Validate_UpdateThatChangesNothingChecked_NotReevaluated()
    {
        var newer = PrivilegedPod.Replace("metadata: {name: bad, namespace: baseline-ns}", "metadata: {name: bad, namespace: baseline-ns, resourceVersion: \"7\"}", StringComparison.Ordinal);
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(newer, "baseline-ns", "UPDATE", oldObjectYaml: PrivilegedPod));
        Assert.True(Allowed(review));

        var changed = PrivilegedPod.Replace("image: registry.example.com/app:1.0", "image: registry.example.com/app:1.1", StringComparison.Ordinal);
        var denied = await _server.ReviewAsync("/validate", WebhookServer.Review(changed, "baseline-ns", "UPDATE", oldObjectYaml: PrivilegedPod));
        Assert.False(Allowed(denied));
    }

    [Theory]
    [InlineData("status", true)]
    [InlineData("exec", true)]
    [InlineData("binding", true)]
    [InlineData("log", true)]
    [InlineData("ephemeralcontainers", false)]
    public async Task Validate_Subresources_OnlyEphemeralContainersEvaluated(string sub, bool allowed)
    {
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod, "baseline-ns", "UPDATE", oldObjectYaml: CompliantPod, subResource: sub));
        Assert.Equal(allowed, Allowed(review));
    }

    [Fact]
    public async Task Validate_V1beta1Request_AnsweredInV1beta1()
    {
        var review = await _server.ReviewAsync("/validate", WebhookServer.Review(CompliantPod, "restricted-ns", apiVersion: "admission.k8s.io/v1beta1"));
        Assert.Equal("admission.k8s.io/v1beta1", review.GetProperty("apiVersion").GetString());
    }

    [Fact]
    public async Task Mutate_OptedInNamespace_PatchMakesPodPassRestricted()
    {
        const string pod = """
            apiVersion: v1
            kind: Pod
            metadata: {name: m, namespace: mutating-ns}
            spec:
              securityContext: {runAsUser: 1000}
              initContainers:
              - {name: init, image: "registry.example.com/init:1.0"}
              containers:
              - name: app
                image: registry.example.com/app:1.0
                securityContext: {readOnlyRootFilesystem: true}
              - name: sidecar
                image: registry.example.com/sidecar:1.0
                securityContext: {capabilities: {drop: [NET_RAW]}}
            """;
        var review = await _server.ReviewAsync("/mutate", WebhookServer.Review(pod, "mutating-ns"));
        var response = Response(review);
        Assert.True(response.GetProperty("allowed").GetBoolean());
        Assert.Equal("JSONPatch", response.GetProperty("patchType").GetString());
        Assert.Contains("seccompProfile", response.GetProperty("auditAnnotations").GetProperty("mutations").GetString(), StringComparison.Ordinal);

        // Apply the RFC 6902 patch with an independent implementation, then judge the result.
        var patchJson = Encoding.UTF8.GetString(Convert.FromBase64String(response.GetProperty("patch").GetString()!));
        var patch = JsonSerializer.Deserialize<Microsoft.AspNetCore.JsonPatch.SystemTextJson.JsonPatchDocument>(patchJson)!;
        var node = WebhookServer.ToNode(pod)!;
        patch.ApplyTo(node);
        var mutated = node.ToJsonString();
        var scan = new Scanner(new ScanPolicy(PssLevel.Restricted, PssVersion.Latest)).Scan(Scans.Load(mutated));
        Assert.Empty(scan.Ids("pss/"));

        var validated = await _server.ReviewAsync("/validate", WebhookServer.Review(mutated, "mutating-ns"));
        Assert.True(Allowed(validated), validated.ToString());
        Assert.False(Response(validated).TryGetProperty("patchType", out _));
    }

    [Fact]
    public async Task Mutate_NamespaceNotOptedIn_NoPatch()
    {
        var review = await _server.ReviewAsync("/mutate", WebhookServer.Review(PrivilegedPod, "baseline-ns"));
        Assert.True(Allowed(review));
        Assert.False(Response(review).TryGetProperty("patch", out _));
    }

    [Theory]
    [InlineData("this is not json", "not a valid AdmissionReview")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "no request")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\"},\"object\":{}}}", "no uid")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\"},\"object\":\"oops\"}}", "must be a JSON object")]
    [InlineData("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", "expected kind AdmissionReview")]
    [InlineData("", "empty request body")]
    public async Task BadRequests_Get400WithReason_AndServerKeepsServing(string body, string reason)
    {
        using var response = await _server.PostAsync("/validate", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(Allowed(await _server.ReviewAsync("/validate", WebhookServer.Review(CompliantPod, "restricted-ns"))));
    }

    [Fact]
    public async Task OversizedBody_Gets413()
    {
        var big = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"pad\":\"" + new string('x', 4 * 1024 * 1024) + "\"}";

        // HTTP/2 (as the API server uses) lets the server answer 413 without reading the body,
        // and the client still receives the answer.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/validate")
        {
            Content = new StringContent(big, Encoding.UTF8, "application/json"),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(Allowed(await _server.ReviewAsync("/validate", WebhookServer.Review(CompliantPod, "restricted-ns"))));
    }

    [Fact]
    public async Task Observability_HealthReadinessAndMetrics()
    {
        Assert.Equal("ok\n", await _server.Client.GetStringAsync("/healthz"));
        Assert.Equal("ready\n", await _server.Client.GetStringAsync("/readyz"));
        await _server.ReviewAsync("/validate", WebhookServer.Review(PrivilegedPod, "baseline-ns"));
        var metrics = await _server.Client.GetStringAsync("/metrics");
        Assert.Contains("skjold_admission_requests_total{endpoint=\"validate\",operation=\"CREATE\",kind=\"Pod\",decision=\"deny\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("skjold_admission_request_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("skjold_admission_violations_total{check=\"pss/privileged\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PsaFixtures_ThroughTheWebhook_SameVerdictsAsScan()
    {
        var root = Path.Combine(RepoPaths.Peers, "pod-security-admission");
        var files = Directory.GetFiles(root, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Where((_, i) => i % 15 == 0).ToList();
        Assert.True(files.Count > 250);
        var checkedCount = 0;
        foreach (var file in files)
        {
            var parts = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar);
            var (level, version) = (parts[0], parts[1]);
            Assert.True(PssLevels.TryParse(level, out var lvl));
            var pod = await File.ReadAllTextAsync(file);
            var scan = new Scanner(new ScanPolicy(lvl, Scans.Version(version))).Scan(Scans.Load(pod));
            var scanAllows = !scan.Findings.Any(f => f.CheckId.StartsWith("pss/", StringComparison.Ordinal));

            var review = await ReviewInNamespace(pod, level, version);

            // The fixtures' image is not from a trusted registry, which this server denies, so
            // compare the Pod Security part of the verdict.
            var podSecurityDenied = !Allowed(review) && Response(review).GetProperty("status").GetProperty("message").GetString()!.Contains("PodSecurity", StringComparison.Ordinal);
            Assert.True(scanAllows != podSecurityDenied, $"{file}: scan allows={scanAllows}, webhook Pod Security denied={podSecurityDenied}");
            Assert.Equal(parts[2] == "pass", scanAllows);
            checkedCount++;
        }

        Assert.Equal(files.Count, checkedCount);
    }

    private async Task<JsonElement> ReviewInNamespace(string pod, string level, string version)
    {
        // The file cache learns namespaces from admission requests too: create one per level and version.
        var name = $"psa-{level}-{version.Replace('.', '-')}";
        var nsYaml = $$"""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: {{name}}
              labels: {pod-security.kubernetes.io/enforce: {{level}}, pod-security.kubernetes.io/enforce-version: {{version}}}
            """;
        await _server.ReviewAsync("/validate", WebhookServer.Review(nsYaml, string.Empty));
        var node = WebhookServer.ToNode(pod)!;
        node["metadata"]!["namespace"] = name;
        return await _server.ReviewAsync("/validate", WebhookServer.Review(node.ToJsonString(), name));
    }
}
