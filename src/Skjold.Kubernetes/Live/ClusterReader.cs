using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Skjold.Kubernetes.Live;

/// <summary>
/// Reads what the posture checks need from a live cluster, kind by kind, in pages of 500, and writes
/// one snapshot: a JSON <c>kind: List</c> with every object (apiVersion and kind filled in) and a
/// <c>ClusterVersion</c> object with the API server's version. Secrets are read as metadata only
/// (PartialObjectMetadataList): their values never leave the cluster. Kinds the credentials may
/// not list are skipped and named in the snapshot's annotations.
/// </summary>
public sealed class ClusterReader(k8s.Kubernetes client)
{
    /// <param name="Optional">A custom resource a cluster may not have (Calico, Cilium, the network-policy API): not served (404) means none, not a gap.</param>
    /// <param name="Fallback">Read only when the kind of the same plural was not served before it (Calico's crd.projectcalico.org/v1 objects when its API server, projectcalico.org/v3, is not installed).</param>
    public sealed record KindSpec(string Group, string Version, string Plural, string Kind, bool MetadataOnly = false, bool Optional = false, bool Fallback = false)
    {
        public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

        public string Path => Group.Length == 0 ? $"/api/{Version}/{Plural}" : $"/apis/{Group}/{Version}/{Plural}";
    }

    public static IReadOnlyList<KindSpec> Kinds { get; } =
    [
        new("", "v1", "namespaces", "Namespace"),
        new("", "v1", "nodes", "Node"),
        new("", "v1", "pods", "Pod"),
        new("", "v1", "services", "Service"),
        new("", "v1", "serviceaccounts", "ServiceAccount"),
        new("", "v1", "secrets", "Secret", MetadataOnly: true),
        new("", "v1", "configmaps", "ConfigMap"),
        new("", "v1", "persistentvolumes", "PersistentVolume"),
        new("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
        new("", "v1", "replicationcontrollers", "ReplicationController"),
        new("", "v1", "resourcequotas", "ResourceQuota"),
        new("", "v1", "limitranges", "LimitRange"),
        new("apps", "v1", "deployments", "Deployment"),
        new("apps", "v1", "statefulsets", "StatefulSet"),
        new("apps", "v1", "daemonsets", "DaemonSet"),
        new("apps", "v1", "replicasets", "ReplicaSet"),
        new("batch", "v1", "jobs", "Job"),
        new("batch", "v1", "cronjobs", "CronJob"),
        new("networking.k8s.io", "v1", "ingresses", "Ingress"),
        new("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
        new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
        new("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
        new("storage.k8s.io", "v1", "storageclasses", "StorageClass"),
        new("rbac.authorization.k8s.io", "v1", "roles", "Role"),
        new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
        new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole"),
        new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding"),
        new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration"),
        new("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration"),
        new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", MetadataOnly: true),

        // Network policies of the common plugins and of the network-policy API, so that reachability and
        // the netpol checks see them (or say they cannot model them).
        new("projectcalico.org", "v3", "tiers", "Tier", Optional: true),
        new("projectcalico.org", "v3", "networkpolicies", "NetworkPolicy", Optional: true),
        new("projectcalico.org", "v3", "globalnetworkpolicies", "GlobalNetworkPolicy", Optional: true),
        new("projectcalico.org", "v3", "networksets", "NetworkSet", Optional: true),
        new("projectcalico.org", "v3", "globalnetworksets", "GlobalNetworkSet", Optional: true),
        new("projectcalico.org", "v3", "ippools", "IPPool", Optional: true),
        new("crd.projectcalico.org", "v1", "tiers", "Tier", Optional: true, Fallback: true),
        new("crd.projectcalico.org", "v1", "networkpolicies", "NetworkPolicy", Optional: true, Fallback: true),
        new("crd.projectcalico.org", "v1", "globalnetworkpolicies", "GlobalNetworkPolicy", Optional: true, Fallback: true),
        new("crd.projectcalico.org", "v1", "networksets", "NetworkSet", Optional: true, Fallback: true),
        new("crd.projectcalico.org", "v1", "globalnetworksets", "GlobalNetworkSet", Optional: true, Fallback: true),
        new("crd.projectcalico.org", "v1", "ippools", "IPPool", Optional: true, Fallback: true),
        new("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", Optional: true),
        new("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", Optional: true),
        new("cilium.io", "v2", "ciliumcidrgroups", "CiliumCIDRGroup", Optional: true),
        new("cilium.io", "v2alpha1", "ciliumcidrgroups", "CiliumCIDRGroup", Optional: true, Fallback: true),
        new("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", Optional: true),
        new("policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", Optional: true),
        new("aquasecurity.github.io", "v1alpha1", "vulnerabilityreports", "VulnerabilityReport", Optional: true),
    ];

    /// <summary>Writes the snapshot to <paramref name="output"/>; reports (kind, objects so far) as it goes.</summary>
    public async Task<SnapshotSummary> WriteSnapshotAsync(Stream output, TimeProvider time, IProgress<(string Kind, int Count)>? progress, CancellationToken ct)
    {
        await using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("apiVersion", "v1");
        w.WriteString("kind", "List");
        w.WritePropertyName("items");
        w.WriteStartArray();
        var summary = await ReadAsync(
            version => WriteVersion(w, version),
            (spec, items) =>
            {
                foreach (var item in items.EnumerateArray())
                {
                    WriteItem(w, item, spec);
                }
            },
            async () => await w.FlushAsync(ct).ConfigureAwait(false),
            progress, ct).ConfigureAwait(false);

        w.WriteEndArray();
        w.WriteStartObject("metadata");
        w.WriteStartObject("annotations");
        w.WriteString("skjold.io/snapshot-time", time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        if (summary.ServerVersion is { } version)
        {
            w.WriteString("skjold.io/server-version", version);
        }

        if (summary.Missing.Count > 0)
        {
            w.WriteString("skjold.io/missing-kinds", string.Join(", ", summary.Missing));
        }

        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        await w.FlushAsync(ct).ConfigureAwait(false);
        return summary;
    }

    /// <summary>The object a snapshot holds for the API server's version.</summary>
    internal static void WriteVersion(Utf8JsonWriter w, string version)
    {
        w.WriteStartObject();
        w.WriteString("apiVersion", "skjold.io/v1alpha1");
        w.WriteString("kind", "ClusterVersion");
        w.WriteStartObject("metadata");
        w.WriteString("name", "cluster");
        w.WriteEndObject();
        w.WriteString("gitVersion", version);
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads the version, then every kind page by page: <paramref name="onPage"/> gets each page's
    /// items (as the server sent them; <see cref="WriteItem"/> makes them what Skjold keeps),
    /// <paramref name="afterKind"/> runs after each kind.
    /// </summary>
    internal async Task<SnapshotSummary> ReadAsync(Action<string> onVersion, Action<KindSpec, JsonElement> onPage, Func<Task> afterKind,
        IProgress<(string Kind, int Count)>? progress, CancellationToken ct)
    {
        var missing = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        string? version = null;
        try
        {
            using var v = await GetAsync("/version", null, ct).ConfigureAwait(false);
            version = v.RootElement.TryGetProperty("gitVersion", out var g) ? g.GetString() : null;
        }
        catch (HttpRequestException)
        {
            missing.Add("version");
        }

        if (version is not null)
        {
            onVersion(version);
        }

        var notServed = new HashSet<string>(StringComparer.Ordinal);
        var served = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in Kinds)
        {
            if (spec.Fallback && (served.Contains(spec.Plural) || !notServed.Contains(spec.Plural)))
            {
                continue; // the preferred version was read (or refused, which says nothing about this one)
            }

            var count = 0;
            string? continueToken = null;
            try
            {
                do
                {
                    var query = $"?limit=500{(continueToken is null ? string.Empty : "&continue=" + Uri.EscapeDataString(continueToken))}";
                    using var page = await GetAsync(spec.Path + query, spec.MetadataOnly ? "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1" : null, ct).ConfigureAwait(false);
                    if (page.RootElement.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
                    {
                        onPage(spec, items);
                        count += items.GetArrayLength();
                    }

                    continueToken = page.RootElement.TryGetProperty("metadata", out var md) && md.TryGetProperty("continue", out var c) && c.ValueKind == JsonValueKind.String
                        ? c.GetString() : null;
                    progress?.Report((spec.Kind, count));
                }
                while (!string.IsNullOrEmpty(continueToken));
                served.Add(spec.Plural);
            }
            catch (HttpRequestException ex) when (spec.Optional && ex.StatusCode is HttpStatusCode.NotFound)
            {
                notServed.Add(spec.Plural); // the cluster does not have this custom resource: there are none
                continue;
            }
            catch (HttpRequestException ex) when (ex.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
            {
                missing.Add($"{spec.Group}{(spec.Group.Length > 0 ? "/" : string.Empty)}{spec.Plural} ({(int)ex.StatusCode!})");
            }

            var key = spec.Optional ? $"{spec.Kind}.{spec.Group}" : spec.Kind;
            counts[key] = counts.GetValueOrDefault(key) + count;
            await afterKind().ConfigureAwait(false);
        }

        return new SnapshotSummary(version, counts, missing);
    }

    /// <summary>One object as Skjold keeps it: apiVersion and kind filled in, no managedFields, and of a Secret nothing but its metadata.</summary>
    internal static void WriteItem(Utf8JsonWriter w, JsonElement item, KindSpec spec)
    {
        w.WriteStartObject();
        w.WriteString("apiVersion", spec.ApiVersion);
        w.WriteString("kind", spec.Kind);
        foreach (var p in item.EnumerateObject())
        {
            if (p.NameEquals("apiVersion") || p.NameEquals("kind"))
            {
                continue;
            }

            if (spec.Kind == "Secret" && !p.NameEquals("metadata"))
            {
                continue; // never copy secret values, even if the server sent them
            }

            if (p.NameEquals("metadata"))
            {
                // managedFields is bulky and says nothing the checks need.
                w.WriteStartObject("metadata");
                foreach (var m in p.Value.EnumerateObject())
                {
                    if (m.NameEquals("managedFields"))
                    {
                        continue;
                    }

                    if (spec.Kind == "Secret" && m.NameEquals("annotations") && m.Value.ValueKind == JsonValueKind.Object)
                    {
                        WriteSecretAnnotations(w, m.Value);
                        continue;
                    }

                    m.WriteTo(w);
                }

                w.WriteEndObject();
                continue;
            }

            p.WriteTo(w);
        }

        w.WriteEndObject();
    }

    /// <summary>
    /// A Secret's annotations without the ones that copy its content: <c>kubectl apply</c> stores the
    /// whole applied object, data and stringData included, in last-applied-configuration.
    /// </summary>
    private static void WriteSecretAnnotations(Utf8JsonWriter w, JsonElement annotations)
    {
        w.WriteStartObject("annotations");
        foreach (var a in annotations.EnumerateObject())
        {
            if (SecretValueAnnotations.Contains(a.Name))
            {
                w.WriteString(a.Name, RemovedMarker);
            }
            else
            {
                a.WriteTo(w);
            }
        }

        w.WriteEndObject();
    }

    /// <summary>Annotations that may hold a Secret's values, replaced by <see cref="RemovedMarker"/> in snapshots.</summary>
    public static readonly IReadOnlySet<string> SecretValueAnnotations = new HashSet<string>(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration",
    };

    /// <summary>What a snapshot keeps in place of an annotation that held secret values.</summary>
    public const string RemovedMarker = "(removed by skjold snapshot: it holds the secret's values)";

    /// <summary>A GET through the client's own HTTP pipeline and credentials; the body is left unread (watches stream it).</summary>
    internal static async Task<HttpResponseMessage> SendGetAsync(k8s.Kubernetes kubernetes, string pathAndQuery, string? accept, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(kubernetes.BaseUri, pathAndQuery));
        request.Headers.TryAddWithoutValidation("Accept", accept ?? "application/json");
        if (kubernetes.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, ct).ConfigureAwait(false);
        }

        return await kubernetes.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
    }

    private async Task<JsonDocument> GetAsync(string pathAndQuery, string? accept, CancellationToken ct)
    {
        using var response = await SendGetAsync(client, pathAndQuery, accept, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {pathAndQuery}: {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(body, new JsonDocumentOptions { MaxDepth = 256 }, ct).ConfigureAwait(false);
    }
}

/// <summary>What a snapshot holds: the server version, objects per kind, and kinds that could not be read.</summary>
public sealed record SnapshotSummary(string? ServerVersion, IReadOnlyDictionary<string, int> Counts, IReadOnlyList<string> Missing);
