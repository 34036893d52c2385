using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Pss;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Cluster;

/// <summary>
/// Secrets hygiene across the cluster: a secret used by many workloads (sprawl), legacy
/// service-account token secrets, secrets nothing uses, ConfigMaps that hold credentials, and the
/// API server's encryption-at-rest configuration when it is part of the input.
/// </summary>
internal sealed class SecretsChecks : ClusterCheck
{
    public const int SprawlThreshold = 3;

    public override IReadOnlyList<string> Ids { get; } =
        ["secrets/sprawl", "secrets/legacy-sa-token", "secrets/unused", "secrets/configmap-credential", "secrets/encryption-at-rest"];

    public override void Evaluate(ClusterContext context, ClusterSink sink)
    {
        var users = new Dictionary<(string Ns, string Name), HashSet<string>>();
        var referenced = new HashSet<(string Ns, string Name)>();
        var anyNamespace = new HashSet<string>(StringComparer.Ordinal);
        var namespacesWithWorkloads = new HashSet<string>();
        var view = new PodTemplateView();
        foreach (var r in context.Resources)
        {
            var ns = r.Ref.Namespace ?? "default";
            if (PodTemplateView.TryLocate(r.Root, r.Kind, out var template, out var path))
            {
                if (context.Index.IsCoveredByController(r))
                {
                    // Pods and ReplicaSets of a controller in the input are counted through the controller.
                    CollectReferences(template, path, ns, referenced, null, view);
                    continue;
                }

                namespacesWithWorkloads.Add(ns);
                CollectReferences(template, path, ns, referenced, (users, $"{r.Kind}/{r.Ref.Name}"), view);
            }
            else if (r.Kind == "ServiceAccount")
            {
                foreach (var field in new[] { "secrets", "imagePullSecrets" })
                {
                    var list = Json.Get(r.Root, field);
                    if (list.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var s in list.EnumerateArray())
                        {
                            if (Json.GetString(s, "name") is { } n)
                            {
                                referenced.Add((ns, n));
                            }
                        }
                    }
                }
            }
            else if (r.Kind is "PersistentVolume" or "StorageClass")
            {
                foreach (var (refNs, name) in StorageSecretReferences(r))
                {
                    referenced.Add((refNs ?? ns, name));
                }
            }
            else if (r.Kind is "Role" or "ClusterRole" && r.Ref.ApiVersion.StartsWith("rbac.authorization.k8s.io/", StringComparison.Ordinal))
            {
                // A rule naming secrets by resourceNames means someone reads them through the API.
                foreach (var name in SecretResourceNames(r.Root))
                {
                    if (r.Kind == "Role")
                    {
                        referenced.Add((ns, name));
                    }
                    else
                    {
                        anyNamespace.Add(name);
                    }
                }
            }
            else if (r.Kind == "Ingress")
            {
                var tls = Json.Get(Json.Get(r.Root, "spec"u8), "tls"u8);
                if (tls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var t in tls.EnumerateArray())
                    {
                        if (Json.GetString(t, "secretName") is { } n)
                        {
                            referenced.Add((ns, n));
                        }
                    }
                }
            }
        }

        foreach (var r in context.Resources)
        {
            var ns = r.Ref.Namespace ?? "default";
            switch (r.Kind)
            {
                case "Secret":
                    var type = Json.GetString(r.Root, "type") ?? string.Empty;
                    var saOwner = Json.GetString(Json.Get(Json.Get(r.Root, "metadata"u8), "annotations"u8), "kubernetes.io/service-account.name");
                    if (type == "kubernetes.io/service-account-token" || saOwner is not null)
                    {
                        sink.Report("secrets/legacy-sa-token", r, saOwner is not null ? "metadata.annotations" : "type",
                            $"long-lived token secret for service account {ns}/{saOwner ?? "?"}; it never expires and anyone who can read secrets in {ns} can use it");
                        continue;
                    }

                    if (users.TryGetValue((ns, r.Ref.Name), out var who) && who.Count > SprawlThreshold)
                    {
                        sink.Report("secrets/sprawl", r, "metadata.name",
                            $"used by {who.Count} workloads ({string.Join(", ", who.Order(StringComparer.Ordinal).Take(5))}{(who.Count > 5 ? ", ..." : string.Empty)}); a compromise of any of them exposes it");
                    }

                    if (!referenced.Contains((ns, r.Ref.Name)) && !anyNamespace.Contains(r.Ref.Name) && namespacesWithWorkloads.Contains(ns) && ns != "kube-system"
                        && type is not ("helm.sh/release.v1" or "bootstrap.kubernetes.io/token")
                        && Json.GetString(Json.Get(Json.Get(r.Root, "metadata"u8), "labels"u8), "owner") != "helm")
                    {
                        sink.Report("secrets/unused", r, "metadata.name", $"no workload, service account or ingress in {ns} uses this secret");
                    }

                    break;
                case "ConfigMap":
                    var data = Json.Get(r.Root, "data"u8);
                    if (data.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var p in data.EnumerateObject())
                        {
                            if (p.Value.ValueKind == JsonValueKind.String && (CredentialPatterns.LooksLikeCredential(p.Name, p.Value.GetString()!) || HoldsCredentialLine(p.Value.GetString()!)))
                            {
                                sink.Report("secrets/configmap-credential", r, JsonPath.Child("data", p.Name), $"key {p.Name} holds a value that looks like a credential");
                            }
                        }
                    }

                    break;
                case "EncryptionConfiguration":
                    EvaluateEncryption(r, sink);
                    break;
                default:
                    break;
            }
        }
    }

    private static bool HoldsCredentialLine(string value)
    {
        // Configuration files in a ConfigMap: KEY=value or key: value lines with credential names.
        foreach (var line in value.Split('\n'))
        {
            var sep = line.IndexOfAny(['=', ':']);
            if (sep > 0 && CredentialPatterns.LooksLikeCredential(line[..sep].Trim().Replace('.', '_'), line[(sep + 1)..].Trim().Trim('"', '\'')))
            {
                return true;
            }
        }

        return false;
    }

    private static void EvaluateEncryption(Resource r, ClusterSink sink)
    {
        var resources = Json.Get(r.Root, "resources"u8);
        var coversSecrets = false;
        if (resources.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var entry in resources.EnumerateArray())
            {
                var names = Json.Get(entry, "resources"u8);
                var secrets = names.ValueKind == JsonValueKind.Array && names.EnumerateArray().Any(n => Json.AsString(n) is "secrets" or "*.*" or "*.");
                if (secrets)
                {
                    coversSecrets = true;
                    var providers = Json.Get(entry, "providers"u8);
                    var first = providers.ValueKind == JsonValueKind.Array && providers.GetArrayLength() > 0 ? providers[0] : default;
                    var firstName = first.ValueKind == JsonValueKind.Object ? first.EnumerateObject().Select(p => p.Name).FirstOrDefault() : null;
                    if (firstName is null or "identity")
                    {
                        sink.Report("secrets/encryption-at-rest", r, $"resources[{i}].providers[0]",
                            "the first provider for secrets is identity: new secrets are written to etcd unencrypted");
                    }
                }

                i++;
            }
        }

        if (!coversSecrets)
        {
            sink.Report("secrets/encryption-at-rest", r, "resources", "no provider entry covers secrets: they are stored in etcd unencrypted");
        }
    }

    /// <summary>Secrets a PersistentVolume's plugin or a StorageClass's CSI parameters name, with their namespace when given.</summary>
    private static IEnumerable<(string? Ns, string Name)> StorageSecretReferences(Resource r)
    {
        if (r.Kind == "StorageClass")
        {
            var parameters = Json.Get(r.Root, "parameters"u8);
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                yield break;
            }

            foreach (var p in parameters.EnumerateObject())
            {
                const string Suffix = "-secret-name";
                if (p.Name.EndsWith(Suffix, StringComparison.Ordinal) && Json.AsString(p.Value) is { } name && !name.Contains("${", StringComparison.Ordinal))
                {
                    var nsKey = p.Name[..^Suffix.Length] + "-secret-namespace";
                    var refNs = Json.GetString(parameters, nsKey);
                    yield return (refNs is null || refNs.Contains("${", StringComparison.Ordinal) ? null : refNs, name);
                }
            }

            yield break;
        }

        var spec = Json.Get(r.Root, "spec"u8);
        if (spec.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (var source in spec.EnumerateObject())
        {
            if (source.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var field in source.Value.EnumerateObject())
            {
                if (field.Name.EndsWith("SecretRef", StringComparison.Ordinal) || field.NameEquals("secretRef"u8))
                {
                    if (Json.GetString(field.Value, "name") is { } name)
                    {
                        yield return (Json.GetString(field.Value, "namespace"), name);
                    }
                }
            }

            if (source.NameEquals("azureFile"u8) && Json.GetString(source.Value, "secretName") is { } azure)
            {
                yield return (Json.GetString(source.Value, "secretNamespace"), azure);
            }
        }
    }

    /// <summary>Names of secrets a role's rules reach by resourceNames.</summary>
    private static IEnumerable<string> SecretResourceNames(JsonElement role)
    {
        var rules = Json.Get(role, "rules"u8);
        if (rules.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var rule in rules.EnumerateArray())
        {
            var resources = Json.Get(rule, "resources"u8);
            var names = Json.Get(rule, "resourceNames"u8);
            if (resources.ValueKind == JsonValueKind.Array && names.ValueKind == JsonValueKind.Array
                && resources.EnumerateArray().Any(x => Json.AsString(x) is "secrets" or "*"))
            {
                foreach (var n in names.EnumerateArray())
                {
                    if (Json.AsString(n) is { Length: > 0 } name)
                    {
                        yield return name;
                    }
                }
            }
        }
    }

    private static void CollectReferences(JsonElement template, string path, string ns, HashSet<(string, string)> referenced,
        (Dictionary<(string, string), HashSet<string>> Users, string Workload)? count, PodTemplateView view)
    {
        view.Read(template, path);
        void Use(string? name)
        {
            if (name is null)
            {
                return;
            }

            referenced.Add((ns, name));
            if (count is { } c)
            {
                if (!c.Users.TryGetValue((ns, name), out var set))
                {
                    c.Users[(ns, name)] = set = [];
                }

                set.Add(c.Workload);
            }
        }

        if (view.Volumes.ValueKind == JsonValueKind.Array)
        {
            foreach (var v in view.Volumes.EnumerateArray())
            {
                Use(Json.GetString(Json.Get(v, "secret"u8), "secretName"));

                // Volume plugins that take credentials from a secret of the pod's namespace: csi
                // (nodePublishSecretRef), iscsi, rbd, cephfs, scaleIO, flexVolume, storageos
                // (secretRef) and azureFile (secretName).
                if (v.ValueKind == JsonValueKind.Object)
                {
                    foreach (var source in v.EnumerateObject())
                    {
                        if (source.Value.ValueKind != JsonValueKind.Object || source.NameEquals("secret"u8))
                        {
                            continue;
                        }

                        Use(Json.GetString(Json.Get(source.Value, "secretRef"u8), "name"));
                        Use(Json.GetString(Json.Get(source.Value, "nodePublishSecretRef"u8), "name"));
                        if (source.NameEquals("azureFile"u8))
                        {
                            Use(Json.GetString(source.Value, "secretName"));
                        }
                    }
                }

                var sources = Json.Get(Json.Get(v, "projected"u8), "sources"u8);
                if (sources.ValueKind == JsonValueKind.Array)
                {
                    foreach (var s in sources.EnumerateArray())
                    {
                        Use(Json.GetString(Json.Get(s, "secret"u8), "name"));
                    }
                }
            }
        }

        for (var i = 0; i < view.ContainerCount; i++)
        {
            var c = view.Container(i);
            if (c.Env.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in c.Env.EnumerateArray())
                {
                    Use(Json.GetString(Json.Get(Json.Get(e, "valueFrom"u8), "secretKeyRef"u8), "name"));
                }
            }

            if (c.EnvFrom.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in c.EnvFrom.EnumerateArray())
                {
                    Use(Json.GetString(Json.Get(e, "secretRef"u8), "name"));
                }
            }
        }

        var pull = Json.Get(view.Spec, "imagePullSecrets"u8);
        if (pull.ValueKind == JsonValueKind.Array)
        {
            foreach (var p in pull.EnumerateArray())
            {
                if (Json.GetString(p, "name") is { } n)
                {
                    referenced.Add((ns, n));
                }
            }
        }
    }
}
