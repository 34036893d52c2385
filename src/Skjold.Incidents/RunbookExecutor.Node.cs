using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Kubernetes.Live;

namespace Skjold.Incidents;

/// <summary>Steps on a node: taint, drain by eviction (PodDisruptionBudgets respected), and the evidence of the pods it runs.</summary>
public sealed partial class RunbookExecutor
{
    private async Task<StepOutcome> TaintAsync(Incident incident, RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        using var node = JsonDocument.Parse(await cluster.GetAsync($"/api/v1/nodes/{Uri.EscapeDataString(t.Name)}", ct).ConfigureAwait(false));
        var taints = new JsonArray();
        var present = false;
        if (node.RootElement.TryGetProperty("spec", out var spec) && spec.TryGetProperty("taints", out var existing) && existing.ValueKind == JsonValueKind.Array)
        {
            foreach (var taint in existing.EnumerateArray())
            {
                present |= S(taint, "key") == "skjold.io/compromised";
                taints.Add(JsonNode.Parse(taint.GetRawText()));
            }
        }

        if (!present)
        {
            taints.Add((JsonNode)new JsonObject { ["key"] = "skjold.io/compromised", ["value"] = incident.Id, ["effect"] = "NoExecute" });
        }

        var patch = new JsonObject { ["spec"] = new JsonObject { ["taints"] = taints } };
        using (await cluster.PatchAsync(new ObjectPath("", "v1", "nodes", Name: t.Name), patch.ToJsonString(), PatchKind.StrategicMerge, dryRun, ct).ConfigureAwait(false))
        {
        }

        return Outcome(step, Mode(dryRun), $"node {t.Name} tainted skjold.io/compromised={incident.Id}:NoExecute{(present ? " (already)" : "")}");
    }

    private async Task<StepOutcome> DrainAsync(RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        using var list = JsonDocument.Parse(await cluster.GetAsync($"/api/v1/pods?fieldSelector=spec.nodeName%3D{Uri.EscapeDataString(t.Name)}", ct).ConfigureAwait(false));
        var pending = new List<(string Ns, string Name)>();
        var kept = new List<string>();
        foreach (var p in list.RootElement.GetProperty("items").EnumerateArray())
        {
            var meta = p.GetProperty("metadata");
            var ns = S(meta, "namespace") ?? "default";
            var name = S(meta, "name")!;
            var daemon = meta.TryGetProperty("ownerReferences", out var owners) && owners.ValueKind == JsonValueKind.Array && owners.EnumerateArray().Any(o => S(o, "kind") == "DaemonSet");
            var mirror = meta.TryGetProperty("annotations", out var a) && a.TryGetProperty("kubernetes.io/config.mirror", out _);
            if (daemon || mirror)
            {
                kept.Add($"{ns}/{name} ({(daemon ? "DaemonSet" : "static pod")})");
            }
            else if (options.ProtectedNamespaces.Contains(ns) && !options.Force)
            {
                kept.Add($"{ns}/{name} (protected namespace; --force to evict)");
            }
            else
            {
                pending.Add((ns, name));
            }
        }

        var evicted = new List<string>();
        var deadline = options.Time.GetUtcNow() + (dryRun ? TimeSpan.Zero : options.DrainTimeout);
        while (pending.Count > 0)
        {
            for (var i = pending.Count - 1; i >= 0; i--)
            {
                if (await cluster.EvictAsync(pending[i].Ns, pending[i].Name, dryRun, ct).ConfigureAwait(false))
                {
                    evicted.Add($"{pending[i].Ns}/{pending[i].Name}");
                    pending.RemoveAt(i);
                }
            }

            if (pending.Count == 0 || options.Time.GetUtcNow() >= deadline)
            {
                break;
            }

            await Task.Delay(options.EvictionRetry, options.Time, ct).ConfigureAwait(false);
        }

        var summary = $"evicted {evicted.Count} ({string.Join(", ", evicted.Order(StringComparer.Ordinal))})"
            + (pending.Count > 0 ? $"; a PodDisruptionBudget kept {pending.Count} until the {options.DrainTimeout.TotalSeconds:0} s timeout: {string.Join(", ", pending.Select(p => $"{p.Ns}/{p.Name}"))}" : "")
            + (kept.Count > 0 ? $"; left: {string.Join(", ", kept)}" : "");
        return Outcome(step, pending.Count > 0 && !dryRun ? StepOutcome.Failed : Mode(dryRun), summary);
    }

    private async Task<StepOutcome> NodePodsAsync(Incident incident, RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        var bytes = await cluster.GetAsync($"/api/v1/pods?fieldSelector=spec.nodeName%3D{Uri.EscapeDataString(t.Name)}", ct).ConfigureAwait(false);
        using var list = JsonDocument.Parse(bytes);
        var lines = new List<string>();
        foreach (var p in list.RootElement.GetProperty("items").EnumerateArray())
        {
            var meta = p.GetProperty("metadata");
            var spec = p.GetProperty("spec");
            var sa = S(spec, "serviceAccountName") ?? "default";
            var secrets = spec.TryGetProperty("volumes", out var vols) && vols.ValueKind == JsonValueKind.Array
                ? vols.EnumerateArray().Where(v => v.TryGetProperty("secret", out _)).Select(v => S(v.GetProperty("secret"), "secretName")).Where(x => x is not null)
                : [];
            lines.Add($"{S(meta, "namespace")}/{S(meta, "name")} sa={sa} secrets={string.Join(",", secrets)}");
        }

        var evidence = dryRun ? null : new List<(string, string)> { Save(incident, step, "pods-on-node.txt", Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")) };
        return Outcome(step, Mode(dryRun), $"{lines.Count} pods ran on {t.Name}: their service accounts and secrets are credentials to rotate", evidence);
    }
}
