using Microsoft.Extensions.Time.Testing;
using Skjold.Engine.Policy;
using Skjold.Engine.Pss;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>Secrets hygiene, upgrade readiness and data residency on small hand-built clusters.</summary>
public sealed class PostureTests
{
    private static readonly FakeTimeProvider Today = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));

    private static string Deployment(string name, string ns, string env = "", string image = "europe-north1-docker.pkg.dev/p/r/app:1", string volumes = "") => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        spec:
          selector: {matchLabels: {app: {{{name}}}}}
          template:
            metadata: {labels: {app: {{{name}}}}}
            spec:
              containers:
              - name: c
                image: {{{image}}}
                {{{(env.Length > 0 ? "env: " + env : "")}}}
              {{{(volumes.Length > 0 ? "volumes: " + volumes : "")}}}
        ---

        """;

    private static string Secret(string name, string ns, string extra = "") =>
        $"apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}{extra}}}\n---\n";

    private static string[] Of(Model.ScanResult result, string id) =>
        [.. result.Findings.Where(f => f.CheckId == id).Select(f => $"{f.Resource.Kind}/{f.Resource.Name}").Order(StringComparer.Ordinal)];

    [Fact]
    public void Secrets_SprawlLegacyTokensUnusedAndConfigMapCredentials()
    {
        const string Env = "[{name: DB, valueFrom: {secretKeyRef: {name: db, key: password}}}]";
        var yaml =
            Deployment("a", "pay", Env) + Deployment("b", "pay", Env) + Deployment("c", "pay", Env) + Deployment("d", "pay", Env) +
            Deployment("e", "pay", volumes: "[{name: tls, secret: {secretName: tls}}]") +
            Secret("db", "pay") + Secret("tls", "pay") + Secret("forgotten", "pay") +
            Secret("old-token", "pay", ", annotations: {kubernetes.io/service-account.name: builder}") +
            Secret("sh.helm.release.v1.app.v1", "pay", ", labels: {owner: helm}") +
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: pay}\ndata: {LOG_LEVEL: info, DB_PASSWORD: 'Winter2026!x'}\n---\n" +
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-ini, namespace: pay}\ndata: {app.ini: \"[db]\\nuser = app\\npassword = hunter2hunter2\\n\"}\n---\n" +
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: harmless, namespace: pay}\ndata: {password_min_length: '12', TIMEOUT: 30s}\n";
        var result = Scans.Scan(yaml, time: Today);

        Assert.Equal(["Secret/db"], Of(result, "secrets/sprawl")); // four workloads share it
        Assert.Equal(["Secret/old-token"], Of(result, "secrets/legacy-sa-token"));
        Assert.Equal(["Secret/forgotten"], Of(result, "secrets/unused")); // helm release and token secrets are not "unused"
        Assert.Equal(["ConfigMap/app-ini", "ConfigMap/settings"], Of(result, "secrets/configmap-credential"));
        Assert.Equal(4, result.Findings.Count(f => f.CheckId == "wl/secret-env"));
    }

    [Fact]
    public void SecretsUnused_CountsVolumePluginsStorageAndRoles()
    {
        var volumes = "[{name: a, csi: {driver: secrets-store.csi.k8s.io, nodePublishSecretRef: {name: csi-creds}}}, {name: b, iscsi: {targetPortal: x, iqn: y, lun: 0, secretRef: {name: chap}}}, " +
            "{name: c, scaleIO: {gateway: g, system: s, secretRef: {name: scaleio}}}, {name: d, azureFile: {secretName: azure, shareName: share}}]";
        var yaml = Deployment("web", "pay", volumes: volumes) +
            Secret("csi-creds", "pay") + Secret("chap", "pay") + Secret("scaleio", "pay") + Secret("azure", "pay") +
            Secret("pv-creds", "pay") + Secret("provisioner", "pay") + Secret("read-by-role", "pay") + Secret("truly-unused", "pay") +
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {csi: {driver: d, volumeHandle: h, nodeStageSecretRef: {name: pv-creds, namespace: pay}}}\n---\n" +
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\nprovisioner: d\nparameters: {csi.storage.k8s.io/provisioner-secret-name: provisioner, csi.storage.k8s.io/provisioner-secret-namespace: pay}\n---\n" +
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: pay}\nrules: [{apiGroups: [''], resources: [secrets], resourceNames: [read-by-role], verbs: [get]}]\n";
        var result = Scans.Scan(yaml, time: Today);
        Assert.Equal(["Secret/truly-unused"], Of(result, "secrets/unused"));
    }

    [Theory]
    [InlineData("[{resources: [secrets], providers: [{identity: {}}, {aescbc: {keys: [{name: k, secret: c2VjcmV0}]}}]}]", true)]
    [InlineData("[{resources: [secrets], providers: [{aescbc: {keys: [{name: k, secret: c2VjcmV0}]}}, {identity: {}}]}]", false)]
    [InlineData("[{resources: [secrets], providers: [{kms: {apiVersion: v2, name: vault}}]}]", false)]
    [InlineData("[{resources: [configmaps], providers: [{aesgcm: {keys: []}}]}]", true)]
    public void Secrets_EncryptionAtRestConfiguration(string resources, bool finding)
    {
        var yaml = $"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: {resources}\n";
        Assert.Equal(finding, Scans.Scan(yaml, time: Today).Findings.Any(f => f.CheckId == "secrets/encryption-at-rest"));
    }

    [Fact]
    public void Upgrade_EndOfLifeVersionsAndRemovedApis()
    {
        var yaml =
            "apiVersion: skjold.io/v1alpha1\nkind: ClusterVersion\nmetadata: {name: cluster}\ngitVersion: v1.29.6\n---\n" +
            "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {nodeInfo: {kubeletVersion: v1.35.2}}\n---\n" +
            "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: pdb, namespace: a}\nspec: {minAvailable: 1}\n---\n" +
            "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: fs}\n---\n" +
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: a\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"web\"}}'\n";
        var result = Scans.Scan(yaml, time: Today);

        var eol = result.Findings.Where(f => f.CheckId == "upgrade/end-of-life").ToList();
        Assert.Equal(["ClusterVersion"], eol.Select(f => f.Resource.Kind)); // 1.35 is supported until 2027-02-28
        Assert.Contains("2025-02-28", eol[0].Message, StringComparison.Ordinal);
        Assert.Equal(["FlowSchema/fs", "Ingress/web", "PodDisruptionBudget/pdb"], Of(result, "upgrade/removed-api"));
        var ingress = result.Findings.Single(f => f.Resource.Name == "web");
        Assert.Contains("last applied as extensions/v1beta1", ingress.Message, StringComparison.Ordinal);

        // With an older upgrade target, FlowSchema v1beta3 (removed in 1.32) is only deprecated.
        var older = Scans.Scan(yaml, new ScanPolicy(PssLevel.Restricted, PssVersion.Latest) { UpgradeTargetMinor = 30 }, Today);
        Assert.Equal(["FlowSchema/fs"], Of(older, "upgrade/deprecated-api"));
    }

    [Fact]
    public void Upgrade_EndOfSupportWithinNinetyDaysIsAnnounced()
    {
        var soon = new FakeTimeProvider(new DateTimeOffset(2027, 1, 15, 0, 0, 0, TimeSpan.Zero));
        var result = Scans.Scan("apiVersion: skjold.io/v1alpha1\nkind: ClusterVersion\nmetadata: {name: cluster}\ngitVersion: v1.35.0\n", time: soon);
        Assert.Contains("within 90 days", Assert.Single(result.Findings, f => f.CheckId == "upgrade/end-of-life").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Residency_NodesVolumesAndRegistriesWithTheirEvidence()
    {
        static string Node(string name, string labels, string providerId) =>
            $"apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{{labels}}}}}\nspec: {{providerID: '{providerId}'}}\n---\n";
        var yaml =
            Node("eu", "topology.kubernetes.io/region: eu-north-1, topology.kubernetes.io/zone: eu-north-1a", "aws:///eu-north-1a/i-0abc") +
            Node("us", "topology.kubernetes.io/region: us-east-1", "aws:///us-east-1b/i-0def") +
            Node("liar", "topology.kubernetes.io/region: europe-west4", "gce://p/us-central1-a/liar") +
            Node("claim", "topology.kubernetes.io/region: europe-west1", "") +
            Node("unknown", "kubernetes.io/os: linux", "") +
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-us}\nspec: {nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [us-west-2a]}]}]}}}\n---\n" +
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-eu}\nspec: {nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [eu-central-1b]}]}]}}}\n---\n" +
            Deployment("ecr-us", "a", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1") +
            Deployment("ecr-eu", "a", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1") +
            Deployment("hub", "a", image: "nginx:1.27");
        var result = Scans.Scan(yaml, time: Today);
        var nodes = result.Findings.Where(f => f.CheckId == "residency/node-region").ToList();

        Assert.DoesNotContain(nodes, f => f.Resource.Name == "eu");
        Assert.Contains(nodes, f => f.Resource.Name == "us" && f.Message.Contains("provider ID aws:///us-east-1b/i-0def", StringComparison.Ordinal));
        Assert.Contains(nodes, f => f.Resource.Name == "liar" && f.Message.Contains("label says region europe-west4", StringComparison.Ordinal));
        Assert.Contains(nodes, f => f.Resource.Name == "claim" && f.Message.Contains("label only", StringComparison.Ordinal));
        Assert.Contains(nodes, f => f.Resource.Name == "unknown" && f.Message.Contains("cannot be established", StringComparison.Ordinal));
        Assert.Equal(["PersistentVolume/pv-us"], Of(result, "residency/volume-region"));
        Assert.Equal(["Deployment/ecr-us"], Of(result, "residency/registry"));
        Assert.Empty(Of(result, "residency/global-registry")); // off by default

        var strict = ConfigParser.Parse("checks:\n  enable: [residency/global-registry]\n", "skjold.yaml", Checks.CheckCatalog.Default);
        Assert.Equal(["Deployment/hub"], Of(Scans.Scan(yaml, strict, Today), "residency/global-registry"));
    }

    [Fact]
    public void Residency_AllowedRegionsAndDestinationsFromConfig()
    {
        var policy = ConfigParser.Parse("""
            residency:
              allowed: [eu-north-1]
              destinations:
                - {name: siem, region: eu-north-1}
                - {name: backup, region: us-east-1}
            """, "skjold.yaml", Checks.CheckCatalog.Default);
        var yaml = "apiVersion: v1\nkind: Node\nmetadata: {name: node-1, labels: {topology.kubernetes.io/region: eu-west-1}}\nspec: {providerID: 'aws:///eu-west-1a/i-1'}\n";
        var result = Scans.Scan(yaml, policy, Today);
        Assert.Single(result.Findings, f => f.CheckId == "residency/node-region"); // EU, but not the one region allowed
        var destination = Assert.Single(result.Findings, f => f.CheckId == "residency/destination");
        Assert.Contains("backup in us-east-1", destination.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LiveObjects_ControlledByAWorkloadInTheInputAreReportedOnce()
    {
        var yaml = Deployment("web", "a", image: "nginx:1.27") + """
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata: {name: web-1, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true, uid: x}]}
            spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: 'nginx:1.27'}]}}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1-abc, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, controller: true, uid: y}]}
            spec: {containers: [{name: c, image: 'nginx:1.27'}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: orphan, namespace: a, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: gone, controller: true, uid: z}]}
            spec: {containers: [{name: c, image: 'nginx:1.27'}]}
            """;
        var result = Scans.Scan(yaml, time: Today);
        var resources = result.Findings.Select(f => $"{f.Resource.Kind}/{f.Resource.Name}").Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Deployment/web", "Pod/orphan"], resources);
    }
}
