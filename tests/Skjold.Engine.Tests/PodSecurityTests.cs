using Skjold.Engine.Pss;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>Version-dependent Pod Security behaviour that the upstream fixtures do not pin down.</summary>
public sealed class PodSecurityTests
{
    private const string WindowsPodWithoutRestrictedFields = """
        apiVersion: v1
        kind: Pod
        metadata: {name: win, namespace: apps}
        spec:
          os: {name: windows}
          securityContext:
            runAsNonRoot: true
          containers:
          - name: app
            image: registry.example.com/app:1.0
            securityContext:
              capabilities:
                add: ["SYS_ADMIN"]
        """;

    [Fact]
    public void Restricted_CompliantPod_NoFindings()
    {
        var result = Scans.Scan(Pods.Restricted, PssLevel.Restricted, "latest");
        Assert.Empty(result.Ids("pss/"));
    }

    [Fact]
    public void Restricted_WindowsPodBefore125_RequiresLinuxFields()
    {
        var result = Scans.Scan(WindowsPodWithoutRestrictedFields, PssLevel.Restricted, "v1.24");
        Assert.Contains("pss/allowPrivilegeEscalation", result.Ids());
        Assert.Contains("pss/seccompProfile_restricted", result.Ids());
        Assert.Contains("pss/capabilities_restricted", result.Ids());
    }

    [Fact]
    public void Restricted_WindowsPodFrom125_ExemptFromLinuxOnlyChecksIncludingReplacedBaseline()
    {
        // capabilities_restricted exempts Windows pods and replaces capabilities_baseline, so the
        // added capability is allowed at restricted, exactly as Pod Security Admission decides.
        var result = Scans.Scan(WindowsPodWithoutRestrictedFields, PssLevel.Restricted, "v1.25");
        Assert.Empty(result.Ids("pss/"));
    }

    [Fact]
    public void Baseline_WindowsPodAddingCapability_StillViolatesBaseline()
    {
        var result = Scans.Scan(WindowsPodWithoutRestrictedFields, PssLevel.Baseline, "latest");
        Assert.Equal(["pss/capabilities_baseline"], result.Ids("pss/"));
    }

    [Theory]
    [InlineData("v1.34", true)]
    [InlineData("v1.35", false)]
    [InlineData("latest", false)]
    public void Restricted_UserNamespacePodRunningAsRoot_AllowedFrom135(string version, bool expectFinding)
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: userns, namespace: apps}
            spec:
              hostUsers: false
              securityContext:
                runAsUser: 0
                seccompProfile: {type: RuntimeDefault}
              containers:
              - name: app
                image: registry.example.com/app:1.0
                securityContext:
                  allowPrivilegeEscalation: false
                  capabilities: {drop: ["ALL"]}
            """;
        var ids = Scans.Scan(yaml, PssLevel.Restricted, version).Ids("pss/");
        Assert.Equal(expectFinding, ids.Contains("pss/runAsUser"));
        Assert.Equal(expectFinding, ids.Contains("pss/runAsNonRoot"));
    }

    [Theory]
    [InlineData("v1.30", true)]
    [InlineData("v1.31", false)]
    public void Baseline_ContainerEngineSeLinuxType_AllowedFrom131(string version, bool expectFinding)
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              securityContext:
                seLinuxOptions: {type: container_engine_t}
              containers:
              - {name: app, image: "a:1"}
            """;
        Assert.Equal(expectFinding, Scans.Scan(yaml, PssLevel.Baseline, version).Ids().Contains("pss/seLinuxOptions"));
    }

    [Theory]
    [InlineData("net.ipv4.ip_local_reserved_ports", "v1.26", true)]
    [InlineData("net.ipv4.ip_local_reserved_ports", "v1.27", false)]
    [InlineData("net.ipv4.tcp_keepalive_time", "v1.28", true)]
    [InlineData("net.ipv4.tcp_keepalive_time", "v1.29", false)]
    [InlineData("net.ipv4.tcp_rmem", "v1.31", true)]
    [InlineData("net.ipv4.tcp_rmem", "v1.32", false)]
    [InlineData("net.ipv4.tcp_notsent_lowat", "v1.36", true)]
    [InlineData("net.ipv4.tcp_notsent_lowat", "v1.37", false)]
    [InlineData("kernel.msgmax", "latest", true)]
    public void Baseline_Sysctls_AllowedSetGrowsByVersion(string sysctl, string version, bool expectFinding)
    {
        var yaml = $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              securityContext:
                sysctls: [{name: {{sysctl}}, value: "1"}]
              containers:
              - {name: app, image: "a:1"}
            """;
        Assert.Equal(expectFinding, Scans.Scan(yaml, PssLevel.Baseline, version).Ids().Contains("pss/sysctls"));
    }

    [Theory]
    [InlineData("v1.18", true)]
    [InlineData("v1.19", false)]
    public void Baseline_UnconfinedSeccompAnnotation_OnlyBefore119(string version, bool expectFinding)
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              namespace: apps
              annotations:
                seccomp.security.alpha.kubernetes.io/pod: unconfined
            spec:
              containers:
              - {name: app, image: "a:1"}
            """;
        Assert.Equal(expectFinding, Scans.Scan(yaml, PssLevel.Baseline, version).Ids().Contains("pss/seccompProfile_baseline"));
    }

    [Theory]
    [InlineData("v1.33", false)]
    [InlineData("v1.34", true)]
    public void Baseline_ProbeHost_ForbiddenFrom134(string version, bool expectFinding)
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              containers:
              - name: app
                image: "a:1"
                lifecycle:
                  preStop:
                    httpGet: {host: 169.254.169.254, path: /, port: 80}
            """;
        Assert.Equal(expectFinding, Scans.Scan(yaml, PssLevel.Baseline, version).Ids().Contains("pss/hostProbesAndHostLifecycle"));
    }

    [Fact]
    public void Restricted_HostPathVolume_ReportedUnderBothNames()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
              containers:
              - name: app
                image: "a:1"
                securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
              volumes:
              - name: v
                hostPath: {path: /etc}
            """;
        var result = Scans.Scan(yaml, PssLevel.Restricted, "latest");
        Assert.Equal(["pss/hostPathVolumes", "pss/restrictedVolumes"], result.Ids("pss/"));
        Assert.All(result.Findings.Where(f => f.CheckId.StartsWith("pss/", StringComparison.Ordinal)),
            f => Assert.Equal("spec.volumes[0].hostPath", f.Path));
    }

    [Fact]
    public void Message_FollowsPodSecurityAdmissionForm()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              containers:
              - name: web
                image: "a:1"
                securityContext: {privileged: true}
            """;
        var finding = Assert.Single(Scans.Scan(yaml, PssLevel.Baseline, "v1.30").Findings, f => f.CheckId == "pss/privileged");
        Assert.Equal("violates PodSecurity \"baseline:v1.30\": privileged (container \"web\" must not set securityContext.privileged=true)", finding.Message);
        Assert.Equal("spec.containers[0].securityContext.privileged", finding.Path);
        Assert.Equal(8, finding.Location!.Value.Line);
    }

    [Fact]
    public void Workloads_PodTemplatesFoundInEveryControllerKind()
    {
        var kinds = new Dictionary<string, string>
        {
            ["apps/v1 Deployment"] = "spec.template",
            ["apps/v1 ReplicaSet"] = "spec.template",
            ["apps/v1 StatefulSet"] = "spec.template",
            ["apps/v1 DaemonSet"] = "spec.template",
            ["batch/v1 Job"] = "spec.template",
            ["v1 ReplicationController"] = "spec.template",
        };
        foreach (var (key, prefix) in kinds)
        {
            var parts = key.Split(' ');
            var yaml = $$$"""
                apiVersion: {{{parts[0]}}}
                kind: {{{parts[1]}}}
                metadata: {name: w, namespace: apps}
                spec:
                  template:
                    spec:
                      containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
                """;
            var f = Assert.Single(Scans.Scan(yaml, PssLevel.Baseline, "latest").Findings, x => x.CheckId == "pss/privileged");
            Assert.Equal(prefix + ".spec.containers[0].securityContext.privileged", f.Path);
        }

        const string cron = """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: c, namespace: apps}
            spec:
              schedule: "* * * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
            """;
        Assert.Contains("pss/privileged", Scans.Scan(cron, PssLevel.Baseline, "latest").Ids());
        const string podTemplate = """
            apiVersion: v1
            kind: PodTemplate
            metadata: {name: t, namespace: apps}
            template:
              spec:
                containers: [{name: c, image: "a:1"}]
                hostIPC: true
            """;
        Assert.Contains("pss/hostNamespaces", Scans.Scan(podTemplate, PssLevel.Baseline, "latest").Ids());
    }

    [Fact]
    public void EphemeralContainers_AreChecked()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              containers: [{name: c, image: "a:1"}]
              ephemeralContainers: [{name: debug, image: "busybox:1", securityContext: {privileged: true}}]
            """;
        var f = Assert.Single(Scans.Scan(yaml, PssLevel.Baseline, "latest").Findings, x => x.CheckId == "pss/privileged");
        Assert.Equal("spec.ephemeralContainers[0].securityContext.privileged", f.Path);
    }

    [Fact]
    public void Privileged_Level_RunsNoPodSecurityChecks()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: apps}
            spec:
              hostNetwork: true
              containers: [{name: c, image: "a:1", securityContext: {privileged: true}}]
            """;
        Assert.Empty(Scans.Scan(yaml, PssLevel.Privileged, "latest").Ids("pss/"));
    }

    [Theory]
    [InlineData("latest", true, 37)]
    [InlineData("v1.30", true, 30)]
    [InlineData("1.5", true, 5)]
    [InlineData("v1.99", true, 37)]
    [InlineData("v2.1", false, 0)]
    [InlineData("banana", false, 0)]
    public void PssVersion_Parse(string text, bool ok, int effectiveMinor)
    {
        Assert.Equal(ok, PssVersion.TryParse(text, out var v));
        if (ok)
        {
            Assert.Equal(effectiveMinor, v.EffectiveMinor);
        }
    }
}
