using System.Globalization;
using System.Net;
using System.Text.Json;
using Skjold.Detection.Falco;

namespace Skjold.Detection.Skjold;

/// <summary>
/// A detection the Falco language cannot express: it remembers what it saw (per identity, per
/// binding) within a window measured on the clock the caller passes (the receiving host's
/// TimeProvider live, each event's own time when hunting over stored events). State is bounded:
/// at most <see cref="MaxTracked"/> keys per rule; beyond that the stalest are forgotten.
/// </summary>
public abstract class StatefulRule
{
    /// <summary>Keys (identities, bindings) one rule keeps state for at most.</summary>
    public const int MaxTracked = 100_000;

    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract FalcoPriority Priority { get; }

    /// <summary>MITRE ATT&amp;CK for Containers technique and the framework controls (framework:control).</summary>
    public abstract IReadOnlyList<string> Tags { get; }

    internal abstract FalcoAlert? Observe(AuditFacts e, DateTimeOffset now);

    protected FalcoAlert Alert(string output) => new(Name, Priority, output, Tags, FalcoRuleSet.Source);

    /// <summary>Keeps a per-key table within <see cref="MaxTracked"/>: drops keys idle longer than the window, then the oldest half.</summary>
    protected static void Bound<T>(Dictionary<string, T> table, Func<T, DateTimeOffset> lastSeen, DateTimeOffset cutoff)
    {
        if (table.Count < MaxTracked)
        {
            return;
        }

        foreach (var key in table.Where(kv => lastSeen(kv.Value) < cutoff).Select(kv => kv.Key).ToList())
        {
            table.Remove(key);
        }

        if (table.Count >= MaxTracked)
        {
            foreach (var key in table.OrderBy(kv => lastSeen(kv.Value)).Take(table.Count / 2).Select(kv => kv.Key).ToList())
            {
                table.Remove(key);
            }
        }
    }

    internal static bool Contains(IReadOnlyList<IPNetwork> ranges, IPAddress ip)
    {
        for (var i = 0; i < ranges.Count; i++)
        {
            if (ranges[i].Contains(ip))
            {
                return true;
            }
        }

        return false;
    }

    internal static string Identity(AuditFacts e) =>
        e.User is "system:anonymous" or null ? $"{e.User ?? "(unknown)"}@{e.SourceIp}" : e.User;
}

/// <summary>One identity reading Secrets in more namespaces than <see cref="Threshold.Count"/> within the window: credential harvesting.</summary>
public sealed class SecretsAcrossNamespacesRule(Threshold threshold) : StatefulRule
{
    private readonly Dictionary<string, List<(string Namespace, DateTimeOffset At)>> _reads = new(StringComparer.Ordinal);

    public override string Name => "Skjold secrets read across namespaces";

    public override string Description => $"one identity read Secrets in more than {threshold.Count} namespaces within {threshold.Within}";

    public override FalcoPriority Priority => FalcoPriority.Critical;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_credential_access", "T1552.007", "iso27001:8.16", "iso27001:5.15", "pci-dss:10.4.1.1", "nis2:21.2.b", "nsm:3.3"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Resource != "secrets" || e.Verb is not ("get" or "list" or "watch") || !e.Succeeded || e.Namespace is null || e.User is null || e.Stage is "RequestReceived")
        {
            return null;
        }

        var who = Identity(e);
        var cutoff = now - threshold.Within;
        Bound(_reads, l => l.Count == 0 ? DateTimeOffset.MinValue : l[^1].At, cutoff);
        if (!_reads.TryGetValue(who, out var list))
        {
            _reads[who] = list = [];
        }

        var ns = e.Namespace;
        list.RemoveAll(r => r.At < cutoff || r.Namespace == ns);
        list.Add((ns, now));
        if (list.Count <= threshold.Count)
        {
            return null;
        }

        var namespaces = string.Join(", ", list.Select(r => r.Namespace).Order(StringComparer.Ordinal));
        _reads.Remove(who); // one alert per burst; the next needs as many namespaces again
        return Alert($"{who} read Secrets in {list.Count} namespaces within {threshold.Within} ({namespaces}); the threshold is {threshold.Count}");
    }
}

/// <summary>At least <see cref="Threshold.Count"/> refusals (401/403) for one identity within the window: probing for permissions or credentials.</summary>
public sealed class ProbingRule(Threshold threshold) : StatefulRule
{
    private readonly Dictionary<string, Queue<DateTimeOffset>> _denials = new(StringComparer.Ordinal);

    /// <summary>Identities with denials remembered (for the memory bound's test).</summary>
    internal int Tracked => _denials.Count;

    public override string Name => "Skjold repeated denials";

    public override string Description => $"one identity refused (401/403) {threshold.Count} times within {threshold.Within}";

    public override FalcoPriority Priority => FalcoPriority.Warning;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_discovery", "T1613", "iso27001:8.16", "pci-dss:10.4.1.1", "nis2:21.2.b", "nsm:3.3"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Code is not (401 or 403) || e.Stage is "RequestReceived")
        {
            return null;
        }

        var who = Identity(e);
        var cutoff = now - threshold.Within;
        Bound(_denials, q => q.Count == 0 ? DateTimeOffset.MinValue : q.Last(), cutoff);
        if (!_denials.TryGetValue(who, out var q))
        {
            _denials[who] = q = new Queue<DateTimeOffset>();
        }

        while (q.TryPeek(out var first) && first < cutoff)
        {
            q.Dequeue();
        }

        q.Enqueue(now);
        if (q.Count < threshold.Count)
        {
            return null;
        }

        _denials.Remove(who);
        return Alert($"{who} was refused {threshold.Count} times within {threshold.Within} (last: {e.Code} on {e.Verb} {e.Resource}{(e.Subresource is null ? "" : "/" + e.Subresource)} from {e.SourceIp})");
    }
}

/// <summary>exec, attach or port-forward into a pod in a production namespace (by name or by labels).</summary>
public sealed class ExecIntoProductionRule(IReadOnlyList<string> namespaces, IReadOnlyDictionary<string, string> labels, Func<string, IReadOnlyDictionary<string, string>?>? namespaceLabels) : StatefulRule
{
    public override string Name => "Skjold exec into production";

    public override string Description => "exec, attach or port-forward into a pod in a production namespace";

    public override FalcoPriority Priority => FalcoPriority.Warning;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_execution", "T1609", "iso27001:8.2", "iso27001:8.16", "pci-dss:7.2.2", "nis2:21.2.i"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Resource != "pods" || e.Subresource is not ("exec" or "attach" or "portforward") || e.Namespace is null || !e.Succeeded || e.Stage is "RequestReceived")
        {
            return null;
        }

        var byName = Glob.Any(namespaces, e.Namespace);
        var byLabels = !byName && labels.Count > 0 && namespaceLabels?.Invoke(e.Namespace) is { } actual && labels.All(l => actual.TryGetValue(l.Key, out var v) && v == l.Value);
        return byName || byLabels
            ? Alert($"{e.User} ran {e.Subresource} into pod {e.Namespace}/{e.Name} in production namespace {e.Namespace} (from {e.SourceIp})")
            : null;
    }
}

/// <summary>A service-account token used from outside the cluster's own ranges: a token taken off a pod or node.</summary>
public sealed class ServiceAccountFromOutsideRule(IReadOnlyList<IPNetwork> clusterCidrs) : StatefulRule
{
    private readonly Dictionary<string, DateTimeOffset> _reported = new(StringComparer.Ordinal);

    public override string Name => "Skjold service account token used from outside the cluster";

    public override string Description => "a service-account token used from a source address outside the configured cluster CIDRs";

    public override FalcoPriority Priority => FalcoPriority.Critical;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_credential_access", "T1528", "iso27001:8.5", "iso27001:8.16", "pci-dss:8.2.2", "nis2:21.2.j"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (clusterCidrs.Count == 0 || e.Stage is "RequestReceived" || !e.IsServiceAccount || e.SourceIp is not { } ip || Contains(clusterCidrs, ip))
        {
            return null;
        }

        var key = $"{e.User}|{ip}";
        Bound(_reported, t => t, now - TimeSpan.FromHours(1));
        if (_reported.TryGetValue(key, out var last) && now - last < TimeSpan.FromHours(1))
        {
            return null; // once an hour per account and address
        }

        _reported[key] = now;
        return Alert($"service account token of {e.User} used from {ip}, outside the cluster CIDRs ({e.Verb} {e.Resource} {e.Namespace}/{e.Name})");
    }
}

/// <summary>A request from outside the allowed source ranges (data residency: access only from the EEA offices and VPNs configured).</summary>
public sealed class OutsideAllowedRangesRule(IReadOnlyList<IPNetwork> allowed) : StatefulRule
{
    private readonly Dictionary<string, DateTimeOffset> _reported = new(StringComparer.Ordinal);

    public override string Name => "Skjold request from outside the allowed source ranges";

    public override string Description => "a request from a source address outside the configured allowed ranges";

    public override FalcoPriority Priority => FalcoPriority.Error;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_initial_access", "T1078", "gdpr:44", "gdpr:32", "iso27001:5.15", "nsm:2.2", "nis2:21.2.i"];

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (allowed.Count == 0 || e.Stage is "RequestReceived" || e.SourceIp is not { } ip || Contains(allowed, ip))
        {
            return null;
        }

        var key = $"{e.User}|{ip}";
        Bound(_reported, t => t, now - TimeSpan.FromHours(1));
        if (_reported.TryGetValue(key, out var last) && now - last < TimeSpan.FromHours(1))
        {
            return null;
        }

        _reported[key] = now;
        return Alert($"{e.User} reached the API from {ip}, outside the allowed source ranges ({e.Verb} {e.Resource}); reported once an hour per identity and address");
    }
}

/// <summary>
/// A new RoleBinding or ClusterRoleBinding, then its subject using the permission it grants within the
/// window: the two steps of privilege escalation through RBAC. The role's rules are taken from the
/// role's own create or update events in the stream when seen (Request level or above); a role not
/// seen counts any successful request by the subject in the binding's scope.
/// </summary>
public sealed class NewBindingUsedRule(TimeSpan within) : StatefulRule
{
    private readonly Dictionary<string, List<RbacRule>> _roles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    public override string Name => "Skjold new binding used";

    public override string Description => $"a new (Cluster)RoleBinding whose subject uses the permission within {within}";

    public override FalcoPriority Priority => FalcoPriority.Warning;

    public override IReadOnlyList<string> Tags { get; } = ["skjold", "k8s", "mitre_privilege_escalation", "T1098", "iso27001:5.18", "iso27001:8.2", "pci-dss:7.2.4", "nis2:21.2.i"];

    private sealed record RbacRule(IReadOnlyList<string> Verbs, IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Names);

    private sealed record Grant(string Binding, string? Namespace, string RoleKey, string Subject, string SubjectKind, DateTimeOffset At);

    internal override FalcoAlert? Observe(AuditFacts e, DateTimeOffset now)
    {
        if (e.Stage is "RequestReceived")
        {
            return null;
        }

        if (e.Succeeded && e.Verb is "create" or "update" or "patch" && e.Resource is "roles" or "clusterroles" && RequestObject(e) is { } role)
        {
            var key = RoleKey(e.Resource == "roles" ? "Role" : "ClusterRole", e.Resource == "roles" ? e.Namespace : null, e.Name ?? Str(Meta(role), "name"));
            if (key is not null)
            {
                _roles[key] = Rules(role);
                Bound(_roles, _ => DateTimeOffset.MinValue, now);
            }

            return null;
        }

        if (e.Succeeded && e.Verb == "create" && e.Resource is "rolebindings" or "clusterrolebindings" && RequestObject(e) is { } binding)
        {
            var ns = e.Resource == "rolebindings" ? e.Namespace : null;
            var name = e.Name ?? Str(Meta(binding), "name") ?? "?";
            if (!binding.TryGetProperty("roleRef", out var roleRef) || !binding.TryGetProperty("subjects", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var roleKind = Str(roleRef, "kind") ?? "ClusterRole";
            var roleKey = RoleKey(roleKind, roleKind == "Role" ? ns : null, Str(roleRef, "name"));
            foreach (var s in subjects.EnumerateArray())
            {
                var kind = Str(s, "kind");
                var subject = kind switch
                {
                    "ServiceAccount" => $"system:serviceaccount:{Str(s, "namespace") ?? ns}:{Str(s, "name")}",
                    "User" or "Group" => Str(s, "name"),
                    _ => null,
                };
                if (subject is not null && roleKey is not null)
                {
                    _grants[$"{kind}|{subject}|{e.Resource}|{ns}|{name}"] = new Grant($"{(ns is null ? "clusterrolebinding" : "rolebinding " + ns + "/")}{name}", ns, roleKey, subject, kind!, now);
                }
            }

            Bound(_grants, g => g.At, now - within);
            return null;
        }

        if (_grants.Count == 0 || !e.Succeeded || e.User is null)
        {
            return null;
        }

        foreach (var (key, g) in _grants)
        {
            if (now - g.At > within)
            {
                continue;
            }

            var holds = g.SubjectKind == "Group" ? e.Groups.Contains(g.Subject, StringComparer.Ordinal) : e.User == g.Subject;
            if (!holds || (g.Namespace is not null && e.Namespace != g.Namespace))
            {
                continue;
            }

            var known = _roles.TryGetValue(g.RoleKey, out var rules);
            if (known && !AllowsAny(rules!, e))
            {
                continue;
            }

            _grants.Remove(key); // reported once per binding and subject
            var age = (now - g.At).TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture);
            return Alert($"{e.User} used {g.Binding} ({g.RoleKey}) {age} min after it was created: {e.Verb} {e.Resource}{(e.Subresource is null ? "" : "/" + e.Subresource)} {e.Namespace}/{e.Name}{(known ? "" : " (the role's rules were not seen; any request counts)")}");
        }

        return null;
    }

    private static bool AllowsAny(List<RbacRule> rules, AuditFacts e)
    {
        foreach (var r in rules)
        {
            if (Allows(r, e))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Allows(RbacRule r, AuditFacts e)
    {
        var resource = e.Subresource is null ? e.Resource : $"{e.Resource}/{e.Subresource}";
        return (r.Verbs.Contains("*") || r.Verbs.Contains(e.Verb ?? ""))
            && (r.ApiGroups.Contains("*") || r.ApiGroups.Contains(e.ApiGroup ?? ""))
            && (r.Resources.Contains("*") || r.Resources.Contains(resource ?? "") || (e.Subresource is not null && r.Resources.Contains($"*/{e.Subresource}")))
            && (r.Names.Count == 0 || (e.Name is not null && r.Names.Contains(e.Name)));
    }

    private static List<RbacRule> Rules(JsonElement role)
    {
        var list = new List<RbacRule>();
        if (role.TryGetProperty("rules", out var rules) && rules.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in rules.EnumerateArray())
            {
                list.Add(new RbacRule(Strings(r, "verbs"), Strings(r, "apiGroups"), Strings(r, "resources"), Strings(r, "resourceNames")));
            }
        }

        return list;
    }

    private static List<string> Strings(JsonElement o, string name) =>
        o.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? [.. a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)] : [];

    private static JsonElement? RequestObject(AuditFacts e) =>
        e.Event.TryGetProperty("requestObject", out var r) && r.ValueKind == JsonValueKind.Object ? r
        : e.Event.TryGetProperty("responseObject", out var s) && s.ValueKind == JsonValueKind.Object ? s : null;

    private static JsonElement Meta(JsonElement o) => o.TryGetProperty("metadata", out var m) ? m : default;

    private static string? Str(JsonElement o, string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? RoleKey(string kind, string? ns, string? name) => name is null ? null : ns is null ? $"{kind} {name}" : $"{kind} {ns}/{name}";
}
