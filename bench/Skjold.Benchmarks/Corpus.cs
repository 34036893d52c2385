using System.Globalization;
using System.Text;

namespace Skjold.Benchmarks;

/// <summary>
/// Generates a deterministic corpus of Kubernetes objects: Deployments (half hardened, half not),
/// StatefulSets, CronJobs, Services, ConfigMaps, ServiceAccounts and PodDisruptionBudgets, in
/// multi-document YAML files and as one kubectl-style JSON List.
/// </summary>
internal static class Corpus
{
    public const string TypicalDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: checkout
          namespace: shop
          labels: {app: checkout, team: payments}
        spec:
          replicas: 3
          selector:
            matchLabels: {app: checkout}
          template:
            metadata:
              labels: {app: checkout}
              annotations: {prometheus.io/scrape: "true"}
            spec:
              serviceAccountName: checkout
              automountServiceAccountToken: false
              securityContext:
                runAsNonRoot: true
                runAsUser: 10001
                seccompProfile: {type: RuntimeDefault}
              containers:
              - name: app
                image: registry.example.com/shop/checkout:3.2.1
                ports: [{name: http, containerPort: 8080}]
                env:
                - {name: LOG_LEVEL, value: info}
                - {name: DB_HOST, value: db.shop.svc}
                resources:
                  requests: {cpu: 200m, memory: 256Mi}
                  limits: {memory: 512Mi}
                livenessProbe: {httpGet: {path: /healthz, port: http}}
                readinessProbe: {httpGet: {path: /readyz, port: http}}
                securityContext:
                  allowPrivilegeEscalation: false
                  readOnlyRootFilesystem: true
                  capabilities: {drop: [ALL]}
                volumeMounts: [{name: tmp, mountPath: /tmp}]
              - name: proxy
                image: registry.example.com/mesh/proxy:1.21.0
                securityContext:
                  allowPrivilegeEscalation: false
                  capabilities: {drop: [ALL]}
              volumes:
              - {name: tmp, emptyDir: {}}
        """;

    public static string Object(int i)
    {
        var ns = "team-" + (i % 200).ToString(CultureInfo.InvariantCulture);
        var name = "svc-" + i.ToString(CultureInfo.InvariantCulture);
        var template = (i % 10) switch
        {
            0 or 1 or 2 => TypicalDeployment.Replace("name: checkout\n  namespace: shop", "name: NAME\n  namespace: NS", StringComparison.Ordinal),
            3 => TypicalDeployment
                .Replace("name: checkout\n  namespace: shop", "name: NAME\n  namespace: NS", StringComparison.Ordinal)
                .Replace("allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true", "privileged: true", StringComparison.Ordinal)
                .Replace(":3.2.1", ":latest", StringComparison.Ordinal),
            4 => """
                apiVersion: v1
                kind: Service
                metadata: {name: NAME, namespace: NS}
                spec:
                  type: TYPE
                  selector: {app: NAME}
                  ports: [{name: http, port: 80, targetPort: http}]
                """.Replace("TYPE", i % 20 == 4 ? "LoadBalancer" : "ClusterIP", StringComparison.Ordinal),
            5 => """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: NAME, namespace: NS}
                data:
                  application.properties: |
                    server.port=8080
                    feature.flags=a,b,c
                  LOG_FORMAT: json
                """,
            6 => """
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: NAME, namespace: NS}
                automountServiceAccountToken: false
                """,
            7 => """
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata: {name: NAME, namespace: NS}
                spec:
                  minAvailable: 1
                  selector: {matchLabels: {app: NAME}}
                """,
            8 => """
                apiVersion: batch/v1
                kind: CronJob
                metadata: {name: NAME, namespace: NS}
                spec:
                  schedule: "0 3 * * *"
                  jobTemplate:
                    spec:
                      ttlSecondsAfterFinished: 3600
                      template:
                        spec:
                          restartPolicy: OnFailure
                          containers:
                          - name: job
                            image: registry.example.com/tools/report:1.0
                            resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
                """,
            _ => """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: NAME, namespace: NS}
                spec:
                  replicas: 3
                  serviceName: NAME
                  selector: {matchLabels: {app: NAME}}
                  template:
                    metadata: {labels: {app: NAME}}
                    spec:
                      containers:
                      - name: db
                        image: postgres:16
                        env: [{name: POSTGRES_PASSWORD, value: "s3cret-pass"}]
                        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
                  volumeClaimTemplates:
                  - metadata: {name: data}
                    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
                """,
        };
        return template.Replace("NAME", name, StringComparison.Ordinal).Replace("NS", ns, StringComparison.Ordinal);
    }

    /// <summary>Writes <paramref name="count"/> objects as YAML files of 100 documents each; returns the directory.</summary>
    public static string WriteYaml(string root, int count)
    {
        var dir = Path.Combine(root, "yaml");
        Directory.CreateDirectory(dir);
        for (var f = 0; f * 100 < count; f++)
        {
            var sb = new StringBuilder();
            for (var i = f * 100; i < Math.Min(count, (f + 1) * 100); i++)
            {
                sb.Append("---\n").Append(Object(i)).Append('\n');
            }

            File.WriteAllText(Path.Combine(dir, $"objects-{f:D4}.yaml"), sb.ToString());
        }

        return dir;
    }

    /// <summary>Writes the same objects as one kubectl List in JSON; returns the file path.</summary>
    public static string WriteJson(string root, string yamlDir)
    {
        var loaded = new Kubernetes.Loading.ManifestLoader().LoadPaths([yamlDir]);
        var path = Path.Combine(root, "objects.json");
        using var stream = File.Create(path);
        using var w = new System.Text.Json.Utf8JsonWriter(stream, new System.Text.Json.JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("apiVersion", "v1");
        w.WriteString("kind", "List");
        w.WriteStartArray("items");
        foreach (var r in loaded.Resources)
        {
            r.Root.WriteTo(w);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        return path;
    }
}
