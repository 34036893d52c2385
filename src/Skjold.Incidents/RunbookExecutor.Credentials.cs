using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Kubernetes.Live;

namespace Skjold.Incidents;

/// <summary>Steps on credentials: replace an exposed Secret, restart the workloads that mount it, revoke a service account's tokens and bindings.</summary>
public sealed partial class RunbookExecutor
{
    private async Task<StepOutcome> ReplaceSecretAsync(RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        if (options.SecretData is not { Count: > 0 } data)
        {
            return Outcome(step, StepOutcome.Waiting, "give the new value: skjold incident apply ID --step N --from-file KEY=FILE (Skjold never invents or prints it)");
        }

        var patch = new JsonObject { ["data"] = new JsonObject(data.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, Convert.ToBase64String(kv.Value))).ToArray()) };
        using (await cluster.PatchAsync(new ObjectPath("", "v1", "secrets", t.Namespace, t.Name), patch.ToJsonString(), PatchKind.Merge, dryRun, ct).ConfigureAwait(false))
        {
        }

        return Outcome(step, Mode(dryRun), $"secret {t.Namespace}/{t.Name}: new data for keys {string.Join(", ", data.Keys.Order(StringComparer.Ordinal))} (values not recorded)");
    }

    private async Task<StepOutcome> RestartAsync(RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        var restarted = new List<string>();
        var now = options.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        foreach (var plural in new[] { "deployments", "statefulsets", "daemonsets" })
        {
            using var list = JsonDocument.Parse(await cluster.GetAsync($"/apis/apps/v1/namespaces/{t.Namespace}/{plural}", ct).ConfigureAwait(false));
            foreach (var item in list.RootElement.GetProperty("items").EnumerateArray())
            {
                if (!References(item, t.Name))
                {
                    continue;
                }

                var name = item.GetProperty("metadata").GetProperty("name").GetString()!;
                var patch = $"{{\"spec\":{{\"template\":{{\"metadata\":{{\"annotations\":{{\"kubectl.kubernetes.io/restartedAt\":\"{now}\"}}}}}}}}}}";
                using (await cluster.PatchAsync(new ObjectPath("apps", "v1", plural, t.Namespace, name), patch, PatchKind.Merge, dryRun, ct).ConfigureAwait(false))
                {
                }

                restarted.Add($"{plural}/{name}");
            }
        }

        return Outcome(step, Mode(dryRun), restarted.Count == 0 ? "no workload mounts the secret" : "rolling restart of " + string.Join(", ", restarted));
    }

    /// <summary>Whether a workload's pod template uses the secret: a secret volume, a projected source, envFrom or a secretKeyRef.</summary>
    private static bool References(JsonElement workload, string secret)
    {
        var text = workload.GetProperty("spec").GetProperty("template").GetRawText();
        return text.Contains($"\"secretName\":\"{secret}\"", StringComparison.Ordinal)
            || (text.Contains("\"secretRef\"", StringComparison.Ordinal) || text.Contains("\"secretKeyRef\"", StringComparison.Ordinal) || text.Contains("\"secret\"", StringComparison.Ordinal))
               && text.Contains($"\"name\":\"{secret}\"", StringComparison.Ordinal);
    }

    private async Task<StepOutcome> RevokeAsync(RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        if (t.Kind == "source-ip")
        {
            return Outcome(step, StepOutcome.Skipped, "an address has no bindings: find the identities it used (step 1) and open an incident for each");
        }

        var (kind, name, ns) = t.Kind == "serviceaccount" ? ("ServiceAccount", t.Name, t.Namespace) : ("User", t.Name, (string?)null);
        var done = new List<string>();
        foreach (var (path, plural, group) in new[] { ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "clusterrolebindings", true), ("/apis/rbac.authorization.k8s.io/v1/rolebindings", "rolebindings", false) })
        {
            using var list = JsonDocument.Parse(await cluster.GetAsync(path, ct).ConfigureAwait(false));
            foreach (var b in list.RootElement.GetProperty("items").EnumerateArray())
            {
                if (!b.TryGetProperty("subjects", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                var meta = b.GetProperty("metadata");
                var bname = meta.GetProperty("name").GetString()!;
                var bns = group ? null : meta.GetProperty("namespace").GetString();
                var target = new ObjectPath("rbac.authorization.k8s.io", "v1", plural, bns, bname);
                var count = subjects.GetArrayLength();
                for (var i = count - 1; i >= 0; i--)
                {
                    var s = subjects[i];
                    if (S(s, "kind") != kind || S(s, "name") != name || (kind == "ServiceAccount" && S(s, "namespace") != ns))
                    {
                        continue;
                    }

                    if (count == 1)
                    {
                        await cluster.DeleteAsync(target, dryRun, ct).ConfigureAwait(false);
                        done.Add($"deleted {plural}/{(bns is null ? "" : bns + "/")}{bname}");
                    }
                    else
                    {
                        // test, then remove: the subject at this index must still be the one seen (no lost update).
                        var patch = $"[{{\"op\":\"test\",\"path\":\"/subjects/{i}\",\"value\":{s.GetRawText()}}},{{\"op\":\"remove\",\"path\":\"/subjects/{i}\"}}]";
                        using (await cluster.PatchAsync(target, patch, PatchKind.Json, dryRun, ct).ConfigureAwait(false))
                        {
                        }

                        done.Add($"removed the subject from {plural}/{(bns is null ? "" : bns + "/")}{bname}");
                    }
                }
            }
        }

        if (kind == "ServiceAccount")
        {
            using var secrets = JsonDocument.Parse(await cluster.GetAsync($"/api/v1/namespaces/{ns}/secrets", ct).ConfigureAwait(false));
            foreach (var s in secrets.RootElement.GetProperty("items").EnumerateArray())
            {
                if (S(s, "type") == "kubernetes.io/service-account-token" && s.GetProperty("metadata").TryGetProperty("annotations", out var a)
                    && S(a, "kubernetes.io/service-account.name") == name)
                {
                    var sname = s.GetProperty("metadata").GetProperty("name").GetString()!;
                    await cluster.DeleteAsync(new ObjectPath("", "v1", "secrets", ns, sname), dryRun, ct).ConfigureAwait(false);
                    done.Add($"deleted token secret {ns}/{sname}");
                }
            }
        }

        return Outcome(step, Mode(dryRun), done.Count == 0 ? $"no binding names {kind} {name}" : string.Join("; ", done));
    }
}
