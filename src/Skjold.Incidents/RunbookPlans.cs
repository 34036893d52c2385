using System.Globalization;

namespace Skjold.Incidents;

/// <summary>
/// The runbooks, as plans: for each incident type the steps, in order, with the exact API requests each makes,
/// the RBAC it needs, and whether it disrupts anything (pure: the plan is what `incident apply` would do, and
/// what the responder's role must allow). Where the cluster's state is known (<see cref="PlanContext"/>), the
/// requests name each container, pod, binding and workload; otherwise they say what they will be for.
/// </summary>
public static class RunbookPlans
{
    public const string QuarantineLabel = "skjold.io/quarantine";

    public static IReadOnlyList<RunbookStep> For(Incident incident, PlanContext? context = null)
    {
        context ??= new PlanContext();
        var t = incident.Targets.Count > 0 ? incident.Targets[0] : new IncidentTarget("unknown", null, "unknown");
        var steps = incident.Type switch
        {
            IncidentType.PodCompromise => PodCompromise(incident.Id, t.Namespace ?? "default", t.Name, context),
            IncidentType.SecretExposed => SecretExposed(t.Namespace ?? "default", t.Name, context),
            IncidentType.UnauthorizedAccess => UnauthorizedAccess(t, context),
            _ => NodeCompromise(incident.Id, t.Name, context),
        };
        return [.. steps.Select((s, i) => s with { Number = i + 1 })];
    }

    /// <summary>A name in a query string, escaped; a placeholder (&lt;each container&gt;) stays readable.</summary>
    private static string Q(string s) => s.StartsWith('<') ? s : Uri.EscapeDataString(s);

    private static IEnumerable<RunbookStep> PodCompromise(string id, string ns, string pod, PlanContext c)
    {
        var policy = "skjold-quarantine-" + id.ToLowerInvariant();
        yield return new RunbookStep(0, "Isolate the pod",
            $"Label the pod {QuarantineLabel}={id} and create NetworkPolicy {policy} that selects that label and allows no ingress and no egress, so the pod keeps running (for evidence) but can talk to nothing.",
            [
                new("PATCH", $"/api/v1/namespaces/{ns}/pods/{pod}", $"merge-patch metadata.labels[{QuarantineLabel}]={id}"),
                new("POST", $"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies", $"{policy}: podSelector {QuarantineLabel}={id}, policyTypes [Ingress, Egress], no rules"),
            ],
            ["patch pods", "create networkpolicies"], Disruptive: true) { Kind = StepKind.IsolatePod };
        var logs = new List<ApiRequest> { new("GET", $"/api/v1/namespaces/{ns}/pods/{pod}") };
        var containers = c.Containers.Count > 0 ? c.Containers : ["<each container>"];
        foreach (var name in containers)
        {
            logs.Add(new("GET", $"/api/v1/namespaces/{ns}/pods/{pod}/log?container={Q(name)}&timestamps=true"));
            logs.Add(new("GET", $"/api/v1/namespaces/{ns}/pods/{pod}/log?container={Q(name)}&previous=true&timestamps=true"));
        }

        logs.Add(new("GET", $"/api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.name%3D{Q(pod)}"));
        logs.Add(new("GET", $"/api/v1/nodes/{c.Node ?? "<the pod's node>"}"));
        yield return new RunbookStep(0, "Capture evidence",
            "Record the pod object and status, the logs of every container (current and previous), its events, its node, the image digests it runs, and the names (never the values) of its service account and mounted secrets; each response is sealed in the trail.",
            logs, ["get pods", "get pods/log", "list events", "get nodes"], Disruptive: false) { Kind = StepKind.CaptureEvidence };
        var exec = new List<ApiRequest>();
        foreach (var name in containers)
        {
            exec.Add(new("POST", $"/api/v1/namespaces/{ns}/pods/{pod}/exec?container={Q(name)}&command=ps&command=-ef&stdout=true&stderr=true"));
            exec.Add(new("POST", $"/api/v1/namespaces/{ns}/pods/{pod}/exec?container={Q(name)}&command=tar&command=cf&command=-&command=/&stdout=true&stderr=true"));
        }

        yield return new RunbookStep(0, "Capture the processes and the filesystem (where exec is permitted)",
            "Through the exec subresource, as kubectl exec does (WebSocket, channel protocol v5): the process list, and a tar of the container's filesystem, stored as evidence with their SHA-256.",
            exec, ["create pods/exec"], Disruptive: false) { Kind = StepKind.CaptureExec };
        yield return new RunbookStep(0, "Check the image's provenance",
            "Verify each image's signature and match its digest to scan results (the supply-chain checks), so the cause (a poisoned image, or a compromise at run time) is known before redeploying.",
            [], [], Disruptive: false, Commands: [.. (c.Images.Count > 0 ? c.Images : ["<each image>"]).Select(i => $"skjold verify-image -c skjold.yaml -n {ns} {i}")]);
        var sa = c.ServiceAccount ?? "<the pod's service account>";
        yield return new RunbookStep(0, "Query the trail for the service account's calls",
            $"Every API call by system:serviceaccount:{ns}:{sa} in the 24 hours before awareness: what the pod's credentials were used for.",
            [], [], Disruptive: false, Commands: [$"skjold audit query --user system:serviceaccount:{ns}:{sa} --since 24h"]);
        yield return new RunbookStep(0, "Delete the pod",
            "Delete the compromised pod (its controller starts a clean one from the verified image); the quarantine policy stays until the incident is closed.",
            [new("DELETE", $"/api/v1/namespaces/{ns}/pods/{pod}", "gracePeriodSeconds=0")], ["delete pods"], Disruptive: true) { Kind = StepKind.DeletePod };
        var secrets = c.MountedSecrets.Count > 0 ? string.Join(", ", c.MountedSecrets) : "<the secrets the pod mounts>";
        yield return new RunbookStep(0, "Rotate the credentials the pod held",
            $"The service account's tokens ({sa}) and the secrets it mounted ({secrets}): rotate them (skjold incident open secret-exposed for each), and anything the logs show it reached.",
            [], [], Disruptive: false, Manual: true);
    }

    private static IEnumerable<RunbookStep> SecretExposed(string ns, string secret, PlanContext c)
    {
        yield return new RunbookStep(0, "Find who can read the secret",
            "Every subject whose RBAC allows get, list or watch on the secret (the authorizer's semantics, escalation paths included), and every workload that mounts it or reads it into its environment.",
            [], [], Disruptive: false,
            Commands: [$"skjold rbac who-can get secrets -n {ns} --name {secret} --cluster", .. c.Readers.Select(r => $"can read: {r}"), .. c.Mounters.Select(m => $"mounted by {m}")]);
        yield return new RunbookStep(0, "Query the trail for every read",
            "Every get, list and watch of the secret, by whom and from which source addresses.",
            [], [], Disruptive: false, Commands: [$"skjold audit query --who-read-secret {ns}/{secret}"]);
        yield return new RunbookStep(0, "Replace the secret's data",
            "The new value is yours (a file or stdin; Skjold never generates or prints it): the Secret object is updated with it, and only its key names are recorded.",
            [new("PATCH", $"/api/v1/namespaces/{ns}/secrets/{secret}", "merge-patch data from --from-file (values not logged)")], ["patch secrets"], Disruptive: true) { Kind = StepKind.ReplaceSecret };
        var restarts = c.Mounters.Count > 0
            ? c.Mounters.Select(m => m.Split('/')).Select(p => new ApiRequest("PATCH", $"/apis/apps/v1/namespaces/{p[1]}/{p[0].ToLowerInvariant()}s/{p[2]}", "merge-patch spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]=now")).ToList()
            : [new ApiRequest("PATCH", $"/apis/apps/v1/namespaces/{ns}/deployments/<each workload mounting the secret>", "merge-patch spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]=now")];
        yield return new RunbookStep(0, "Restart the workloads that mount it",
            "A rolling restart (as kubectl rollout restart does), so no pod keeps the old value.", restarts, ["patch deployments", "patch statefulsets", "patch daemonsets"], Disruptive: true) { Kind = StepKind.RestartMounters };
        yield return new RunbookStep(0, "Review external systems",
            "Revoke or rotate the credential where it is valid outside the cluster (databases, cloud accounts, SaaS), and record which ones.",
            [], [], Disruptive: false, Manual: true);
    }

    private static IEnumerable<RunbookStep> UnauthorizedAccess(IncidentTarget t, PlanContext c)
    {
        var subject = t.Kind switch
        {
            "serviceaccount" => $"system:serviceaccount:{t.Namespace}:{t.Name}",
            "source-ip" => null,
            _ => t.Name,
        };
        yield return new RunbookStep(0, "Identify the session",
            "Source addresses, users and service accounts of the calls, from the trail.",
            [], [], Disruptive: false,
            Commands: [subject is null ? $"skjold audit query --source-ip {t.Name} --since 7d" : $"skjold audit query --user {subject} --since 7d"]);
        var revoke = new List<ApiRequest>();
        foreach (var b in c.Bindings)
        {
            var p = b.Split('/');
            revoke.Add(p[0] == "ClusterRoleBinding"
                ? new ApiRequest("PATCH", $"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{p[^1]}", "json-patch remove the subject (or DELETE the binding when it was the only one)")
                : new ApiRequest("PATCH", $"/apis/rbac.authorization.k8s.io/v1/namespaces/{p[1]}/rolebindings/{p[2]}", "json-patch remove the subject (or DELETE the binding when it was the only one)"));
        }

        if (revoke.Count == 0)
        {
            revoke.Add(new ApiRequest("PATCH", "/apis/rbac.authorization.k8s.io/v1/.../<each binding naming the subject>", "json-patch remove the subject"));
        }

        if (t.Kind == "serviceaccount")
        {
            revoke.Add(new ApiRequest("DELETE", $"/api/v1/namespaces/{t.Namespace}/secrets/<each token secret of {t.Name}>"));
        }

        yield return new RunbookStep(0, "Revoke access",
            "Remove the subject from every binding that names it (delete a binding it alone held), and delete the service account's token secrets, so every credential it had stops working.",
            revoke, ["list rolebindings", "list clusterrolebindings", "patch rolebindings", "patch clusterrolebindings", "delete rolebindings", "delete clusterrolebindings", "list secrets", "delete secrets"], Disruptive: true) { Kind = StepKind.RevokeAccess };
        yield return new RunbookStep(0, "Review what the session did",
            "Every call of the session, flagging new workloads, ConfigMap changes and secret reads: candidates for the other runbooks.",
            [], [], Disruptive: false,
            Commands: [subject is null ? $"skjold audit query --source-ip {t.Name} --verb create --verb update --verb patch --verb delete" : $"skjold audit query --activity-of {subject}",
                subject is null ? $"skjold audit query --source-ip {t.Name} --resource secrets" : $"skjold audit query --user {subject} --resource secrets"]);
        yield return new RunbookStep(0, "If a node credential was used",
            "A kubelet or node identity (system:node:NAME) in the session: open a node-compromise incident for that node.",
            [], [], Disruptive: false, Manual: true);
    }

    private static IEnumerable<RunbookStep> NodeCompromise(string id, string node, PlanContext c)
    {
        yield return new RunbookStep(0, "Cordon the node", "No new pods are scheduled on it.",
            [new("PATCH", $"/api/v1/nodes/{node}", "merge-patch spec.unschedulable=true")], ["patch nodes"], Disruptive: true) { Kind = StepKind.CordonNode };
        var evictions = c.PodsOnNode.Count > 0
            ? c.PodsOnNode.Select(p => p.Split('/')).Select(p => new ApiRequest("POST", $"/api/v1/namespaces/{p[0]}/pods/{p[1]}/eviction", "policy/v1 Eviction")).ToList()
            : [new ApiRequest("POST", "/api/v1/namespaces/<ns>/pods/<each pod on the node>/eviction", "policy/v1 Eviction")];
        yield return new RunbookStep(0, "Drain the node",
            "Evict every pod through the Eviction API, honouring PodDisruptionBudgets (a refusal, 429, is retried until the timeout and then reported), DaemonSet pods excepted.",
            evictions, ["create pods/eviction", "list pods"], Disruptive: true) { Kind = StepKind.DrainNode };
        yield return new RunbookStep(0, "Taint the node", $"Taint skjold.io/compromised={id}:NoExecute, so nothing runs there again.",
            [new("PATCH", $"/api/v1/nodes/{node}", $"strategic-merge spec.taints += skjold.io/compromised={id}:NoExecute")], ["get nodes", "patch nodes"], Disruptive: true) { Kind = StepKind.TaintNode };
        yield return new RunbookStep(0, "List what ran there",
            "The pods that ran on the node, their service accounts and the secrets they mounted: each is a credential the node could have read.",
            [new("GET", $"/api/v1/pods?fieldSelector=spec.nodeName%3D{Q(node)}")], ["list pods"], Disruptive: false,
            Commands: [$"skjold audit query --name {node} --since 7d"]) { Kind = StepKind.ListNodePods };
        yield return new RunbookStep(0, "Terminate the instance at the provider",
            "Replace the machine (terminate the instance, keep its disk image as evidence) at the cloud provider or in the data centre: tick when done.",
            [], [], Disruptive: true, Manual: true);
    }

    /// <summary>The RBAC a responder needs for a plan: the union of its steps' verbs and resources.</summary>
    public static IReadOnlyList<string> Rbac(IReadOnlyList<RunbookStep> steps) =>
        [.. steps.SelectMany(s => s.Rbac).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    internal static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
}
