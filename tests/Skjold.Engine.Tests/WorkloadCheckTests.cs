using Skjold.Engine.Checks;
using Skjold.Engine.Model;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

public sealed class WorkloadCheckTests
{
    private static readonly ScanPolicy Trusted = new(PssLevel.Restricted, PssVersion.Latest, trustedRegistries: ["registry.example.com", "ghcr.io/acme/"]);

    private static string Deployment(string containerYaml, string extraSpec = "", int replicas = 3, string ns = "apps") => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d, namespace: {{{ns}}}}
        spec:
          replicas: {{{replicas}}}
          selector: {matchLabels: {app: d}}
          template:
            metadata: {labels: {app: d}}
            spec:
              automountServiceAccountToken: false
        {{{extraSpec}}}
              containers:
              - {{{containerYaml}}}
        """;

    private const string GoodContainer =
        "{name: c, image: \"registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}, " +
        "livenessProbe: {tcpSocket: {port: 80}}, readinessProbe: {tcpSocket: {port: 80}}, " +
        "securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}";

    private static IReadOnlyList<string> WlIds(string yaml, ScanPolicy? policy = null) => Scans.Scan(yaml, policy ?? Trusted).Ids("wl/");

    [Fact]
    public void GoodDeployment_NoWorkloadFindings()
    {
        Assert.Empty(WlIds(Deployment(GoodContainer)));
    }

    [Theory]
    [InlineData("nginx:1.27", true)]
    [InlineData("docker.io/library/nginx:1.27", true)]
    [InlineData("registry.example.com/app:1", false)]
    [InlineData("registry.example.com:5000/app:1", true)]
    [InlineData("registry.example.com.evil.io/app:1", true)]
    [InlineData("ghcr.io/acme/tool:2", false)]
    [InlineData("ghcr.io/acmecorp/tool:2", true)]
    public void TrustedRegistry_MatchesHostsAndPathPrefixesOnSegmentBoundaries(string image, bool expectFinding)
    {
        var yaml = Deployment(GoodContainer.Replace("registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", image, StringComparison.Ordinal));
        Assert.Equal(expectFinding, WlIds(yaml).Contains("wl/trusted-registry"));
    }

    [Theory]
    [InlineData("localhost:5000", "localhost:5000/app:1", true)]
    [InlineData("registry:5000", "registry:5000/team/app:1", true)]
    [InlineData("registry:5000", "registry:5001/app:1", false)]
    [InlineData("docker.io/library", "nginx:1.27", true)]
    [InlineData("docker.io/nginx", "index.docker.io/library/nginx:1.27", true)]
    [InlineData("docker.io/library/nginx", "docker.io/nginx:1.27", true)]
    [InlineData("index.docker.io/bitnami", "bitnami/redis:7", true)]
    [InlineData("bitnami", "docker.io/bitnami/redis:7", true)]
    [InlineData("ghcr.io/acme/*", "ghcr.io/acme/team/app:1", true)]
    [InlineData("ghcr.io/acme/*", "ghcr.io/acmecorp/app:1", false)]
    [InlineData("ghcr.io/acme/app-?", "ghcr.io/acme/app-1:1", true)]
    [InlineData("*.azurecr.io", "bank.azurecr.io/app:1", true)]
    [InlineData("*.azurecr.io", "azurecr.io.evil.example/app:1", false)]
    [InlineData("*.azurecr.io", "evil.example/x.azurecr.io/app:1", false)]
    [InlineData("GHCR.io/acme", "ghcr.io/acme/app:1", true)]
    public void TrustedRegistry_EntriesAreNormalisedAndMayBePatterns(string trusted, string image, bool allowed)
    {
        var policy = ConfigParser.Parse($"registries:\n  trusted: ['{trusted}']\n", "skjold.yaml", CheckCatalog.Default);
        var yaml = Deployment(GoodContainer.Replace("registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", image, StringComparison.Ordinal));
        Assert.Equal(!allowed, WlIds(yaml, policy).Contains("wl/trusted-registry"));
    }

    [Fact]
    public void TrustedRegistry_MalformedEntry_IsAConfigError()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigParser.Parse("registries:\n  trusted: ['ghcr.io/[acme]']\n", "skjold.yaml", CheckCatalog.Default));
        Assert.Contains("registries.trusted", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedRegistry_InactiveWithoutList()
    {
        var yaml = Deployment(GoodContainer.Replace("registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "nginx:1.27", StringComparison.Ordinal));
        Assert.DoesNotContain("wl/trusted-registry", WlIds(yaml, ScanPolicy.Default));
    }

    [Theory]
    [InlineData("registry.example.com/app", "wl/image-tag", true)]
    [InlineData("registry.example.com/app:latest", "wl/image-tag", true)]
    [InlineData("registry.example.com/app:1.2", "wl/image-tag", false)]
    [InlineData("registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "wl/image-tag", false)]
    [InlineData("registry.example.com:5000/app", "wl/image-tag", true)]
    [InlineData("registry.example.com/app:1.2", "wl/image-digest", true)]
    [InlineData("registry.example.com/app:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "wl/image-digest", false)]
    [InlineData("registry.example.com/app:1.2@sha256:abc", "wl/image-digest", true)] // not a digest
    [InlineData("registry.example.com/app@sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "wl/image-tag", true)] // upper-case hex is not valid
    [InlineData("registry.example.com/app@md5:0123456789abcdef0123456789abcdef", "wl/image-digest", true)]
    public void ImageReferenceChecks(string image, string check, bool expectFinding)
    {
        var yaml = Deployment(GoodContainer.Replace("registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", image, StringComparison.Ordinal));
        Assert.Equal(expectFinding, WlIds(yaml).Contains(check));
    }

    [Fact]
    public void Resources_MissingRequestsAndLimit()
    {
        var yaml = Deployment(GoodContainer.Replace("resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}, ", "resources: {requests: {cpu: 100m}}, ", StringComparison.Ordinal));
        var result = Scans.Scan(yaml, Trusted);
        var req = Assert.Single(result.Findings, f => f.CheckId == "wl/resource-requests");
        Assert.Contains("no memory request", req.Message, StringComparison.Ordinal);
        Assert.Contains("wl/memory-limit", result.Ids());
    }

    [Fact]
    public void Probes_NotRequiredForJobs()
    {
        const string job = """
            apiVersion: batch/v1
            kind: Job
            metadata: {name: j, namespace: apps}
            spec:
              ttlSecondsAfterFinished: 600
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: c, image: "a:1"}]
            """;
        var ids = WlIds(job);
        Assert.DoesNotContain("wl/liveness-probe", ids);
        Assert.DoesNotContain("wl/readiness-probe", ids);
        Assert.DoesNotContain("wl/job-ttl", ids);
        Assert.Contains("wl/liveness-probe", WlIds(Deployment(GoodContainer.Replace("livenessProbe: {tcpSocket: {port: 80}}, ", "", StringComparison.Ordinal))));
    }

    [Fact]
    public void JobTtl_MissingOnJobAndCronJob()
    {
        const string yaml = """
            apiVersion: batch/v1
            kind: Job
            metadata: {name: j, namespace: apps}
            spec:
              template:
                spec: {containers: [{name: c, image: "a:1"}]}
            ---
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: cj, namespace: apps}
            spec:
              schedule: "@daily"
              jobTemplate:
                spec:
                  template:
                    spec: {containers: [{name: c, image: "a:1"}]}
            """;
        var findings = Scans.Scan(yaml, Trusted).Findings.Where(f => f.CheckId == "wl/job-ttl").ToList();
        Assert.Equal(2, findings.Count);
        Assert.Contains(findings, f => f.Path == "spec.jobTemplate.spec.ttlSecondsAfterFinished");
    }

    [Fact]
    public void ServiceAccountToken_ServiceAccountSettingCounts()
    {
        var noPodSetting = Deployment(GoodContainer).Replace("      automountServiceAccountToken: false\n", "      serviceAccountName: quiet\n", StringComparison.Ordinal);
        Assert.Contains("wl/sa-token-automount", WlIds(noPodSetting));
        const string sa = """
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: quiet, namespace: apps}
            automountServiceAccountToken: false
            """;
        Assert.DoesNotContain("wl/sa-token-automount", WlIds(noPodSetting + "\n" + sa));
    }

    [Fact]
    public void SecretEnv_ValueFromAndEnvFrom()
    {
        var yaml = Deployment(GoodContainer.Replace("{name: c, ", "{name: c, env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: s, key: k}}}], envFrom: [{secretRef: {name: all}}], ", StringComparison.Ordinal));
        var paths = Scans.Scan(yaml, Trusted).Findings.Where(f => f.CheckId == "wl/secret-env").Select(f => f.Path).ToList();
        Assert.Equal(["spec.template.spec.containers[0].envFrom[0].secretRef", "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"], paths.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("DB_PASSWORD", "hunter2hunter2", true)]
    [InlineData("API_TOKEN", "s3cr3t-value", true)]
    [InlineData("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", true)]
    [InlineData("SOME_SETTING", "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)]
    [InlineData("DATABASE_URL", "postgres://app:pw123@db:5432/app", true)]
    [InlineData("PASSWORD_FILE", "/run/secrets/pw", false)]
    [InlineData("TOKEN_TTL", "3600", false)]
    [InlineData("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)", false)]
    [InlineData("DB_PASSWORD", "changeme", false)]
    [InlineData("LOG_LEVEL", "debug", false)]
    [InlineData("STRIPE_KEY", "rk_live_51HabcdefghijklmnopqrstUVWX", true)]
    [InlineData("AZURE_STORAGE_KEY", "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4", true)]
    [InlineData("dbPassword", "Winter2026!x", true)]
    [InlineData("DB_PASSWORD", "{{ .Values.db.password }}", false)]
    [InlineData("API_KEY", "INSERT_YOUR_KEY_HERE", false)]
    [InlineData("AWS_SECRET_ACCESS_KEY", "<your-secret>", false)]
    [InlineData("CACHE_KEYSPACE", "sessions", false)]
    public void CredentialLiteral_Heuristics(string name, string value, bool expectFinding)
    {
        var yaml = Deployment(GoodContainer.Replace("{name: c, ", $"{{name: c, env: [{{name: {name}, value: \"{value}\"}}], ", StringComparison.Ordinal));
        var result = Scans.Scan(yaml, Trusted);
        Assert.Equal(expectFinding, result.Ids().Contains("wl/credential-literal"));
        Assert.All(result.Findings, f => Assert.DoesNotContain(value, f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void CredentialPatterns_HostileValues_AreJudgedWithoutThrowing()
    {
        // Inputs that make a backtracking engine run for seconds; the verdict must not depend on the clock.
        string[] values =
        [
            "://" + new string('a', 90_000) + ":",
            "-----BEGIN " + string.Concat(Enumerable.Repeat("A ", 45_000)),
            "eyJ" + new string('a', 50_000) + ".eyJ" + new string('b', 50_000) + ".",
            new string('q', 2_000_000) + "AKIAIOSFODNN7EXAMPLE",
        ];
        foreach (var v in values)
        {
            Assert.False(Skjold.Engine.Workloads.CredentialPatterns.LooksLikeCredential("SETTING", v));
        }

        Assert.True(Skjold.Engine.Workloads.CredentialPatterns.LooksLikeCredential("SETTING", new string('x', 90_000) + "AKIAIOSFODNN7EXAMPLE"));
    }

    [Theory]
    [InlineData("AKIAIOSFODNN7EXAMPLE")]
    [InlineData("ASIAIOSFODNN7EXAMPLE")]
    [InlineData("ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("gho_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("ghr_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("github_pat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("glpat-aaaaaaaaaaaaaaaaaaaa")]
    [InlineData("xoxb-1234567890")]
    [InlineData("xoxr-1234567890")]
    [InlineData("sk_live_aaaaaaaaaaaaaaaaaaaa")]
    [InlineData("rk_live_aaaaaaaaaaaaaaaaaaaa")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----")]
    [InlineData("eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.abcdefghij")]
    [InlineData("AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("AccountKey=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("postgres://app:hunter2@db:5432/x")]
    public void CredentialPatterns_EveryTokenFormat_PassesThePrefilter(string token)
    {
        // The literal prefilter must never hide a token the regex would find.
        Assert.Matches(Skjold.Engine.Workloads.CredentialPatterns.KnownTokenFormat(), token);
        Assert.True(Skjold.Engine.Workloads.CredentialPatterns.MayHoldKnownToken("x " + token + " y"));
        Assert.True(Skjold.Engine.Workloads.CredentialPatterns.LooksLikeCredential("SETTING", "x " + token + " y"));
    }

    [Fact]
    public void CredentialPatterns_Prefilter_NeverRejectsAValueTheRegexMatches()
    {
        // Random strings over an alphabet rich in the formats' own characters and fragments.
        string[] fragments = ["AKIA", "ASIA", "gh", "p_", "s_", "github_pat_", "glpat-", "xox", "b-", "sk_", "rk_", "live_", "-----BEGIN ", "PRIVATE KEY-----",
            "eyJ", ".", "AIza", "AccountKey=", "://", ":", "@", "A", "a", "0", "_", "-", "/", "+", " "];
        var random = new Random(1604);
        for (var n = 0; n < 20_000; n++)
        {
            var sb = new System.Text.StringBuilder();
            var parts = random.Next(1, 30);
            for (var i = 0; i < parts; i++)
            {
                var f = fragments[random.Next(fragments.Length)];
                sb.Append(f.Length == 1 ? new string(f[0], random.Next(1, 45)) : f);
            }

            var value = sb.ToString();
            if (Skjold.Engine.Workloads.CredentialPatterns.KnownTokenFormat().IsMatch(value))
            {
                Assert.True(Skjold.Engine.Workloads.CredentialPatterns.MayHoldKnownToken(value), value);
            }
        }
    }

    [Theory]
    [InlineData("LoadBalancer", true)]
    [InlineData("NodePort", true)]
    [InlineData("ClusterIP", false)]
    public void ServiceExposed(string type, bool expectFinding)
    {
        var yaml = $$"""
            apiVersion: v1
            kind: Service
            metadata: {name: s, namespace: apps}
            spec: {type: {{type}}, ports: [{port: 80}]}
            """;
        Assert.Equal(expectFinding, WlIds(yaml).Contains("wl/service-exposed"));
    }

    [Fact]
    public void DefaultNamespace_Reported()
    {
        Assert.Contains("wl/default-namespace", WlIds(Deployment(GoodContainer, ns: "default")));
    }

    [Theory]
    [InlineData(1, "", true)]
    [InlineData(2, "", false)]
    [InlineData(0, "", false)]
    [InlineData(1, "hpa", false)]
    public void Replicas_FewerThanTwoUnlessAutoscaled(int replicas, string extra, bool expectFinding)
    {
        var yaml = Deployment(GoodContainer, replicas: replicas);
        if (extra == "hpa")
        {
            yaml += """

                ---
                apiVersion: autoscaling/v2
                kind: HorizontalPodAutoscaler
                metadata: {name: d, namespace: apps}
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}
                  minReplicas: 2
                  maxReplicas: 5
                """;
        }

        Assert.Equal(expectFinding, WlIds(yaml).Contains("wl/replicas"));
    }

    [Theory]
    [InlineData("maxUnavailable: 0", true)]
    [InlineData("maxUnavailable: \"0%\"", true)]
    [InlineData("minAvailable: \"100%\"", true)]
    [InlineData("minAvailable: 3", true)]
    [InlineData("minAvailable: 2", false)]
    [InlineData("maxUnavailable: 1", false)]
    [InlineData("minAvailable: \"70%\"", true)] // 70% of 3 rounds up to 3
    [InlineData("minAvailable: \"66%\"", false)] // 1.98 rounds up to 2
    [InlineData("maxUnavailable: \"10%\"", false)] // 0.3 rounds up to 1 pod
    [InlineData("maxUnavailable: \"0\"", true)]
    public void PodDisruptionBudget_AllowingNoEviction(string rule, bool expectFinding)
    {
        var yaml = Deployment(GoodContainer, replicas: 3) + $$$"""

            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: pdb, namespace: apps}
            spec:
              {{{rule}}}
              selector: {matchLabels: {app: d}}
            """;
        Assert.Equal(expectFinding, WlIds(yaml).Contains("wl/pdb-no-disruption"));
    }

    [Theory]
    [InlineData(1, "minAvailable: \"50%\"", true)] // 0.5 rounds up to 1 of 1
    [InlineData(2, "minAvailable: \"51%\"", true)] // 1.02 rounds up to 2 of 2
    [InlineData(2, "minAvailable: \"50%\"", false)]
    public void PodDisruptionBudget_PercentagesRoundUpAsTheDisruptionControllerDoes(int replicas, string rule, bool expectFinding)
    {
        var yaml = Deployment(GoodContainer, replicas: replicas) + $$$"""

            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: pdb, namespace: apps}
            spec:
              {{{rule}}}
              selector: {matchLabels: {app: d}}
            """;
        Assert.Equal(expectFinding, WlIds(yaml).Contains("wl/pdb-no-disruption"));
    }

    [Fact]
    public void PodDisruptionBudget_WithAnAutoscaler_IsJudgedAtItsMinimum()
    {
        var yaml = Deployment(GoodContainer).Replace("  replicas: 3\n", string.Empty, StringComparison.Ordinal) + """

            ---
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata: {name: d, namespace: apps}
            spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}, minReplicas: 3, maxReplicas: 10}
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: pdb, namespace: apps}
            spec: {minAvailable: 2, selector: {matchLabels: {app: d}}}
            """;
        Assert.DoesNotContain("wl/pdb-no-disruption", WlIds(yaml)); // 2 of at least 3: one may go
        var tight = yaml.Replace("minReplicas: 3", "minReplicas: 2", StringComparison.Ordinal);
        var finding = Scans.Scan(tight, Trusted).Findings.Single(f => f.CheckId == "wl/pdb-no-disruption");
        Assert.Contains("runs as few as 2 (its autoscaler's minReplicas)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NetRaw_DroppedByNameOrAll()
    {
        Assert.DoesNotContain("wl/net-raw", WlIds(Deployment(GoodContainer)));
        Assert.DoesNotContain("wl/net-raw", WlIds(Deployment(GoodContainer.Replace("drop: [ALL]", "drop: [NET_RAW]", StringComparison.Ordinal))));
        Assert.Contains("wl/net-raw", WlIds(Deployment(GoodContainer.Replace("drop: [ALL]", "drop: [SYS_ADMIN]", StringComparison.Ordinal))));
    }

    [Fact]
    public void ReadOnlyRootFilesystem_Required()
    {
        Assert.Contains("wl/readonly-root-fs", WlIds(Deployment(GoodContainer.Replace("readOnlyRootFilesystem: true, ", "", StringComparison.Ordinal))));
    }

    [Fact]
    public void Findings_CarryResourceSeverityRemediationAndLocation()
    {
        var result = Scans.Scan(Deployment(GoodContainer, replicas: 1), Trusted);
        var f = Assert.Single(result.Findings, x => x.CheckId == "wl/replicas");
        Assert.Equal(new ResourceRef("apps/v1", "Deployment", "apps", "d"), f.Resource);
        Assert.Equal(Severity.Low, f.Severity);
        Assert.False(string.IsNullOrWhiteSpace(f.Remediation));
        Assert.Equal(5, f.Location!.Value.Line);
        Assert.Equal("test.yaml", f.Location!.Value.File);
    }
}
