using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.Kubernetes.Live;

namespace Skjold.Incidents;

/// <summary>How one step went: applied, dry-run, skipped (nothing to do, or not possible), waiting (needs input), or failed.</summary>
public sealed record StepOutcome(int Step, string Title, string Mode, string Summary, IReadOnlyList<(string Name, string Sha256)> Evidence)
{
    public const string Applied = "applied";
    public const string DryRun = "dry-run";
    public const string Skipped = "skipped";
    public const string Waiting = "waiting";
    public const string Failed = "failed";
}

/// <summary>Settings of an apply: where evidence goes, which namespaces are protected, the new secret data, how long a drain may take.</summary>
public sealed record ExecutorOptions
{
    public required string EvidenceDirectory { get; init; }

    public IReadOnlyList<string> ProtectedNamespaces { get; init; } = ["kube-system", "skjold-system"];

    public bool Force { get; init; }

    /// <summary>New data for secret-exposed, key to bytes; never logged, only key names are recorded.</summary>
    public IReadOnlyDictionary<string, byte[]>? SecretData { get; init; }

    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan EvictionRetry { get; init; } = TimeSpan.FromSeconds(5);

    public long MaxExecBytes { get; init; } = 256L * 1024 * 1024;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Carries out runbook steps through <see cref="IClusterClient"/>: each step's writes go first as a server-side dry
/// run (admission runs, nothing is persisted), then for real; evidence (objects, logs, events, exec output) is written
/// under the evidence directory (files 0600) and named with its SHA-256. Idempotent: an object already in the wanted
/// state, or already gone, is not an error. Refuses targets in protected namespaces unless forced.
/// </summary>
public sealed partial class RunbookExecutor(IClusterClient cluster, ExecutorOptions options)
{
    public async Task<StepOutcome> RunAsync(Incident incident, RunbookStep step, bool dryRun, CancellationToken ct)
    {
        var target = incident.Targets[0];
        if (target.Namespace is { } ns && options.ProtectedNamespaces.Contains(ns) && !options.Force && step.Kind != StepKind.Guidance)
        {
            return Outcome(step, StepOutcome.Skipped, $"{ns} is a protected namespace: give --force to act in it");
        }

        try
        {
            return step.Kind switch
            {
                StepKind.IsolatePod => await IsolateAsync(incident, step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.CaptureEvidence => await EvidenceAsync(incident, step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.CaptureExec => await ExecAsync(incident, step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.DeletePod => await DeleteAsync(step, ObjectPath.Pods(target.Namespace!, target.Name), dryRun, ct).ConfigureAwait(false),
                StepKind.ReplaceSecret => await ReplaceSecretAsync(step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.RestartMounters => await RestartAsync(step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.RevokeAccess => await RevokeAsync(step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.CordonNode => await PatchAsync(step, new ObjectPath("", "v1", "nodes", Name: target.Name), "{\"spec\":{\"unschedulable\":true}}", PatchKind.Merge, dryRun, ct).ConfigureAwait(false),
                StepKind.TaintNode => await TaintAsync(incident, step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.DrainNode => await DrainAsync(step, target, dryRun, ct).ConfigureAwait(false),
                StepKind.ListNodePods => await NodePodsAsync(incident, step, target, dryRun, ct).ConfigureAwait(false),
                _ => Outcome(step, StepOutcome.Skipped, step.Manual ? "a manual step: do it, then record it with skjold incident note" : "guidance: run the commands shown by skjold incident plan"),
            };
        }
        catch (ClusterRequestException e)
        {
            return Outcome(step, StepOutcome.Failed, $"the API server answered {e.StatusCode}: {e.Message}");
        }
        catch (HttpRequestException e)
        {
            return Outcome(step, StepOutcome.Failed, $"the API server could not be reached: {e.Message}");
        }
    }

    private static StepOutcome Outcome(RunbookStep step, string mode, string summary, List<(string, string)>? evidence = null) =>
        new(step.Number, step.Title, mode, summary, evidence ?? []);

    private static string Mode(bool dryRun) => dryRun ? StepOutcome.DryRun : StepOutcome.Applied;

    private async Task<StepOutcome> IsolateAsync(Incident incident, RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        var ns = t.Namespace!;
        var label = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { [RunbookPlans.QuarantineLabel] = incident.Id } } }.ToJsonString();
        using (await cluster.PatchAsync(ObjectPath.Pods(ns, t.Name), label, PatchKind.Merge, dryRun, ct).ConfigureAwait(false))
        {
        }

        var name = "skjold-quarantine-" + incident.Id.ToLowerInvariant();
        var policy = new JsonObject
        {
            ["apiVersion"] = "networking.k8s.io/v1",
            ["kind"] = "NetworkPolicy",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { ["skjold.io/incident"] = incident.Id } },
            ["spec"] = new JsonObject
            {
                ["podSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { [RunbookPlans.QuarantineLabel] = incident.Id } },
                ["policyTypes"] = new JsonArray("Ingress", "Egress"),
            },
        };
        using var doc = JsonDocument.Parse(policy.ToJsonString());
        try
        {
            using (await cluster.CreateAsync(ObjectPath.NetworkPolicies(ns), doc.RootElement, dryRun, ct).ConfigureAwait(false))
            {
            }
        }
        catch (ClusterRequestException e) when (e.StatusCode == 409)
        {
            // Already isolated (a resumed apply): the policy is what this step wants.
        }

        return Outcome(step, Mode(dryRun), $"pod {ns}/{t.Name} labelled {RunbookPlans.QuarantineLabel}={incident.Id}; NetworkPolicy {name} denies all ingress and egress");
    }

    private async Task<StepOutcome> EvidenceAsync(Incident incident, RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        var ns = t.Namespace!;
        var podBytes = await cluster.GetAsync($"/api/v1/namespaces/{ns}/pods/{Uri.EscapeDataString(t.Name)}", ct).ConfigureAwait(false);
        if (dryRun)
        {
            return Outcome(step, StepOutcome.DryRun, $"pod {ns}/{t.Name} readable; evidence would be written under {options.EvidenceDirectory}");
        }

        var evidence = new List<(string, string)> { Save(incident, step, "pod.json", podBytes) };
        using var pod = JsonDocument.Parse(podBytes);
        var spec = pod.RootElement.GetProperty("spec");
        var containers = Names(spec, "containers").Concat(Names(spec, "initContainers")).ToList();
        foreach (var c in containers)
        {
            foreach (var previous in new[] { false, true })
            {
                try
                {
                    var log = await cluster.GetAsync($"/api/v1/namespaces/{ns}/pods/{Uri.EscapeDataString(t.Name)}/log?container={Uri.EscapeDataString(c)}&timestamps=true{(previous ? "&previous=true" : "")}", ct).ConfigureAwait(false);
                    evidence.Add(Save(incident, step, $"log-{c}{(previous ? "-previous" : "")}.txt", log));
                }
                catch (ClusterRequestException e) when (previous && e.StatusCode == 400)
                {
                    // No previous container: nothing to keep.
                }
            }
        }

        evidence.Add(Save(incident, step, "events.json", await cluster.GetAsync($"/api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.name%3D{Uri.EscapeDataString(t.Name)}", ct).ConfigureAwait(false)));
        var node = spec.TryGetProperty("nodeName", out var n) ? n.GetString() : null;
        if (node is not null)
        {
            evidence.Add(Save(incident, step, "node.json", await cluster.GetAsync($"/api/v1/nodes/{Uri.EscapeDataString(node)}", ct).ConfigureAwait(false)));
        }

        var digests = new List<string>();
        if (pod.RootElement.TryGetProperty("status", out var status) && status.TryGetProperty("containerStatuses", out var statuses) && statuses.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in statuses.EnumerateArray())
            {
                if (s.TryGetProperty("imageID", out var id) && id.GetString() is { Length: > 0 } imageId)
                {
                    digests.Add(imageId);
                }
            }
        }

        var sa = spec.TryGetProperty("serviceAccountName", out var san) ? san.GetString() : "default";
        var secrets = spec.TryGetProperty("volumes", out var vols) && vols.ValueKind == JsonValueKind.Array
            ? vols.EnumerateArray().Where(v => v.TryGetProperty("secret", out _)).Select(v => v.GetProperty("secret").TryGetProperty("secretName", out var sn) ? sn.GetString() : null).Where(x => x is not null).ToList()
            : [];
        return Outcome(step, StepOutcome.Applied,
            $"pod, {containers.Count} containers' logs, events{(node is null ? "" : ", node " + node)}; service account {sa}; mounted secrets {(secrets.Count == 0 ? "none" : string.Join(", ", secrets))}; images {(digests.Count == 0 ? "(no digests recorded)" : string.Join(", ", digests))}",
            evidence);
    }

    private async Task<StepOutcome> ExecAsync(Incident incident, RunbookStep step, IncidentTarget t, bool dryRun, CancellationToken ct)
    {
        var ns = t.Namespace!;
        using var pod = JsonDocument.Parse(await cluster.GetAsync($"/api/v1/namespaces/{ns}/pods/{Uri.EscapeDataString(t.Name)}", ct).ConfigureAwait(false));
        var containers = Names(pod.RootElement.GetProperty("spec"), "containers").ToList();
        if (dryRun)
        {
            return Outcome(step, StepOutcome.DryRun, $"would run ps and tar in {containers.Count} containers (exec is not dry-run by the API: nothing ran)");
        }

        var evidence = new List<(string, string)>();
        var notes = new List<string>();
        foreach (var c in containers)
        {
            try
            {
                var ps = await cluster.ExecAsync(ns, t.Name, c, ["ps", "-ef"], 1 << 20, ct).ConfigureAwait(false);
                evidence.Add(Save(incident, step, $"ps-{c}.txt", ps.Stdout));
                var tar = await cluster.ExecAsync(ns, t.Name, c, ["tar", "cf", "-", "/"], options.MaxExecBytes, ct).ConfigureAwait(false);
                evidence.Add(Save(incident, step, $"filesystem-{c}.tar", tar.Stdout));
                notes.Add(tar.Truncated ? $"{c}: filesystem truncated at {options.MaxExecBytes} bytes" : $"{c}: processes and filesystem");
            }
            catch (Exception e) when (e is ClusterRequestException or k8s.Autorest.HttpOperationException or System.Net.WebSockets.WebSocketException)
            {
                notes.Add($"{c}: exec not possible ({e.Message})");
            }
        }

        return Outcome(step, evidence.Count > 0 ? StepOutcome.Applied : StepOutcome.Skipped, string.Join("; ", notes), evidence);
    }

    private async Task<StepOutcome> DeleteAsync(RunbookStep step, ObjectPath target, bool dryRun, CancellationToken ct)
    {
        try
        {
            await cluster.DeleteAsync(target, dryRun, ct).ConfigureAwait(false);
            return Outcome(step, Mode(dryRun), $"deleted {target.Path}");
        }
        catch (ClusterRequestException e) when (e.StatusCode == 404)
        {
            return Outcome(step, Mode(dryRun), $"{target.Path} was already gone");
        }
    }

    private async Task<StepOutcome> PatchAsync(RunbookStep step, ObjectPath target, string patch, PatchKind kind, bool dryRun, CancellationToken ct)
    {
        using (await cluster.PatchAsync(target, patch, kind, dryRun, ct).ConfigureAwait(false))
        {
        }

        return Outcome(step, Mode(dryRun), $"patched {target.Path}");
    }

    private (string, string) Save(Incident incident, RunbookStep step, string name, byte[] bytes)
    {
        var dir = Path.Combine(options.EvidenceDirectory, incident.Id);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"step{step.Number}-{name}");
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // evidence may hold personal data
        }

        using (var stream = new FileStream(file, fileOptions))
        {
            stream.Write(bytes);
        }

        return (Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    private static IEnumerable<string> Names(JsonElement spec, string list)
    {
        if (spec.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in items.EnumerateArray())
            {
                if (S(c, "name") is { } n)
                {
                    yield return n;
                }
            }
        }
    }

    private static string? S(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
