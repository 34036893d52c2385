using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skjold.TestSupport;

/// <summary>
/// Generates a cluster snapshot in the format <c>skjold snapshot</c> writes (a JSON List with a
/// ClusterVersion object and annotations). The fixed part is a small bank platform with planted
/// problems: a CI runner group that can create pods in <c>ci</c>, where the <c>deployer</c>
/// service account may bind any ClusterRole (a two-step path to cluster-admin); a human bound to
/// cluster-admin; a database secret in environment variables of four workloads; a legacy token
/// secret; a ConfigMap with a password; a node pool outside the EU; an end-of-life API server.
/// <paramref name="teams"/> adds generated team namespaces with realistic RBAC and workloads, for
/// benchmarks (500 teams ≈ 50,000 objects, 10,000 RoleBindings, 5,000 Roles). Deterministic.
/// </summary>
public sealed class ClusterGenerator(int teams, int seed = 20261124)
{
    private const string Created = "2026-10-01T08:00:00Z";
    private readonly Random _random = new(seed);
    private readonly List<JsonObject> _items = [];
    private int _uid;

    /// <summary>The example shipped in <c>snapshots/example-cluster.json</c>.</summary>
    public static ClusterGenerator Example() => new(teams: 3);

    public string Generate()
    {
        _items.Clear();
        _uid = 0;
        ClusterBase();
        Platform();
        for (var t = 0; t < teams; t++)
        {
            Team(t);
        }

        var list = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "List",
            ["items"] = new JsonArray([.. _items]),
            ["metadata"] = new JsonObject
            {
                ["annotations"] = new JsonObject
                {
                    ["skjold.io/snapshot-time"] = "2026-11-20T09:30:00Z",
                    ["skjold.io/server-version"] = "v1.29.6",
                    ["skjold.io/generated-by"] = $"Skjold.TestSupport.ClusterGenerator(teams: {teams})",
                },
            },
        };
        return list.ToJsonString(new JsonSerializerOptions { WriteIndented = teams <= 10, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    public void WriteTo(string path) => File.WriteAllText(path, Generate(), new UTF8Encoding(false));

    private void ClusterBase()
    {
        _items.Add(new JsonObject { ["apiVersion"] = "skjold.io/v1alpha1", ["kind"] = "ClusterVersion", ["metadata"] = new JsonObject { ["name"] = "cluster" }, ["gitVersion"] = "v1.29.6" });
        foreach (var ns in new[] { "kube-system", "kube-public", "default", "ci", "payments", "web", "monitoring", "skjold-system" })
        {
            Namespace(ns, ns is "payments" or "web" ? "restricted" : ns is "kube-system" ? "privileged" : "baseline");
            ServiceAccount(ns, "default");
        }

        // Nodes: two EU pools confirmed by provider IDs, one pool in the US, one node whose label claims a region its provider ID contradicts.
        for (var i = 0; i < 3; i++)
        {
            Node($"gke-prod-pool-a-{i}", "europe-north1", $"europe-north1-{(char)('a' + i)}", $"gce://bank-prod/europe-north1-{(char)('a' + i)}/gke-prod-pool-a-{i}");
        }

        Node("gke-prod-batch-0", "us-central1", "us-central1-b", "gce://bank-prod/us-central1-b/gke-prod-batch-0");
        Node("gke-prod-pool-b-0", "europe-west4", "europe-west4-a", "gce://bank-prod/us-east1-c/gke-prod-pool-b-0");

        Add(Meta("storage.k8s.io/v1", "StorageClass", null, "standard-rwo"), new JsonObject { ["provisioner"] = "pd.csi.storage.gke.io", ["reclaimPolicy"] = "Delete", ["volumeBindingMode"] = "WaitForFirstConsumer" });
        PersistentVolume("pvc-ledger-0", "europe-north1-a");
        PersistentVolume("pvc-archive-0", "us-central1-b");

        // Built-in roles, with the aggregation the API server sets up.
        ClusterRole("cluster-admin", [Rule(["*"], ["*"], ["*"])], system: true);
        ClusterRole("admin", [], aggregateFrom: "rbac.authorization.k8s.io/aggregate-to-admin", system: true);
        ClusterRole("edit", [], aggregateFrom: "rbac.authorization.k8s.io/aggregate-to-edit", labels: new() { ["rbac.authorization.k8s.io/aggregate-to-admin"] = "true" }, system: true);
        ClusterRole("view", [], aggregateFrom: "rbac.authorization.k8s.io/aggregate-to-view", labels: new() { ["rbac.authorization.k8s.io/aggregate-to-edit"] = "true" }, system: true);
        ClusterRole("system:aggregate-to-view", [Rule([""], ["pods", "services", "configmaps", "endpoints", "persistentvolumeclaims"], ["get", "list", "watch"]), Rule(["apps"], ["deployments", "statefulsets", "daemonsets", "replicasets"], ["get", "list", "watch"])],
            labels: new() { ["rbac.authorization.k8s.io/aggregate-to-view"] = "true" }, system: true);
        ClusterRole("system:aggregate-to-edit", [Rule([""], ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims"], ["create", "delete", "patch", "update", "get", "list", "watch"]), Rule([""], ["pods/exec", "pods/attach"], ["create", "get"]), Rule(["apps"], ["deployments", "statefulsets", "daemonsets", "replicasets"], ["create", "delete", "patch", "update"])],
            labels: new() { ["rbac.authorization.k8s.io/aggregate-to-edit"] = "true" }, system: true);
        ClusterRole("system:aggregate-to-admin", [Rule(["rbac.authorization.k8s.io"], ["roles", "rolebindings"], ["create", "delete", "patch", "update", "get", "list", "watch"])],
            labels: new() { ["rbac.authorization.k8s.io/aggregate-to-admin"] = "true" }, system: true);
        ClusterRole("system:node", [Rule([""], ["secrets", "configmaps"], ["get", "list", "watch"]), Rule([""], ["nodes", "nodes/status"], ["get", "patch", "update"])], system: true);
        ClusterRole("system:controller:replicaset-controller", [Rule([""], ["pods"], ["create", "delete", "list", "watch", "patch"])], system: true);
        ClusterRoleBinding("cluster-admin", "cluster-admin", [Subject("Group", "system:masters")], system: true);
        ClusterRoleBinding("system:node", "system:node", [Subject("Group", "system:nodes")], system: true);
        ClusterRoleBinding("system:controller:replicaset-controller", "system:controller:replicaset-controller", [Sa("kube-system", "replicaset-controller")], system: true);
        ServiceAccount("kube-system", "replicaset-controller");
        ServiceAccount("kube-system", "coredns");
        Deployment("kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.11.1", "coredns", replicas: 2, hardened: true, port: 53);
    }

    private void Platform()
    {
        const string Registry = "europe-north1-docker.pkg.dev/bank-prod/apps";

        // CI: runners may create pods in ci; ci/deployer may bind any ClusterRole cluster-wide.
        ServiceAccount("ci", "runner");
        ServiceAccount("ci", "deployer");
        Role("ci", "pipeline-runner", [Rule([""], ["pods", "pods/log"], ["create", "get", "list", "watch", "delete"]), Rule([""], ["configmaps"], ["get", "list"])]);
        RoleBinding("ci", "runners", "Role", "pipeline-runner", [Subject("Group", "ci-runners"), Sa("ci", "runner")]);
        ClusterRole("release-manager", [Rule(["apps"], ["deployments"], ["get", "list", "patch", "update"]), Rule(["rbac.authorization.k8s.io"], ["clusterrolebindings", "rolebindings"], ["create", "update"]), Rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["bind"])]);
        ClusterRoleBinding("ci-deployer", "release-manager", [Sa("ci", "deployer")]);
        Deployment("ci", "gitlab-runner", "registry.gitlab.com/gitlab-org/gitlab-runner:v17.5.0", "runner", replicas: 1, hardened: false);
        Secret("ci", "deployer-token", "kubernetes.io/service-account-token", new() { ["kubernetes.io/service-account.name"] = "deployer" });
        Secret("ci", "registry-credentials", "kubernetes.io/dockerconfigjson");

        // People: one engineer bound to cluster-admin directly, an SRE group that can exec everywhere.
        ClusterRoleBinding("break-glass-kari", "cluster-admin", [Subject("User", "kari.nordmann@bank.example")]);
        ClusterRole("sre-debug", [Rule([""], ["pods/exec", "pods/portforward"], ["create"]), Rule([""], ["pods", "pods/log", "events"], ["get", "list", "watch"])]);
        ClusterRoleBinding("sre-debug", "sre-debug", [Subject("Group", "sre")]);
        ClusterRole("secret-auditor", [Rule([""], ["secrets"], ["get", "list"])]);
        ClusterRoleBinding("secret-auditor", "secret-auditor", [Subject("User", "auditor@bank.example")]);

        // Payments: hardened workloads sharing one database secret through environment variables.
        ServiceAccount("payments", "ledger");
        ServiceAccount("payments", "gateway");
        Secret("payments", "ledger-db", "Opaque");
        Secret("payments", "old-api-key", "Opaque");
        Secret("payments", "gateway-tls", "kubernetes.io/tls");
        foreach (var app in new[] { "ledger", "gateway", "settlement", "reconciler" })
        {
            Deployment("payments", app, $"{Registry}/{app}:2.4.1", app is "ledger" or "gateway" ? app : "default", replicas: 2, hardened: true, envSecret: "ledger-db", port: 8080);
        }

        StatefulSet("payments", "ledger-db", $"{Registry}/postgres:16.4", "pvc-ledger-0");
        RoleBinding("payments", "default-edit", "ClusterRole", "edit", [Sa("payments", "default")]);
        RoleBinding("payments", "gateway-reader", "Role", "gateway-config-reader", [Sa("payments", "gateway")]);
        NetworkPolicy("payments");
        Ingress("payments", "gateway", "pay.bank.example", "gateway-tls");

        // Web: a front end pulled from Docker Hub and a ConfigMap with a credential in it.
        Deployment("web", "frontend", "docker.io/library/nginx:1.27", "default", replicas: 3, hardened: false, port: 80);
        ConfigMap("web", "frontend-config", new() { ["API_URL"] = "https://api.bank.example", ["SMTP_PASSWORD"] = "Spring2026!" });
        RoleBinding("web", "deploy-bot", "ClusterRole", "edit", [Sa("web", "deploy-bot")]);

        // Monitoring: an exporter image from a US registry and an archive volume pinned to a US zone.
        ServiceAccount("monitoring", "prometheus");
        ClusterRole("prometheus", [Rule([""], ["nodes", "nodes/metrics", "services", "endpoints", "pods"], ["get", "list", "watch"]), Rule([""], ["nodes/proxy"], ["get"])]);
        ClusterRoleBinding("prometheus", "prometheus", [Sa("monitoring", "prometheus")]);
        Deployment("monitoring", "prometheus", "us-docker.pkg.dev/vendor-public/images/prometheus:v2.54.1", "prometheus", replicas: 1, hardened: true, port: 9090);

        // Skjold itself.
        ServiceAccount("skjold-system", "skjold");
        Deployment("skjold-system", "skjold", $"{Registry}/skjold:0.1.0", "skjold", replicas: 2, hardened: true, port: 8443);
    }

    private void Team(int t)
    {
        var ns = $"team-{t:D3}";
        Namespace(ns, t % 3 == 0 ? "baseline" : "restricted");
        string[] accounts = ["default", "app", "worker", "batch", "deploy"];
        foreach (var sa in accounts)
        {
            ServiceAccount(ns, sa);
        }

        const string Registry = "europe-north1-docker.pkg.dev/bank-prod/teams";

        // Ten roles per team, of increasing reach.
        string[] roles = ["viewer", "config-reader", "log-reader", "developer", "deployer", "job-runner", "secret-reader", "debugger", "scaler", "owner"];
        Role(ns, "viewer", [Rule([""], ["pods", "services", "configmaps"], ["get", "list", "watch"])]);
        Role(ns, "config-reader", [Rule([""], ["configmaps"], ["get"], names: ["app-config"])]);
        Role(ns, "log-reader", [Rule([""], ["pods", "pods/log"], ["get", "list"])]);
        Role(ns, "developer", [Rule([""], ["pods", "services", "configmaps"], ["get", "list", "watch", "update", "patch"]), Rule(["apps"], ["deployments"], ["get", "list", "watch"])]);
        Role(ns, "deployer", [Rule(["apps"], ["deployments", "statefulsets"], ["create", "update", "patch", "delete", "get", "list"])]);
        Role(ns, "job-runner", [Rule(["batch"], ["jobs", "cronjobs"], ["create", "get", "list", "delete"])]);
        Role(ns, "secret-reader", [Rule([""], ["secrets"], ["get"], names: ["app-db"])]);
        Role(ns, "debugger", [Rule([""], ["pods/exec"], ["create"]), Rule([""], ["pods"], ["get", "list"])]);
        Role(ns, "scaler", [Rule(["apps"], ["deployments/scale"], ["update", "patch"])]);
        Role(ns, "owner", [Rule(["", "apps", "batch"], ["*"], ["*"])]);

        // Twenty bindings per team: people, groups and service accounts.
        for (var b = 0; b < 20; b++)
        {
            var role = roles[b % roles.Length];
            var subject = (b % 4) switch
            {
                0 => Subject("User", $"user-{t * 7 + b % 7}@bank.example"),
                1 => Subject("Group", $"team-{t:D3}-{(b % 3 == 0 ? "devs" : "ops")}"),
                2 => Sa(ns, accounts[1 + b % 4]),
                _ => Subject("User", $"contractor-{_random.Next(teams * 3)}@partner.example"),
            };
            RoleBinding(ns, $"{role}-{b:D2}", "Role", role, [subject]);
        }

        // Every fifth team lets its deploy account read secrets cluster-wide: one more escalation target.
        if (t % 5 == 4)
        {
            ClusterRoleBinding($"{ns}-deploy-secrets", "secret-auditor", [Sa(ns, "deploy")]);
        }

        // Workloads: eight deployments with their replica sets and pods.
        Secret(ns, "app-db", "Opaque");
        Secret(ns, "app-tls", "kubernetes.io/tls");
        Secret(ns, "legacy-token", "kubernetes.io/service-account-token", new() { ["kubernetes.io/service-account.name"] = "worker" });
        Secret(ns, "unused-api-key", "Opaque");
        Secret(ns, "registry-pull", "kubernetes.io/dockerconfigjson");
        Secret(ns, "webhook-hmac", "Opaque");
        ConfigMap(ns, "app-config", new() { ["LOG_LEVEL"] = "info", ["FEATURE_FLAGS"] = "a,b" });
        ConfigMap(ns, "kube-root-ca.crt", new() { ["ca.crt"] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" });
        for (var c = 0; c < 4; c++)
        {
            ConfigMap(ns, $"settings-{c}", new() { ["TIMEOUT"] = "30s", ["REGION"] = "europe-north1" });
        }

        for (var d = 0; d < 8; d++)
        {
            var image = d == 7 && t % 4 == 0 ? $"docker.io/library/redis:7.{d}" : $"{Registry}/svc-{d}:1.{t % 10}.{d}";
            Deployment(ns, $"svc-{d}", image, accounts[1 + d % 3], replicas: 3, hardened: d % 4 != 3, envSecret: d < 2 ? "app-db" : null, port: 8080);
        }

        for (var s = 0; s < 6; s++)
        {
            Add(Meta("v1", "Service", ns, s < 8 ? $"svc-{s}" : $"extra-{s}"), new JsonObject
            {
                ["spec"] = new JsonObject { ["selector"] = new JsonObject { ["app"] = $"svc-{s}" }, ["ports"] = new JsonArray(new JsonObject { ["port"] = 80, ["targetPort"] = 8080 }) },
            });
        }

        NetworkPolicy(ns);
        Ingress(ns, "svc-0", $"{ns}.apps.bank.example", "app-tls");
    }

    // ---- object builders -------------------------------------------------------------------

    private void Namespace(string name, string level)
    {
        var md = Metadata(null, name);
        md["labels"] = new JsonObject
        {
            ["kubernetes.io/metadata.name"] = name,
            ["pod-security.kubernetes.io/enforce"] = level,
            ["pod-security.kubernetes.io/enforce-version"] = "latest",
        };
        _items.Add(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = md, ["status"] = new JsonObject { ["phase"] = "Active" } });
    }

    private void ServiceAccount(string ns, string name) => Add(Meta("v1", "ServiceAccount", ns, name), []);

    private void Node(string name, string region, string zone, string providerId)
    {
        var md = Metadata(null, name);
        md["labels"] = new JsonObject
        {
            ["kubernetes.io/hostname"] = name,
            ["kubernetes.io/os"] = "linux",
            ["node.kubernetes.io/instance-type"] = "n2-standard-8",
            ["topology.kubernetes.io/region"] = region,
            ["topology.kubernetes.io/zone"] = zone,
        };
        _items.Add(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = md,
            ["spec"] = new JsonObject { ["providerID"] = providerId, ["podCIDR"] = $"10.4.{_items.Count % 250}.0/24" },
            ["status"] = new JsonObject
            {
                ["nodeInfo"] = new JsonObject { ["kubeletVersion"] = "v1.29.6-gke.1038001", ["osImage"] = "Container-Optimized OS from Google", ["containerRuntimeVersion"] = "containerd://1.7.15" },
            },
        });
    }

    private void PersistentVolume(string name, string zone) => Add(Meta("v1", "PersistentVolume", null, name), new JsonObject
    {
        ["spec"] = new JsonObject
        {
            ["capacity"] = new JsonObject { ["storage"] = "100Gi" },
            ["accessModes"] = new JsonArray("ReadWriteOnce"),
            ["storageClassName"] = "standard-rwo",
            ["csi"] = new JsonObject { ["driver"] = "pd.csi.storage.gke.io", ["volumeHandle"] = $"projects/bank-prod/zones/{zone}/disks/{name}" },
            ["nodeAffinity"] = new JsonObject
            {
                ["required"] = new JsonObject
                {
                    ["nodeSelectorTerms"] = new JsonArray(new JsonObject
                    {
                        ["matchExpressions"] = new JsonArray(new JsonObject { ["key"] = "topology.kubernetes.io/zone", ["operator"] = "In", ["values"] = new JsonArray(zone) }),
                    }),
                },
            },
        },
    });

    private void Secret(string ns, string name, string type, Dictionary<string, string>? annotations = null)
    {
        var md = Metadata(ns, name);
        if (annotations is not null)
        {
            md["annotations"] = Obj(annotations);
        }

        // Metadata only, as skjold snapshot reads secrets (PartialObjectMetadata carries no type or data);
        // the type is kept in the generator's own label so the example reads naturally.
        md["labels"] = new JsonObject { ["skjold.example/type"] = type.Replace('/', '.') };
        _items.Add(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = md });
    }

    private void ConfigMap(string ns, string name, Dictionary<string, string> data) => Add(Meta("v1", "ConfigMap", ns, name), new JsonObject { ["data"] = Obj(data) });

    private void NetworkPolicy(string ns)
    {
        Add(Meta("networking.k8s.io/v1", "NetworkPolicy", ns, "default-deny"), new JsonObject
        {
            ["spec"] = new JsonObject { ["podSelector"] = new JsonObject(), ["policyTypes"] = new JsonArray("Ingress", "Egress") },
        });
        if (ns == "payments")
        {
            return; // the planted mistake: default deny without a way to DNS
        }

        Add(Meta("networking.k8s.io/v1", "NetworkPolicy", ns, "allow-dns"), new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["podSelector"] = new JsonObject(),
                ["policyTypes"] = new JsonArray("Egress"),
                ["egress"] = new JsonArray(new JsonObject
                {
                    ["to"] = new JsonArray(new JsonObject
                    {
                        ["namespaceSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["kubernetes.io/metadata.name"] = "kube-system" } },
                        ["podSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["k8s-app"] = "kube-dns" } },
                    }),
                    ["ports"] = new JsonArray(new JsonObject { ["port"] = 53, ["protocol"] = "UDP" }, new JsonObject { ["port"] = 53, ["protocol"] = "TCP" }),
                }),
            },
        });
        Add(Meta("networking.k8s.io/v1", "NetworkPolicy", ns, "allow-ingress-controller"), new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["podSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "svc-0" } },
                ["policyTypes"] = new JsonArray("Ingress"),
                ["ingress"] = new JsonArray(new JsonObject
                {
                    ["from"] = new JsonArray(new JsonObject
                    {
                        ["namespaceSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["kubernetes.io/metadata.name"] = "ingress-nginx" } },
                    }),
                    ["ports"] = new JsonArray(new JsonObject { ["port"] = 8080, ["protocol"] = "TCP" }),
                }),
            },
        });
    }

    private void Ingress(string ns, string service, string host, string tlsSecret) => Add(Meta("networking.k8s.io/v1", "Ingress", ns, service), new JsonObject
    {
        ["spec"] = new JsonObject
        {
            ["ingressClassName"] = "gce",
            ["tls"] = new JsonArray(new JsonObject { ["hosts"] = new JsonArray(host), ["secretName"] = tlsSecret }),
            ["rules"] = new JsonArray(new JsonObject
            {
                ["host"] = host,
                ["http"] = new JsonObject
                {
                    ["paths"] = new JsonArray(new JsonObject
                    {
                        ["path"] = "/",
                        ["pathType"] = "Prefix",
                        ["backend"] = new JsonObject { ["service"] = new JsonObject { ["name"] = service, ["port"] = new JsonObject { ["number"] = 80 } } },
                    }),
                },
            }),
        },
    });

    private void Deployment(string ns, string name, string image, string serviceAccount, int replicas, bool hardened, string? envSecret = null, int port = 8080)
    {
        var labels = new JsonObject { ["app"] = name };
        var template = PodTemplate(name, image, serviceAccount, hardened, envSecret, port);
        var md = Metadata(ns, name);
        md["labels"] = labels.DeepClone();
        _items.Add(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = md,
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["selector"] = new JsonObject { ["matchLabels"] = labels.DeepClone() },
                ["template"] = template.DeepClone(),
            },
        });

        var hash = _random.Next(0x10000000, 0x7fffffff).ToString("x8", CultureInfo.InvariantCulture)[..8];
        var rsName = $"{name}-{hash}";
        var rsMd = Metadata(ns, rsName);
        rsMd["labels"] = new JsonObject { ["app"] = name, ["pod-template-hash"] = hash };
        rsMd["ownerReferences"] = Owner("apps/v1", "Deployment", name);
        _items.Add(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = rsMd,
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name, ["pod-template-hash"] = hash } },
                ["template"] = template.DeepClone(),
            },
        });

        for (var i = 0; i < replicas; i++)
        {
            var podMd = Metadata(ns, $"{rsName}-{Suffix()}");
            podMd["labels"] = new JsonObject { ["app"] = name, ["pod-template-hash"] = hash };
            podMd["ownerReferences"] = Owner("apps/v1", "ReplicaSet", rsName);
            var spec = (JsonObject)template["spec"]!.DeepClone();
            spec["nodeName"] = $"gke-prod-pool-a-{i % 3}";
            _items.Add(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = podMd,
                ["spec"] = spec,
                ["status"] = new JsonObject { ["phase"] = "Running", ["podIP"] = $"10.8.{_items.Count / 250 % 250}.{_items.Count % 250}" },
            });
        }
    }

    private void StatefulSet(string ns, string name, string image, string volume)
    {
        var template = PodTemplate(name, image, "default", hardened: true, envSecret: null, port: 5432);
        var md = Metadata(ns, name);
        md["labels"] = new JsonObject { ["app"] = name };
        _items.Add(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "StatefulSet",
            ["metadata"] = md,
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["serviceName"] = name,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = template,
                ["volumeClaimTemplates"] = new JsonArray(new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = "data" },
                    ["spec"] = new JsonObject { ["accessModes"] = new JsonArray("ReadWriteOnce"), ["volumeName"] = volume, ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = "100Gi" } } },
                }),
            },
        });
    }

    private static JsonObject PodTemplate(string app, string image, string serviceAccount, bool hardened, string? envSecret, int port)
    {
        var container = new JsonObject
        {
            ["name"] = app,
            ["image"] = image,
            ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = port }),
            ["resources"] = new JsonObject
            {
                ["requests"] = new JsonObject { ["cpu"] = "100m", ["memory"] = "128Mi" },
                ["limits"] = new JsonObject { ["memory"] = "256Mi" },
            },
        };
        if (envSecret is not null)
        {
            container["env"] = new JsonArray(new JsonObject
            {
                ["name"] = "DATABASE_PASSWORD",
                ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = envSecret, ["key"] = "password" } },
            });
        }

        var spec = new JsonObject { ["serviceAccountName"] = serviceAccount, ["containers"] = new JsonArray(container) };
        if (hardened)
        {
            container["securityContext"] = new JsonObject
            {
                ["allowPrivilegeEscalation"] = false,
                ["readOnlyRootFilesystem"] = true,
                ["capabilities"] = new JsonObject { ["drop"] = new JsonArray("ALL") },
            };
            container["livenessProbe"] = new JsonObject { ["tcpSocket"] = new JsonObject { ["port"] = port } };
            container["readinessProbe"] = new JsonObject { ["tcpSocket"] = new JsonObject { ["port"] = port } };
            spec["automountServiceAccountToken"] = false;
            spec["securityContext"] = new JsonObject
            {
                ["runAsNonRoot"] = true,
                ["runAsUser"] = 10001,
                ["seccompProfile"] = new JsonObject { ["type"] = "RuntimeDefault" },
            };
        }

        return new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = app } }, ["spec"] = spec };
    }

    private void Role(string ns, string name, JsonObject[] rules) =>
        Add(Meta("rbac.authorization.k8s.io/v1", "Role", ns, name), new JsonObject { ["rules"] = new JsonArray([.. rules]) });

    private void ClusterRole(string name, JsonObject[] rules, string? aggregateFrom = null, Dictionary<string, string>? labels = null, bool system = false)
    {
        var md = Metadata(null, name);
        var l = labels ?? [];
        if (system)
        {
            l["kubernetes.io/bootstrapping"] = "rbac-defaults";
        }

        if (l.Count > 0)
        {
            md["labels"] = Obj(l);
        }

        var role = new JsonObject { ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "ClusterRole", ["metadata"] = md, ["rules"] = new JsonArray([.. rules]) };
        if (aggregateFrom is not null)
        {
            role["aggregationRule"] = new JsonObject
            {
                ["clusterRoleSelectors"] = new JsonArray(new JsonObject { ["matchLabels"] = new JsonObject { [aggregateFrom] = "true" } }),
            };
        }

        _items.Add(role);
    }

    private void RoleBinding(string ns, string name, string roleKind, string role, JsonObject[] subjects) =>
        Add(Meta("rbac.authorization.k8s.io/v1", "RoleBinding", ns, name), new JsonObject
        {
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = role },
            ["subjects"] = new JsonArray([.. subjects]),
        });

    private void ClusterRoleBinding(string name, string role, JsonObject[] subjects, bool system = false)
    {
        var binding = Meta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", null, name);
        if (system)
        {
            ((JsonObject)binding["metadata"]!)["labels"] = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" };
        }

        Add(binding, new JsonObject
        {
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = role },
            ["subjects"] = new JsonArray([.. subjects]),
        });
    }

    private static JsonObject Rule(string[] groups, string[] resources, string[] verbs, string[]? names = null)
    {
        var rule = new JsonObject
        {
            ["apiGroups"] = new JsonArray([.. groups.Select(g => (JsonNode)JsonValue.Create(g))]),
            ["resources"] = new JsonArray([.. resources.Select(r => (JsonNode)JsonValue.Create(r))]),
            ["verbs"] = new JsonArray([.. verbs.Select(v => (JsonNode)JsonValue.Create(v))]),
        };
        if (names is not null)
        {
            rule["resourceNames"] = new JsonArray([.. names.Select(n => (JsonNode)JsonValue.Create(n))]);
        }

        return rule;
    }

    private static JsonObject Subject(string kind, string name) => new() { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = kind, ["name"] = name };

    private static JsonObject Sa(string ns, string name) => new() { ["kind"] = "ServiceAccount", ["name"] = name, ["namespace"] = ns };

    private JsonObject Meta(string apiVersion, string kind, string? ns, string name) =>
        new() { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = Metadata(ns, name) };

    private JsonObject Metadata(string? ns, string name)
    {
        var md = new JsonObject { ["name"] = name };
        if (ns is not null)
        {
            md["namespace"] = ns;
        }

        md["uid"] = $"0b5e{_uid++:x8}-5c1d-4e2f-9a3b-{_uid * 7919 % 0xffffff:x12}";
        md["resourceVersion"] = (100000 + _uid).ToString(CultureInfo.InvariantCulture);
        md["creationTimestamp"] = Created;
        return md;
    }

    private static JsonArray Owner(string apiVersion, string kind, string name) =>
        new(new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind, ["name"] = name, ["controller"] = true, ["uid"] = $"owner-{name}" });

    private string Suffix()
    {
        const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, _random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[r.Next(Alphabet.Length)];
            }
        });
    }

    private static JsonObject Obj(Dictionary<string, string> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values)
        {
            o[k] = v;
        }

        return o;
    }

    private void Add(JsonObject head, JsonObject body)
    {
        foreach (var (k, v) in body.ToList())
        {
            body.Remove(k);
            head[k] = v;
        }

        _items.Add(head);
    }
}
